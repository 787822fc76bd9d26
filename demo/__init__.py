"""The lab: clusters, a registry and a git server to run push and pull delivery for real.

Nothing here imports the site's generator: the site reads the lab's results from files.
"""
