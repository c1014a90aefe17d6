# imageopto server image: a static binary on an empty base, run as a
# non-root user. Build from the repository root:
#
#   docker build -t imageopto .
#   docker run --rm -p 8080:8080 -e IMAGEOPTO_ORIGIN=https://origin.example.com imageopto
#
# Configure it with IMAGEOPTO_* environment variables (one per flag; see
# `docker run --rm imageopto -h`) or with flags after the image name.
#
# Without access to a registry (this file's build stage pulls golang:1.26),
# deploy/Containerfile.local packages a binary built locally the same way.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# full brings every optional part (Redis, S3, Prometheus metrics, the peer
# cluster, the WebAssembly codecs); nodynamic keeps the WebAssembly codecs
# pure Go (no attempt to load system libraries, which the final image does
# not have).
RUN CGO_ENABLED=0 go build -trimpath -tags nodynamic,full -ldflags="-s -w" -o /out/imageopto ./cmd/imageopto

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/imageopto /imageopto
USER 65532:65532
ENV IMAGEOPTO_ADDR=:8080 \
    IMAGEOPTO_METRICS_ADDR=:9090 \
    IMAGEOPTO_LOG_FORMAT=json
EXPOSE 8080 9090
HEALTHCHECK --interval=15s --timeout=4s --start-period=10s --retries=3 CMD ["/imageopto", "healthcheck"]
ENTRYPOINT ["/imageopto"]
