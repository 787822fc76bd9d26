# The lab's git server as a container, for readers on kind: pods reach it on the kind network.
# Build from the project's root: docker build -t tellit-gitserver:dev -f demo/gitserver.Dockerfile .
FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/*
COPY requirements/lab.lock /tmp/lab.lock
RUN pip install --no-cache-dir "$(grep '^requests==' /tmp/lab.lock)"
COPY demo /app/demo
WORKDIR /app
ENV PYTHONPATH=/app
USER 65534:65534
EXPOSE 8080
# Inside its own network namespace it listens on all of the container's addresses; the host
# publishes the port on 127.0.0.1 only (see demo.gitserver.kind_git_run_command).
CMD ["python", "-m", "demo.gitserver", "--root", "/srv/git/repos", "--port", "8080", \
     "--tokens", "/srv/git/tokens.json", "--log", "/srv/git/access.log", "--bind", "0.0.0.0"]
