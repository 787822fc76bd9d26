"""Push and pull: the pipeline, the Docker host, the pull agent and Flux."""
