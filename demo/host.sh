#!/bin/sh
# Host part of `make provision`: Debian packages the lab needs, and a running Docker engine.
# Installs only as root on Debian-like systems; elsewhere it says what to install.
set -eu
need=""
command -v docker >/dev/null || need="$need docker.io"
command -v dockerd >/dev/null || need="$need docker.io"
command -v docker-registry >/dev/null || need="$need docker-registry"
command -v git >/dev/null || need="$need git"
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need="$need busybox-static"
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "provision: installing$need"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
  else
    echo "provision: please install$need (Debian/Ubuntu: sudo apt-get install$need)" >&2
    exit 1
  fi
fi
# Debian's docker-registry package may start a system registry on :5000 (all interfaces);
# the lab runs its own on loopback, so stop that one if it came up.
if command -v service >/dev/null && service docker-registry status >/dev/null 2>&1; then
  service docker-registry stop >/dev/null 2>&1 || true
fi
if ! docker version >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "provision: starting dockerd"
    nohup dockerd >/var/log/tellit-dockerd.log 2>&1 &
    i=0
    until docker version >/dev/null 2>&1; do
      i=$((i + 1))
      [ "$i" -le 60 ] || { echo "provision: dockerd did not start, see /var/log/tellit-dockerd.log" >&2; exit 1; }
      sleep 0.5
    done
  else
    echo "provision: Docker is installed but not running: start it (sudo systemctl start docker)" >&2
    exit 1
  fi
fi
echo "provision: docker $(docker version --format '{{.Server.Version}}') running"
