FROM {rootfs}
COPY files/ /
COPY bin/ /usr/bin/
COPY local/ /usr/local/bin/
RUN chmod 755 /kind /kind/bin /kind/bin/* /usr/local/bin/* \
 && ctr oci spec \
    | jq '.hooks.createContainer[.hooks.createContainer | length] |= . + \
          {{"path": "/kind/bin/mount-product-files.sh"}}' \
    | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json \
 && mkdir -p /opt/cni/bin /etc/kubernetes/manifests \
 && for plugin in /usr/lib/cni/*; do ln -sf "$plugin" /opt/cni/bin/; done \
 && find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete \
 && rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
    /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
    /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/* \
 && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \
 && ln -sf /usr/lib/systemd/systemd /sbin/init \
 && systemctl enable kubelet.service containerd.service undo-mount-hacks.service \
 && systemctl mask systemd-binfmt.service systemd-sysctl.service
ENV container=docker
