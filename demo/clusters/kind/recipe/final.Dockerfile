FROM {assembled}
LABEL tell-it-with-a-meme/node-image={key}
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/tellit-entry", "/sbin/init"]
CMD []
