#!/usr/bin/env bash
# The ../shared/peers `switchyard` target with tracing on, for `bench.sh --cmd`:
#   bench.sh --name switchyard-traced \
#     --cmd "$PWD/benches/peers/run-traced.sh {port} {upstream} {client_key} {upstream_key} {work}" \
#     switchyard nginx
# Start the OTLP sink first (outside the measured process tree):
#   nginx -c "$PWD/benches/peers/otlp-sink.conf"
# SWITCHYARD_BIN: the release binary (default: switchyard on PATH).
set -euo pipefail
port=$1 upstream=$2 work=$5
here=$(cd "$(dirname "$0")" && pwd)
sed -e "s|@ADMIN_PORT@|$((port + 1))|; s|@PORT@|$port|; s|@UPSTREAM@|$upstream|; s|@SINK@|127.0.0.1:4318|" \
  "$here/traced.yaml.tmpl" >"$work/switchyard-traced.yaml"
export BENCH_CLIENT_KEY=$3 BENCH_UPSTREAM_KEY=$4 RUST_LOG=warn
exec "${SWITCHYARD_BIN:-switchyard}" --config "$work/switchyard-traced.yaml"
