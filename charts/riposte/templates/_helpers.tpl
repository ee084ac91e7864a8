{{/* Chart name, at most 63 characters. */}}
{{- define "riposte.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every resource name, at most 47 characters. The StatefulSet
"<prefix>-nats" then stays within 52, because the StatefulSet controller
labels its pods "controller-revision-hash: <name>-<10-character hash>", a
label value of at most 63 characters. Other names stay within 63 too.
*/}}
{{- define "riposte.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 47 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "riposte.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "riposte.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: riposte
{{- end }}

{{/* Selector labels of one component; call with (dict "root" $ "component" "sensor"). */}}
{{- define "riposte.selectorLabels" -}}
app.kubernetes.io/name: {{ include "riposte.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component; call like riposte.selectorLabels. */}}
{{- define "riposte.componentLabels" -}}
{{ include "riposte.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The riposte image reference: a digest wins over the tag. */}}
{{- define "riposte.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "riposte.sensor.serviceAccountName" -}}
{{- if .Values.sensor.serviceAccount.create }}
{{- default (printf "%s-sensor" (include "riposte.fullname" .)) .Values.sensor.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.sensor.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "riposte.responder.serviceAccountName" -}}
{{- if .Values.responder.serviceAccount.create }}
{{- default (printf "%s-responder" (include "riposte.fullname" .)) .Values.responder.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.responder.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding the webhook token. */}}
{{- define "riposte.webhook.secretName" -}}
{{- default (printf "%s-webhook" (include "riposte.fullname" .)) .Values.responder.webhook.existingSecret }}
{{- end }}

{{/*
Name of the kubernetes.io/tls Secret that the webhook serves HTTPS with, or
"" for plain HTTP.
*/}}
{{- define "riposte.webhook.tlsSecretName" -}}
{{- $tls := .Values.responder.webhook.tls }}
{{- if $tls.secretName }}
{{- $tls.secretName }}
{{- else if $tls.certManager.enabled }}
{{- printf "%s-webhook-tls" (include "riposte.fullname" .) }}
{{- end }}
{{- end }}

{{/* Whether the webhook requires client certificates (mutual TLS): "true" or "". */}}
{{- define "riposte.webhook.mtls" -}}
{{- $ca := .Values.responder.webhook.tls.clientCA }}
{{- if or $ca.secretName $ca.configMapName }}true{{ end }}
{{- end }}

{{/*
Checks the webhook values that the responder would reject or that contradict
each other, and fails with a message naming the fix.
*/}}
{{- define "riposte.webhook.validate" -}}
{{- $webhook := .Values.responder.webhook }}
{{- $tls := $webhook.tls }}
{{- if .Values.responder.enabled }}
{{- if and $tls.clientCA.secretName $tls.clientCA.configMapName }}
{{- fail "webhook: set responder.webhook.tls.clientCA.secretName or responder.webhook.tls.clientCA.configMapName, not both" }}
{{- end }}
{{- if and (include "riposte.webhook.mtls" .) (not (include "riposte.webhook.tlsSecretName" .)) }}
{{- fail "webhook: mutual TLS with responder.webhook.tls.clientCA needs the webhook's server certificate: set responder.webhook.tls.secretName to a kubernetes.io/tls Secret, or responder.webhook.tls.certManager.enabled=true" }}
{{- end }}
{{- if and $tls.certManager.enabled (not $tls.certManager.issuerRef.name) }}
{{- fail "webhook: responder.webhook.tls.certManager.enabled=true needs responder.webhook.tls.certManager.issuerRef.name: name the cert-manager Issuer or ClusterIssuer that signs the webhook's certificate" }}
{{- end }}
{{- if not $webhook.requireToken }}
{{- if not (include "riposte.webhook.mtls" .) }}
{{- fail "webhook: no authentication: responder.webhook.requireToken=false needs mutual TLS: set responder.webhook.tls.clientCA, or keep responder.webhook.requireToken=true" }}
{{- end }}
{{- if or $webhook.token $webhook.existingSecret }}
{{- fail "webhook: responder.webhook.token or responder.webhook.existingSecret is set, but responder.webhook.requireToken=false turns the token off: clear them, or set responder.webhook.requireToken=true" }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Protected namespaces: the configured ones plus the release namespace. */}}
{{- define "riposte.protectedNamespaces" -}}
{{- append (.Values.protectedNamespaces | default list) .Release.Namespace | uniq | toJson }}
{{- end }}

{{/*
Protected pod labels as the responder's key=value list, sorted by key.
Renders a JSON list.
*/}}
{{- define "riposte.protectedLabels" -}}
{{- $labels := list }}
{{- range $key := keys .Values.protectedLabels | sortAlpha }}
{{- $labels = append $labels (printf "%s=%v" $key (get $.Values.protectedLabels $key)) }}
{{- end }}
{{- toJson $labels }}
{{- end }}

{{/*
Whether responders share cooldowns: guards.sharedCooldown when set, else true
with more than one responder replica.
*/}}
{{- define "riposte.sharedCooldown" -}}
{{- if kindIs "bool" .Values.guards.sharedCooldown }}
{{- .Values.guards.sharedCooldown }}
{{- else }}
{{- gt (int .Values.responder.replicas) 1 }}
{{- end }}
{{- end }}

{{/*
Checks the guard values that the responder would reject and fails with a
message naming the fix. A zero cooldown or rate limit is rejected because
the responder would read it as the default while the user means off.
*/}}
{{- define "riposte.guards.validate" -}}
{{- if regexMatch "^-?(0+(\\.0*)?(ns|us|µs|ms|s|m|h))+$" (toString .Values.guards.cooldown) }}
{{- fail (printf "guards: guards.cooldown=%v is invalid: use a positive duration such as 1m, or a negative one such as -1s to turn the cooldown off" .Values.guards.cooldown) }}
{{- end }}
{{- if eq (float64 .Values.guards.rateLimit) 0.0 }}
{{- fail "guards: guards.rateLimit=0 is invalid: use a positive number of actions per second such as 10, or -1 to turn the limit off" }}
{{- end }}
{{- if lt (int .Values.guards.burst) 1 }}
{{- fail (printf "guards: guards.burst=%v is invalid: use 1 or more actions" .Values.guards.burst) }}
{{- end }}
{{- end }}

{{/*
Rules of the responder's ClusterRole: those of every enabled actionner, in a
fixed order, with exact duplicates (such as each actionner's Event rule)
removed. Renders a JSON list.
*/}}
{{- define "riposte.responder.rbacRules" -}}
{{- $rules := list }}
{{- range $name := list "terminate" "label" "annotate" "isolate" "exec" "logs" "cordon" "drain" "delete" }}
{{- $actionner := get $.Values.responder.actionners $name }}
{{- if and $actionner $actionner.enabled }}
{{- $rules = concat $rules $actionner.rules }}
{{- end }}
{{- end }}
{{- toJson (uniq $rules) }}
{{- end }}

{{/* Ordered list of rule files, upstream first, as {name, content} items. */}}
{{- define "riposte.ruleFiles" -}}
{{- $files := concat .Values.rules.upstream .Values.rules.custom }}
{{- $seen := dict }}
{{- range $files }}
{{- if hasKey $seen .name }}
{{- fail (printf "rules: file name %q appears twice in rules.upstream and rules.custom: give each rule file a different name" .name) }}
{{- end }}
{{- $_ := set $seen .name true }}
{{- end }}
{{- toJson $files }}
{{- end }}

{{/* Bundled NATS: service names and the client URL without credentials. */}}
{{- define "riposte.nats.name" -}}
{{- printf "%s-nats" (include "riposte.fullname" .) }}
{{- end }}

{{/* DNS name of the bundled NATS client Service, which its certificate names. */}}
{{- define "riposte.nats.host" -}}
{{- printf "%s.%s.svc.%s" (include "riposte.nats.name" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}

{{- define "riposte.nats.tlsSecretName" -}}
{{- printf "%s-nats-tls" (include "riposte.fullname" .) }}
{{- end }}

{{- define "riposte.nats.authSecretName" -}}
{{- printf "%s-nats-auth" (include "riposte.fullname" .) }}
{{- end }}

{{/*
Checks the NATS values and fails with a message naming the fix: exactly one
of the bundled cluster and an external URL.
*/}}
{{- define "riposte.nats.validate" -}}
{{- if and .Values.nats.bundled.enabled .Values.nats.external.url }}
{{- fail "nats: both nats.bundled.enabled and nats.external.url are set: set nats.bundled.enabled=false to use the external NATS, or clear nats.external.url" }}
{{- end }}
{{- if and (not .Values.nats.bundled.enabled) (not .Values.nats.external.url) }}
{{- fail "nats: no NATS configured: keep nats.bundled.enabled=true, or set nats.external.url to an existing NATS deployment" }}
{{- end }}
{{- if and .Values.nats.bundled.enabled (gt (int .Values.nats.streamReplicas) (int .Values.nats.bundled.replicas)) }}
{{- fail (printf "nats: nats.streamReplicas=%v exceeds the %v bundled NATS servers: lower nats.streamReplicas or raise nats.bundled.replicas" .Values.nats.streamReplicas .Values.nats.bundled.replicas) }}
{{- end }}
{{- $tls := .Values.nats.external.tls }}
{{- if and $tls.secretName (or (and $tls.certKey (not $tls.keyKey)) (and $tls.keyKey (not $tls.certKey))) }}
{{- fail "nats: set both nats.external.tls.certKey and nats.external.tls.keyKey for a client certificate, or neither" }}
{{- end }}
{{- if and (not .Values.nats.bundled.enabled) .Values.nats.external.credentials.secretName .Values.nats.external.nkey.secretName }}
{{- fail "nats: set nats.external.credentials or nats.external.nkey, not both: a credentials file already holds the NKey seed" }}
{{- end }}
{{- end }}

{{/*
A password kept across upgrades: the value already stored in the Secret named
.secret under .key when it exists, else a new random one. Call with
(dict "root" $ "secret" <name> "key" <key>).
*/}}
{{- define "riposte.keptPassword" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key | b64dec }}
{{- else }}
{{- randAlphaNum 32 }}
{{- end }}
{{- end }}

{{/*
Environment shared by the sensor and the responder: the node name, and for the
bundled NATS the component's password and a URL that carries it. Call with
(dict "root" $ "user" "sensor").
*/}}
{{- define "riposte.commonEnv" -}}
- name: RIPOSTE_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- if .root.Values.nats.bundled.enabled }}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "riposte.nats.authSecretName" .root }}
      key: {{ .user }}-password
- name: RIPOSTE_NATS_URL
  value: {{ printf "%s://%s:$(NATS_PASSWORD)@%s:4222" (ternary "tls" "nats" .root.Values.nats.bundled.tls.enabled) .user (include "riposte.nats.host" .root) | quote }}
{{- end }}
{{- end }}

{{/* Volume mounts for the NATS CA, credentials, NKey and TLS files. */}}
{{- define "riposte.nats.volumeMounts" -}}
{{- $ext := .Values.nats.external }}
{{- if and .Values.nats.bundled.enabled .Values.nats.bundled.tls.enabled }}
- name: nats-tls
  mountPath: /etc/riposte/nats/tls
  readOnly: true
{{- end }}
{{- if not .Values.nats.bundled.enabled }}
{{- if $ext.credentials.secretName }}
- name: nats-credentials
  mountPath: /etc/riposte/nats/credentials
  readOnly: true
{{- end }}
{{- if $ext.nkey.secretName }}
- name: nats-nkey
  mountPath: /etc/riposte/nats/nkey
  readOnly: true
{{- end }}
{{- if $ext.tls.secretName }}
- name: nats-tls
  mountPath: /etc/riposte/nats/tls
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{- define "riposte.nats.volumes" -}}
{{- $ext := .Values.nats.external }}
{{- if and .Values.nats.bundled.enabled .Values.nats.bundled.tls.enabled }}
- name: nats-tls
  secret:
    secretName: {{ include "riposte.nats.tlsSecretName" . }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- if not .Values.nats.bundled.enabled }}
{{- if $ext.credentials.secretName }}
- name: nats-credentials
  secret:
    secretName: {{ $ext.credentials.secretName }}
    items:
      - key: {{ $ext.credentials.key }}
        path: nats.creds
{{- end }}
{{- if $ext.nkey.secretName }}
- name: nats-nkey
  secret:
    secretName: {{ $ext.nkey.secretName }}
    items:
      - key: {{ $ext.nkey.key }}
        path: nkey.seed
{{- end }}
{{- if $ext.tls.secretName }}
- name: nats-tls
  secret:
    secretName: {{ $ext.tls.secretName }}
    items:
      - key: {{ $ext.tls.caKey }}
        path: ca.crt
      {{- if $ext.tls.certKey }}
      - key: {{ $ext.tls.certKey }}
        path: tls.crt
      - key: {{ $ext.tls.keyKey }}
        path: tls.key
      {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The nats section of a component's configuration file. With the bundled NATS,
RIPOSTE_NATS_URL carries the URL and the component's password instead.
*/}}
{{- define "riposte.nats.config" -}}
{{- $ext := .Values.nats.external }}
nats:
  replicas: {{ .Values.nats.streamReplicas }}
  {{- if and .Values.nats.bundled.enabled .Values.nats.bundled.tls.enabled }}
  tls:
    ca: /etc/riposte/nats/tls/ca.crt
  {{- end }}
  {{- if not .Values.nats.bundled.enabled }}
  url: {{ $ext.url | quote }}
  {{- if $ext.credentials.secretName }}
  creds: /etc/riposte/nats/credentials/nats.creds
  {{- end }}
  {{- if $ext.nkey.secretName }}
  nkey: /etc/riposte/nats/nkey/nkey.seed
  {{- end }}
  {{- if $ext.tls.secretName }}
  tls:
    ca: /etc/riposte/nats/tls/ca.crt
    {{- if $ext.tls.certKey }}
    cert: /etc/riposte/nats/tls/tls.crt
    key: /etc/riposte/nats/tls/tls.key
    {{- end }}
  {{- end }}
  {{- end }}
{{- end }}

{{/* Pod anti-affinity for a component; call with (dict "root" $ "component" "responder" "mode" "soft"). */}}
{{- define "riposte.podAntiAffinity" -}}
{{- if eq .mode "hard" }}
requiredDuringSchedulingIgnoredDuringExecution:
  - topologyKey: kubernetes.io/hostname
    labelSelector:
      matchLabels:
        {{- include "riposte.selectorLabels" . | nindent 8 }}
{{- else if eq .mode "soft" }}
preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 100
    podAffinityTerm:
      topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          {{- include "riposte.selectorLabels" . | nindent 10 }}
{{- end }}
{{- end }}

{{/*
Configuration of a bundled NATS server. Call with
(dict "root" $ "sensor" <password> "responder" <password> "route" <password>).
*/}}
{{- define "riposte.nats.serverConfig" -}}
{{- $root := .root }}
{{- $name := include "riposte.nats.name" $root }}
{{- $js := $root.Values.nats.bundled.jetstream }}
{{- $route := .route }}
server_name: $POD_NAME
pid_file: /var/run/nats/nats.pid
listen: 0.0.0.0:4222
http: 0.0.0.0:8222
lame_duck_grace_period: 10s
lame_duck_duration: 30s

{{- if $root.Values.nats.bundled.tls.enabled }}
tls {
  cert_file: /etc/nats/tls/tls.crt
  key_file: /etc/nats/tls/tls.key
  ca_file: /etc/nats/tls/ca.crt
}
{{- end }}

jetstream {
  store_dir: /data
  max_file_store: {{ $js.maxFileStore }}
  max_memory_store: {{ $js.maxMemoryStore }}
}

authorization {
  users: [
    {user: sensor, password: {{ .sensor | quote }}{{ with $root.Values.nats.bundled.sensorPermissions }}, permissions: {{ include "riposte.nats.json" . }}{{ end }}}
    {user: responder, password: {{ .responder | quote }}{{ with $root.Values.nats.bundled.responderPermissions }}, permissions: {{ include "riposte.nats.json" . }}{{ end }}}
  ]
}

cluster {
  name: {{ $name | quote }}
  listen: 0.0.0.0:6222
  authorization {
    user: route
    password: {{ $route | quote }}
  }
  {{- if $root.Values.nats.bundled.tls.enabled }}
  tls {
    cert_file: /etc/nats/tls/tls.crt
    key_file: /etc/nats/tls/tls.key
    ca_file: /etc/nats/tls/ca.crt
  }
  {{- end }}
  routes: [
    {{- range $i, $_ := until (int $root.Values.nats.bundled.replicas) }}
    {{ printf "nats://route:%s@%s-%d.%s-headless.%s.svc.%s:6222" $route $name $i $name $root.Release.Namespace $root.Values.clusterDomain | quote }}
    {{- end }}
  ]
  connect_retries: 120
}
{{- end }}

{{/*
A value as JSON that the NATS configuration parser reads: toJson escapes <, >
and & as \u003c, \u003e and \u0026, and NATS strings accept no \u escapes.
*/}}
{{- define "riposte.nats.json" -}}
{{- toJson . | replace "\\u003c" "<" | replace "\\u003e" ">" | replace "\\u0026" "&" }}
{{- end }}
