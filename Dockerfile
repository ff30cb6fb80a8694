# syntax=docker/dockerfile:1
#
# Switchyard image: a release build of the `switchyard` binary on distroless (glibc, no shell,
# non-root uid 65532).
#
#   docker build -t switchyard:0.1.0 .
#   docker run --rm switchyard:0.1.0 --version                      # smoke test
#   docker run --rm -p 8080:8080 -p 9901:9901 -v "$PWD/deploy:/etc/switchyard:ro" \
#     -e OPENAI_API_KEY -e ANTHROPIC_API_KEY -e SUPPORT_APP_KEY -e BATCH_JOBS_KEY \
#     switchyard:0.1.0 --config /etc/switchyard/openai-anthropic-failover.yaml
#
# Health: distroless has no shell or curl, so there is no HEALTHCHECK here. Orchestrators probe
# the admin listener (server.admin_listen, 9901 in the examples) over HTTP instead:
#   GET /healthz  liveness  (the process is up)
#   GET /readyz   readiness (config loaded, listener up; 503 while draining after SIGTERM)
# The Helm chart (helm/switchyard) wires these as startup, liveness and readiness probes.
#
# The binary writes nothing to disk: run it with a read-only root filesystem.

FROM rust:1.95-bookworm AS builder
# pingora's zlib-ng build needs cmake.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Caches speed up rebuilds; the binary is copied out of the cached target dir in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p switchyard \
 && install -D -m 0755 target/release/switchyard /out/switchyard \
 && /out/switchyard --version

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/switchyard /switchyard
USER nonroot
EXPOSE 8080 9901
ENTRYPOINT ["/switchyard"]
