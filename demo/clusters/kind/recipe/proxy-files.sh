set -eu
mkdir -p /out/usr/sbin
copy() { cp --parents -L "$1" /out; }
for program in /usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi /usr/sbin/nft \
    /usr/sbin/conntrack $(ls /usr/lib/*-linux-gnu/xtables/*.so); do
  copy "$program"
  for lib in $(ldd "$program" | grep -o '/[^ ]*'); do copy "$lib"; done
done
for name in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -s xtables-nft-multi "/out/usr/sbin/$name"
  ln -s xtables-legacy-multi "/out/usr/sbin/${name%%-*}-legacy${name#*tables}"
  ln -s xtables-nft-multi "/out/usr/sbin/${name%%-*}-nft${name#*tables}"
done
mkdir -p /out/etc /out/tmp /out/run /out/var/run
[ ! -e /etc/protocols ] || cp /etc/protocols /out/etc/
