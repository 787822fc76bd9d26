"""The lab's git server, by job: `http` (the bridge in front of git http-backend, which
faces the network), `accesslog` (what each request cost: the polling-load numbers),
`server` (the lab's handle on it: start, stop, repositories, tokens, subscribers), `hook`
(the post-receive hook) and `__main__` (the server process).
"""
