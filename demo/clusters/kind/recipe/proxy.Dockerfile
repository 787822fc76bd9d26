FROM {rootfs} AS full
LABEL tell-it-with-a-meme/node-build={key}
COPY collect.sh /collect.sh
RUN sh /collect.sh
FROM scratch
COPY --from=full /out/ /
COPY kube-proxy /usr/local/bin/kube-proxy
ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
