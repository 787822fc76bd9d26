#!/bin/sh
# The node's first process, before kind's entrypoint. Started without --privileged (see
# demo/clusters/kind/shim.py), /sys and the cgroup mounts are read-only: make them writable inside
# the node. kubelet writes host-wide sysctls: show it, from files, the values it wants, so the host
# keeps its own. systemd-sysctl is masked for the same reason; kind's network sysctls (all per
# network namespace) are applied here instead.
set -eu
awk '($5 == "/sys" || $5 ~ "^/sys/fs/cgroup") && $6 ~ "^ro(,|$)" { print $5 }' \
  /proc/self/mountinfo | while read -r point; do mount -o remount,bind,rw "$point"; done
mkdir -p /run/tellit-sysctl
while read -r name value; do
  [ -e "/proc/sys/$name" ] || continue
  file="/run/tellit-sysctl/$(echo "$name" | tr / .)"
  printf '%s\n' "$value" > "$file"
  mount --bind "$file" "/proc/sys/$name"
done <<'EOF'
@SYSCTLS@
EOF
for conf in /etc/sysctl.d/10-network-*.conf; do sysctl -q -p "$conf" || true; done
exec /usr/local/bin/entrypoint "$@"
