"""The lab's services on the host: the image registry, the git server and its hook."""
