#!/bin/sh
# Host part of `make provision` and `make test`: the Debian packages the lab (and, with
# --browser, the browser checks) need, and a running Docker engine. It installs as root, or
# through sudo when sudo needs no password; otherwise it stops with one message that lists
# exactly what to run.
set -eu
# --browser: also what the browser checks need; --node-image: also what building the kind node
# image needs (demo/clusters/kind/nodeimage.py: debootstrap, and a C compiler for pause).
browser=no
node_image=no
for flag in "$@"; do
  case "$flag" in
    --browser) browser=yes ;;
    --node-image) node_image=yes ;;
    *) echo "host: unknown flag $flag (expected --browser or --node-image)" >&2; exit 2 ;;
  esac
done

need=""
command -v docker >/dev/null || need="$need docker.io"
command -v dockerd >/dev/null || need="$need docker.io"
command -v docker-registry >/dev/null || need="$need docker-registry"
command -v git >/dev/null || need="$need git"
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need="$need busybox-static"
[ "$browser" = no ] || [ -x /usr/bin/chromium ] || need="$need chromium"
# Arial's metrics, as readers' browsers lay the site out (its font stack is Helvetica, Arial,
# sans-serif): without it a page falls back to the wider DejaVu Sans and the layout checks
# measure a page no reader sees. Chromium only recommends it, and recommends are not installed.
[ "$browser" = no ] || [ -e /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] \
  || need="$need fonts-liberation"
# FriBiDi, which Pillow's raqm layout loads to draw Hebrew and Arabic captions.
# (ls of both paths failed whenever one was missing, so it was installed again at every run.)
[ -e /usr/lib/libfribidi.so.0 ] || ls /usr/lib/*/libfribidi.so.0 >/dev/null 2>&1 \
  || need="$need libfribidi0"
[ "$browser" = no ] || command -v npm >/dev/null || need="$need npm"
if [ "$node_image" = yes ]; then
  command -v debootstrap >/dev/null || need="$need debootstrap"
  command -v gcc >/dev/null || need="$need gcc libc6-dev"
  command -v strip >/dev/null || need="$need binutils"
  [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib/aarch64-linux-gnu/libc.a ] \
    || need="$need libc6-dev"
fi
need=$(printf '%s\n' $need | sort -u | tr '\n' ' ' | sed 's/ *$//')

if [ "$(id -u)" = 0 ]; then
  as_root=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
else
  as_root="none"
fi

docker_up() { docker version >/dev/null 2>&1; }
todo=""
[ -z "$need" ] || todo="sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need"
if [ "$as_root" = none ]; then
  if ! docker_up; then
    if docker version 2>&1 | grep -qi 'permission denied'; then
      start="sudo usermod -aG docker $(id -un) (then log in again)"
    else
      start="sudo systemctl start docker (or: sudo dockerd &)"
    fi
    todo="${todo:+$todo; }$start"
  fi
  if [ -n "$todo" ]; then
    echo "host: this machine needs setting up, and that needs root. Run:" >&2
    echo "  $todo" >&2
    echo "then run the same make command again." >&2
    exit 1
  fi
  as_root=""  # nothing to do that needs root
elif [ -n "$need" ]; then
  command -v apt-get >/dev/null || { echo "host: please install:$need" >&2; exit 1; }
  echo "host: installing $need"
  $as_root apt-get update -qq
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

# Debian's docker-registry package may start a system registry on :5000 (all interfaces);
# the lab runs its own on loopback, so stop that one if it came up.
if command -v service >/dev/null && $as_root service docker-registry status >/dev/null 2>&1; then
  $as_root service docker-registry stop >/dev/null 2>&1 || true
fi
if ! docker_up; then
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $as_root systemctl start docker
  else
    echo "host: starting dockerd"
    $as_root sh -c 'nohup dockerd >/var/log/tellit-dockerd.log 2>&1 &'
  fi
  i=0
  until docker_up || $as_root docker version >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -le 60 ] || { echo "host: dockerd did not start, see /var/log/tellit-dockerd.log" >&2; exit 1; }
    sleep 0.5
  done
fi
if ! docker_up; then
  echo "host: Docker runs, but not for $(id -un): sudo usermod -aG docker $(id -un), then log in again" >&2
  exit 1
fi
echo "host: docker $(docker version --format '{{.Server.Version}}') running${need:+; installed $need}"
