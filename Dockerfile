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
# Run with no config, the gateway serves its embedded default on 127.0.0.1 only (it has no
# gateway auth, so it never listens beyond loopback by itself), which nothing outside the
# container can reach; it logs a warning saying so. To serve from a container, mount a config
# whose server.listen is 0.0.0.0:8080 and which has auth.keys, as in the run line above (the
# examples in deploy/ do), or use the Helm chart, which renders one.
#
# Health: distroless has no shell or curl, so there is no HEALTHCHECK here. Orchestrators probe
# the admin listener (server.admin_listen, 9901 in the examples) over HTTP instead:
#   GET /healthz  liveness  (the process is up)
#   GET /readyz   readiness (config loaded, listener up; 503 while draining after SIGTERM)
# The Helm chart (helm/switchyard) wires these as startup, liveness and readiness probes.
#
# The binary writes nothing to disk: run it with a read-only root filesystem.

# Base images are pinned by digest (the multi-platform index digests of rust:1.95-bookworm and
# gcr.io/distroless/cc-debian12:nonroot), so a rebuild gets the same bytes. To move them:
#   docker buildx imagetools inspect rust:1.95-bookworm   (and the distroless tag)
# and replace the sha256 below (Renovate and Dependabot do this on their own).
ARG RUST_IMAGE=rust:1.95-bookworm@sha256:6258907abe69656e41cd992e0b705cdcfabcbbe3db374f92ed2d47121282d4a1
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f

FROM ${RUST_IMAGE} AS builder
# pingora's zlib-ng build needs cmake.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Caches speed up rebuilds; the binary is copied out of the cached target dir in the same step.
# REVISION (the git commit) becomes the `revision` label of switchyard_build_info.
ARG REVISION=unknown
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    SWITCHYARD_REVISION="${REVISION}" cargo build --release --locked -p switchyard \
 && install -D -m 0755 target/release/switchyard /out/switchyard \
 && /out/switchyard --version

FROM ${RUNTIME_IMAGE}
# Set at build time: docker build --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="switchyard" \
      org.opencontainers.image.description="An LLM gateway: one OpenAI- and Anthropic-compatible endpoint in front of many providers" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"
COPY --from=builder /out/switchyard /switchyard
USER nonroot
EXPOSE 8080 9901
ENTRYPOINT ["/switchyard"]
