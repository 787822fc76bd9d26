FROM scratch
COPY {binary} /usr/local/bin/{binary}
ENV PATH=/usr/local/bin
{entrypoint}
