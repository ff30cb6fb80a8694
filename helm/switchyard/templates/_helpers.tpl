{{/*
Names and labels.
*/}}
{{- define "switchyard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "switchyard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "switchyard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "switchyard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchyard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "switchyard.labels" -}}
helm.sh/chart: {{ include "switchyard.chart" . }}
{{ include "switchyard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The label on every pod that runs the gateway (the chart's own, and yours when you include the
sidecar in your chart): the PodMonitor selects it.
*/}}
{{- define "switchyard.podLabels" -}}
switchyard.dev/gateway: {{ include "switchyard.fullname" . }}
{{- end }}

{{- define "switchyard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "switchyard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "switchyard.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/*
The gateway's config file, rendered from .Values.config with the chart's defaults filled in,
and checked: auth is required when the API listens beyond loopback (keys, or an explicit
`auth: {disabled: true}`, as the gateway itself demands), secrets may only be referenced,
and every variable the config names must be provided to the container.
*/}}
{{- define "switchyard.config" -}}
{{- $cfg := deepCopy (.Values.config | default (.Files.Get "files/example-config.yaml" | fromYaml)) }}
{{- $server := deepCopy (get $cfg "server" | default dict) }}
{{- $_ := set $server "listen" (get $server "listen" | default "0.0.0.0:8080") }}
{{- $_ := set $server "admin_listen" (get $server "admin_listen" | default "0.0.0.0:9901") }}
{{- if not (hasKey $server "shutdown_grace") }}
{{- $_ := set $server "shutdown_grace" (printf "%ds" (int .Values.drain.shutdownGraceSeconds)) }}
{{- end }}
{{- $_ := set $cfg "server" $server }}
{{- if not (hasKey $cfg "version") }}
{{- $_ := set $cfg "version" 1 }}
{{- end }}
{{- $host := regexReplaceAll ":[0-9]+$" (toString $server.listen) "" }}
{{- $loopback := or (hasPrefix "127." $host) (eq $host "localhost") (eq $host "[::1]") }}
{{- $auth := get $cfg "auth" | default dict }}
{{- if and (not $loopback) (not (get $auth "keys")) (not (get $auth "disabled")) }}
{{- fail (printf "config.auth.keys is required: server.listen %s is reachable beyond loopback (or say auth: {disabled: true} explicitly)" (toString $server.listen)) }}
{{- end }}
{{- $provided := list }}
{{- range (.Values.secrets | default dict).env }}{{ $provided = append $provided .name }}{{ end }}
{{- range .Values.extraEnv }}{{ $provided = append $provided .name }}{{ end }}
{{- $needed := list }}
{{- range $i, $k := (get $auth "keys" | default list) }}
{{- if hasKey $k "key" }}{{ fail (printf "config.auth.keys[%d].key: no literal keys in values; use key_env with secrets.env, or key_file with secrets.files" $i) }}{{ end }}
{{- if $k.key_env }}{{ $needed = append $needed $k.key_env }}{{ end }}
{{- end }}
{{- range $i, $p := (get $cfg "providers" | default list) }}
{{- if hasKey $p "api_key" }}{{ fail (printf "config.providers[%d].api_key: no literal keys in values; use api_key_env with secrets.env, or api_key_file with secrets.files" $i) }}{{ end }}
{{- if $p.api_key_env }}{{ $needed = append $needed $p.api_key_env }}{{ end }}
{{- end }}
{{- with (get $cfg "state") }}
{{- if hasKey . "url" }}{{ fail "config.state.url: no literal URLs (they carry passwords) in values; use url_env with secrets.env" }}{{ end }}
{{- if .url_env }}{{ $needed = append $needed .url_env }}{{ end }}
{{- end }}
{{- range $needed }}
{{- if not (has . $provided) }}
{{- fail (printf "the config reads the environment variable %s: add it to secrets.env (existingSecret + key)" .) }}
{{- end }}
{{- end }}
{{- /* Known sections first, in the contract's order, then anything else. */}}
{{- $order := list "version" "server" "auth" "providers" "models" "routes" "state" "filters" }}
{{- range $order }}
{{- if hasKey $cfg . }}
{{ toYaml (dict . (get $cfg .)) }}
{{- end }}
{{- end }}
{{- range $k, $v := $cfg }}
{{- if not (has $k $order) }}
{{ toYaml (dict $k $v) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The port of a host:port string. */}}
{{- define "switchyard.port" -}}
{{- regexFind "[0-9]+$" (toString .) | int }}
{{- end }}

{{- define "switchyard.apiPort" -}}
{{- $cfg := include "switchyard.config" . | fromYaml }}
{{- include "switchyard.port" $cfg.server.listen }}
{{- end }}

{{- define "switchyard.adminPort" -}}
{{- $cfg := include "switchyard.config" . | fromYaml }}
{{- include "switchyard.port" $cfg.server.admin_listen }}
{{- end }}

{{/*
server.shutdown_grace in whole seconds (rounded up). Accepts humantime strings made of
<integer><unit> parts, units ms, s, m, h (e.g. 20s, 1m30s, 1500ms).
*/}}
{{- define "switchyard.shutdownGraceSeconds" -}}
{{- $cfg := include "switchyard.config" . | fromYaml }}
{{- $raw := toString $cfg.server.shutdown_grace | nospace }}
{{- if not (regexMatch "^([0-9]+(ms|s|m|h))+$" $raw) }}
{{- fail (printf "server.shutdown_grace %q: use <integer><ms|s|m|h> parts such as 20s or 1m30s so the chart can size terminationGracePeriodSeconds" $raw) }}
{{- end }}
{{- $ms := 0 }}
{{- range regexFindAll "[0-9]+(ms|s|m|h)" $raw -1 }}
{{- $n := regexFind "^[0-9]+" . | int }}
{{- $unit := regexReplaceAll "^[0-9]+" . "" }}
{{- if eq $unit "ms" }}{{ $ms = add $ms $n }}
{{- else if eq $unit "s" }}{{ $ms = add $ms (mul $n 1000) }}
{{- else if eq $unit "m" }}{{ $ms = add $ms (mul $n 60000) }}
{{- else }}{{ $ms = add $ms (mul $n 3600000) }}
{{- end }}
{{- end }}
{{- div (add $ms 999) 1000 }}
{{- end }}

{{/*
Whether the gateway runs as a native sidecar (an init container with restartPolicy: Always):
sidecar mode, sidecar.native, and a cluster that has them (Kubernetes >= 1.29; before that the
kubelet ignores the restartPolicy and the pod never gets past its init containers).
*/}}
{{- define "switchyard.nativeSidecar" -}}
{{- if and (eq .Values.mode "sidecar") .Values.sidecar.native (semverCompare ">=1.29.0-0" .Capabilities.KubeVersion.Version) }}true{{ end }}
{{- end }}

{{/* Whether the preStop sleep is rendered: not for a native sidecar (it stops after the app). */}}
{{- define "switchyard.preStopEnabled" -}}
{{- if and (gt (int .Values.drain.preStopSleepSeconds) 0) (semverCompare ">=1.30.0-0" .Capabilities.KubeVersion.Version) (not (include "switchyard.nativeSidecar" .)) }}true{{ end }}
{{- end }}

{{- define "switchyard.terminationGracePeriodSeconds" -}}
{{- if not (kindIs "invalid" .Values.drain.terminationGracePeriodSeconds) }}
{{- .Values.drain.terminationGracePeriodSeconds | int }}
{{- else }}
{{- $total := add (include "switchyard.shutdownGraceSeconds" . | int) (int .Values.drain.marginSeconds) }}
{{- if include "switchyard.preStopEnabled" . }}{{ $total = add $total (int .Values.drain.preStopSleepSeconds) }}{{ end }}
{{- $total }}
{{- end }}
{{- end }}

{{/* Pod annotations: Prometheus scraping of the admin port, optional config checksum. */}}
{{- define "switchyard.podAnnotations" -}}
{{- if .Values.prometheusScrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ include "switchyard.adminPort" . | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- if .Values.configChecksumAnnotation }}
checksum/config: {{ include "switchyard.config" . | sha256sum }}
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The Switchyard container, as one list item.

  switchyard.container         for `containers:` (standalone mode)
  switchyard.sidecarContainer  the sidecar: carries `restartPolicy: Always` when it is a native
                               sidecar (see switchyard.nativeSidecar), for `initContainers:`;
                               a plain container for `containers:` otherwise.
  switchyard.initContainers    the sidecar when it is native, else nothing: for `initContainers:`
  switchyard.containers        the sidecar when it is not native, else nothing: for `containers:`
  switchyard.volumes           the volumes it needs (the config ConfigMap as a directory, and
                               any secrets.files), as list items for `volumes:`.
  switchyard.podLabels         the label the PodMonitor selects, for your pod's labels
  switchyard.podAnnotations    prometheus.io/scrape|port|path (and the config checksum when on)
  switchyard.podSecurityContext  the pod securityContext the gateway is built for (non-root 65532)
  switchyard.terminationGracePeriodSeconds  preStop + shutdown_grace + margin

Each takes a chart context (.Values, .Release, .Chart, .Capabilities). In your own chart, add this
chart as a dependency with `mode: sidecar` and `sidecar.app.enabled: false` (so it renders only
the ConfigMap, and the PodMonitor when enabled) and pass its context, `.Subcharts.switchyard`:

  metadata:
    labels:
      {{- include "switchyard.podLabels" .Subcharts.switchyard | nindent 8 }}
    annotations:
      {{- include "switchyard.podAnnotations" .Subcharts.switchyard | nindent 8 }}
  spec:
    {{- with include "switchyard.initContainers" .Subcharts.switchyard }}
    initContainers:
      {{- . | nindent 8 }}
    {{- end }}
    containers:
      - name: my-app ...
      {{- include "switchyard.containers" .Subcharts.switchyard | nindent 8 }}
    volumes:
      {{- include "switchyard.volumes" .Subcharts.switchyard | nindent 8 }}

and point your app at http://127.0.0.1:8080/v1. See the chart's README.
*/}}
{{- define "switchyard.container" -}}
- name: switchyard
  image: {{ include "switchyard.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  {{- if include "switchyard.nativeSidecar" . }}
  restartPolicy: Always
  {{- end }}
  args:
    - --config
    - /etc/switchyard/switchyard.yaml
  ports:
    - name: sy-api
      containerPort: {{ include "switchyard.apiPort" . }}
      protocol: TCP
    - name: sy-admin
      containerPort: {{ include "switchyard.adminPort" . }}
      protocol: TCP
  {{- if or (.Values.secrets | default dict).env .Values.extraEnv }}
  env:
    {{- range (.Values.secrets | default dict).env }}
    - name: {{ .name }}
      valueFrom:
        secretKeyRef:
          name: {{ .existingSecret }}
          key: {{ .key }}
          {{- if .optional }}
          optional: true
          {{- end }}
    {{- end }}
    {{- with .Values.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  volumeMounts:
    - name: switchyard-config
      mountPath: /etc/switchyard
      readOnly: true
    {{- range $i, $f := (.Values.secrets | default dict).files }}
    - name: switchyard-secret-{{ $i }}
      mountPath: {{ $f.mountPath }}
      readOnly: true
    {{- end }}
  {{- with .Values.startupProbe }}
  startupProbe:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.livenessProbe }}
  livenessProbe:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.readinessProbe }}
  readinessProbe:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if include "switchyard.preStopEnabled" . }}
  lifecycle:
    preStop:
      sleep:
        seconds: {{ int .Values.drain.preStopSleepSeconds }}
  {{- end }}
  {{- with .Values.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{- define "switchyard.sidecarContainer" -}}
{{- if ne .Values.mode "sidecar" }}
{{- fail "switchyard.sidecarContainer needs mode: sidecar in the Switchyard values" }}
{{- end }}
{{- include "switchyard.container" . }}
{{- end }}

{{- define "switchyard.initContainers" -}}
{{- if include "switchyard.nativeSidecar" . }}
{{- include "switchyard.sidecarContainer" . }}
{{- end }}
{{- end }}

{{- define "switchyard.containers" -}}
{{- if not (include "switchyard.nativeSidecar" .) }}
{{- include "switchyard.sidecarContainer" . }}
{{- end }}
{{- end }}

{{- define "switchyard.podSecurityContext" -}}
{{- with .Values.podSecurityContext }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{- define "switchyard.volumes" -}}
- name: switchyard-config
  configMap:
    name: {{ include "switchyard.fullname" . }}
{{- range $i, $f := (.Values.secrets | default dict).files }}
- name: switchyard-secret-{{ $i }}
  secret:
    secretName: {{ $f.existingSecret }}
{{- end }}
{{- end }}
