"""A faithful OTLP trace receiver for the end-to-end tests: OTLP/HTTP (protobuf, optionally
gzip) and OTLP/gRPC (grpcio) on loopback port 0, decoding each ExportTraceServiceRequest with
the official generated classes of the `opentelemetry-proto` package.

Usage: otlp_receiver.py OUT_FILE [--fail-first N] [--retry-after SECONDS] [--tls CERT KEY]
Prints one JSON line {"http": PORT, "grpc": PORT} once both listen, then appends one JSON line
per received span to OUT_FILE (ids in lowercase hex, attributes as plain values, the export's
transport and request headers alongside) until it is killed. Each export is also logged to
OUT_FILE.exports ({"transport", "answer", "time"}).

--fail-first N: the first N exports are refused as a collector that is briefly unavailable
  would: HTTP 503 (with Retry-After when --retry-after is given), gRPC UNAVAILABLE.
--tls CERT KEY: both listeners speak TLS only, with this certificate chain and key (PEM).
"""

import argparse
import gzip
import http.server
import json
import ssl
import sys
import threading
import time
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

ARGS = argparse.ArgumentParser()
ARGS.add_argument("out")
ARGS.add_argument("--fail-first", type=int, default=0)
ARGS.add_argument("--retry-after", type=int)
ARGS.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
ARGS = ARGS.parse_args()
OUT = ARGS.out
LOCK = threading.Lock()
EXPORTS = [0]


def refuse(transport):
    """Whether this export is one of the first --fail-first, logging it either way."""
    with LOCK:
        EXPORTS[0] += 1
        refused = EXPORTS[0] <= ARGS.fail_first
        with open(OUT + ".exports", "a") as f:
            f.write(json.dumps({"transport": transport, "answer": "refused" if refused else "ok",
                                "time": time.time()}) + "\n")
    return refused


def any_value(v):
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if kind is None:
        return None
    return getattr(v, kind)


def attrs(kvs):
    out = {}
    for kv in kvs:
        if kv.key in out:
            raise ValueError(f"attribute {kv.key} twice")
        out[kv.key] = any_value(kv.value)
    return out


def record(req, transport, headers):
    lines = []
    for rs in req.resource_spans:
        resource = attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                lines.append(json.dumps({
                    "transport": transport,
                    "headers": headers,
                    "resource": resource,
                    "scope": ss.scope.name,
                    "scope_version": ss.scope.version,
                    "trace_id": s.trace_id.hex(),
                    "span_id": s.span_id.hex(),
                    "parent_span_id": s.parent_span_id.hex(),
                    "trace_state": s.trace_state,
                    "flags": s.flags,
                    "name": s.name,
                    "kind": s.kind,
                    "start": s.start_time_unix_nano,
                    "end": s.end_time_unix_nano,
                    "attributes": attrs(s.attributes),
                    "events": [{"name": e.name, "time": e.time_unix_nano,
                                "attributes": attrs(e.attributes)} for e in s.events],
                    "status": {"code": s.status.code, "message": s.status.message},
                }))
    with LOCK, open(OUT, "a") as f:
        for line in lines:
            f.write(line + "\n")


class Http(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.path != "/v1/traces" or headers.get("content-type") != "application/x-protobuf":
            self.reply(404 if self.path != "/v1/traces" else 415, b"")
            return
        if refuse("http"):
            extra = {} if ARGS.retry_after is None else {"retry-after": str(ARGS.retry_after)}
            self.reply(503, b"", extra)
            return
        if headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        req = trace_service_pb2.ExportTraceServiceRequest()
        try:
            req.ParseFromString(body)
            record(req, "http", headers)
        except Exception as e:  # a malformed export is the test's failure: say so
            sys.stderr.write(f"undecodable export: {e}\n")
            self.reply(400, b"")
            return
        self.reply(200, trace_service_pb2.ExportTraceServiceResponse().SerializeToString())

    def reply(self, status, body, extra=None):
        self.send_response(status)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Grpc(trace_service_pb2_grpc.TraceServiceServicer):
    def Export(self, request, context):
        headers = {k: v for k, v in context.invocation_metadata()}
        if refuse("grpc"):
            context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        record(request, "grpc", headers)
        return trace_service_pb2.ExportTraceServiceResponse()


def main():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Http)
    if ARGS.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*ARGS.tls)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Grpc(), server)
    if ARGS.tls:
        cert, key = (open(p, "rb").read() for p in ARGS.tls)
        creds = grpc.ssl_server_credentials([(key, cert)])
        grpc_port = server.add_secure_port("127.0.0.1:0", creds)
    else:
        grpc_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(json.dumps({"http": httpd.server_address[1], "grpc": grpc_port}), flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
