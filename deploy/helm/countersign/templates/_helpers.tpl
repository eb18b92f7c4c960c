{{/* The chart's name, and the release's full name that prefixes every object. */}}
{{- define "countersign.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "countersign.fullname" -}}
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

{{/* Labels of every object; selector labels of a role's pods: dict "root" . "component" "api". */}}
{{- define "countersign.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "countersign.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | toString | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "countersign.selectorLabels" -}}
app.kubernetes.io/name: {{ include "countersign.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "countersign.image" -}}
{{- printf "%s:%s" (required "image.repository is required" .Values.image.repository) (required "image.tag is required" (toString .Values.image.tag)) }}
{{- end }}

{{/*
The Secrets the roles read: the suffix of their default name, the keys
they must hold and those they may. secrets.yaml makes those given
stringData; the rest are the operator's.
*/}}
{{- define "countersign.secretSpecs" -}}
database: {suffix: database, keys: [url]}
migrateDatabase: {suffix: migrate-database, keys: [url]}
decisionSigningKey: {suffix: decision-signing-key, keys: [decision.key]}
decisionVerifyKeys: {suffix: decision-verify-keys, keys: [decision.key.pub]}
encryptionKeys: {suffix: encryption-keys, keys: [encryption-keys]}
webhook: {suffix: webhook, keys: [secret]}
slack: {suffix: slack, keys: [bot-token], optional: [signing-secret, app-token]}
oidc: {suffix: oidc, keys: [client-secret]}
openai: {suffix: openai, keys: [api-key]}
temporalTLS: {suffix: temporal-tls, keys: [tls.crt, tls.key]}
{{- end }}

{{/* The name of one Secret: dict "root" . "secret" "database". */}}
{{- define "countersign.secretName" -}}
{{- $spec := index (include "countersign.secretSpecs" . | fromYaml) .secret }}
{{- default (printf "%s-%s" (include "countersign.fullname" .root) $spec.suffix) (index .root.Values.secrets .secret).name }}
{{- end }}

{{/* Where the Secrets' files are mounted; config's *_FILE variables name files under it. */}}
{{- define "countersign.secretsDir" -}}/run/secrets/countersign{{- end }}

{{/*
A config variable naming a file of a Secret: its path under secretsDir, or
a failure saying where it must be: dict "root" . "variable" "COUNTERSIGN_…".
*/}}
{{- define "countersign.secretFile" -}}
{{- $dir := include "countersign.secretsDir" .root }}
{{- $path := toString (index .root.Values.config .variable) }}
{{- if or (not (hasPrefix (printf "%s/" $dir) $path)) (contains ".." $path) }}
{{- fail (printf "config.%s=%s: the chart mounts that file from its Secret under %s/: name a file there" .variable $path $dir) }}
{{- end }}
{{- trimPrefix (printf "%s/" $dir) $path }}
{{- end }}

{{/*
The files of a role (dict "root" . "role" "api"), as the sources of a
projected volume at secretsDir: the keyring in both roles, the decision
signing key in the api only, the verification keys in the workers only, and
Temporal's client certificate in both.
*/}}
{{- define "countersign.fileSources" -}}
{{- $root := .root }}
{{- $config := $root.Values.config }}
{{- if index $config "COUNTERSIGN_ENCRYPTION_KEY_FILE" }}
- secret:
    name: {{ include "countersign.secretName" (dict "root" $root "secret" "encryptionKeys") }}
    items:
      - {key: encryption-keys, path: {{ include "countersign.secretFile" (dict "root" $root "variable" "COUNTERSIGN_ENCRYPTION_KEY_FILE") }}}
{{- end }}
{{- if and (eq .role "api") (index $config "COUNTERSIGN_DECISION_SIGNING_KEY_FILE") }}
- secret:
    name: {{ include "countersign.secretName" (dict "root" $root "secret" "decisionSigningKey") }}
    items:
      - {key: decision.key, path: {{ include "countersign.secretFile" (dict "root" $root "variable" "COUNTERSIGN_DECISION_SIGNING_KEY_FILE") }}}
{{- end }}
{{- if and (eq .role "worker") (index $config "COUNTERSIGN_DECISION_VERIFY_KEYS_FILE") }}
- secret:
    name: {{ include "countersign.secretName" (dict "root" $root "secret" "decisionVerifyKeys") }}
    items:
      - {key: decision.key.pub, path: {{ include "countersign.secretFile" (dict "root" $root "variable" "COUNTERSIGN_DECISION_VERIFY_KEYS_FILE") }}}
{{- end }}
{{- if $root.Values.temporal.tls.enabled }}
- secret:
    name: {{ include "countersign.secretName" (dict "root" $root "secret" "temporalTLS") }}
    items:
      - {key: tls.crt, path: temporal/tls.crt}
      - {key: tls.key, path: temporal/tls.key}
      {{- if $root.Values.temporal.tls.ca }}
      - {key: ca.crt, path: temporal/ca.crt}
      {{- end }}
{{- end }}
{{- end }}

{{/*
The port of a listen address from config (dict "variable" "COUNTERSIGN_HTTP"
"value" …): the probes, the Service and Prometheus reach the pod's IP, so a
loopback address or a port the system picks would leave them nothing.
*/}}
{{- define "countersign.port" -}}
{{- $addr := toString .value }}
{{- $port := regexFind "[0-9]+$" $addr }}
{{- if or (not (regexMatch ":[0-9]+$" $addr)) (eq (int $port) 0) (gt (int $port) 65535) (hasPrefix "127." $addr) (hasPrefix "localhost:" $addr) (hasPrefix "[::1]:" $addr) }}
{{- fail (printf "config.%s=%q: give an address the pod's IP answers on, with a fixed port, such as 0.0.0.0:8080" .variable $addr) }}
{{- end }}
{{- $port }}
{{- end }}

{{/* A variable from a Secret's key: dict "root" . "name" "COUNTERSIGN_…" "secret" "database" "key" "url" "optional" false. */}}
{{- define "countersign.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "countersign.secretName" (dict "root" .root "secret" .secret) }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}

{{/*
The environment of a role (dict "root" . "role" "worker") beside the shared
ConfigMap: the secrets it reads as variables, then worker.extraEnv or
api.extraEnv.
*/}}
{{- define "countersign.env" -}}
{{- $root := .root }}
{{- $secrets := $root.Values.secrets }}
{{- include "countersign.secretEnv" (dict "root" $root "name" "COUNTERSIGN_DATABASE_URL" "secret" "database" "key" "url") }}
{{- if $secrets.slack.enabled }}
{{ include "countersign.secretEnv" (dict "root" $root "name" "COUNTERSIGN_SLACK_BOT_TOKEN" "secret" "slack" "key" "bot-token") }}
{{ include "countersign.secretEnv" (dict "root" $root "name" "COUNTERSIGN_SLACK_SIGNING_SECRET" "secret" "slack" "key" "signing-secret" "optional" true) }}
{{ include "countersign.secretEnv" (dict "root" $root "name" "COUNTERSIGN_SLACK_APP_TOKEN" "secret" "slack" "key" "app-token" "optional" true) }}
{{- end }}
{{- if and (eq .role "worker") $secrets.webhook.enabled }}
{{ include "countersign.secretEnv" (dict "root" $root "name" "COUNTERSIGN_WEBHOOK_SECRET" "secret" "webhook" "key" "secret") }}
{{- end }}
{{- if and (eq .role "worker") $secrets.openai.enabled }}
{{ include "countersign.secretEnv" (dict "root" $root "name" "OPENAI_API_KEY" "secret" "openai" "key" "api-key") }}
{{- end }}
{{- if and (eq .role "api") $secrets.oidc.enabled }}
{{ include "countersign.secretEnv" (dict "root" $root "name" "COUNTERSIGN_OIDC_CLIENT_SECRET" "secret" "oidc" "key" "client-secret") }}
{{- end }}
{{- with (index $root.Values .role).extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The variables the chart sets itself, which config must leave alone. */}}
{{- define "countersign.reservedVariables" -}}
COUNTERSIGN_TEMPORAL_ADDRESS: temporal.address
COUNTERSIGN_TEMPORAL_TLS_CERT: temporal.tls
COUNTERSIGN_TEMPORAL_TLS_KEY: temporal.tls
COUNTERSIGN_TEMPORAL_TLS_CA: temporal.tls
COUNTERSIGN_TEMPORAL_TLS_SERVER_NAME: temporal.tls.serverName
COUNTERSIGN_TASK_TYPES: taskTypes
COUNTERSIGN_DATABASE_URL: secrets.database
COUNTERSIGN_WEBHOOK_SECRET: secrets.webhook
COUNTERSIGN_SLACK_BOT_TOKEN: secrets.slack
COUNTERSIGN_SLACK_SIGNING_SECRET: secrets.slack
COUNTERSIGN_SLACK_APP_TOKEN: secrets.slack
COUNTERSIGN_OIDC_CLIENT_SECRET: secrets.oidc
COUNTERSIGN_ENCRYPTION_KEYS: secrets.encryptionKeys with config.COUNTERSIGN_ENCRYPTION_KEY_FILE
COUNTERSIGN_DECISION_SIGNING_KEY: secrets.decisionSigningKey with config.COUNTERSIGN_DECISION_SIGNING_KEY_FILE
COUNTERSIGN_DECISION_VERIFY_KEYS: secrets.decisionVerifyKeys with config.COUNTERSIGN_DECISION_VERIFY_KEYS_FILE
{{- end }}

{{/* Pod annotations that roll the pods when the settings or the chart's Secrets change. */}}
{{- define "countersign.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secrets: {{ include (print .Template.BasePath "/secrets.yaml") . | sha256sum }}
{{- end }}

{{/* A role's volume mounts (dict "root" . "role" "api"): its Secrets' files and the task types. */}}
{{- define "countersign.volumeMounts" -}}
{{- if include "countersign.fileSources" . }}
- name: secrets
  mountPath: {{ include "countersign.secretsDir" .root }}
  readOnly: true
{{- end }}
{{- if .root.Values.taskTypes }}
- name: task-types
  mountPath: /etc/countersign/task-types
  readOnly: true
{{- end }}
{{- end }}

{{/* A role's volumes (dict "root" . "role" "api"), for countersign.volumeMounts. */}}
{{- define "countersign.volumes" -}}
{{- with include "countersign.fileSources" . }}
- name: secrets
  projected:
    defaultMode: 0440
    sources:
      {{- . | trim | nindent 6 }}
{{- end }}
{{- if .root.Values.taskTypes }}
- name: task-types
  configMap:
    name: {{ include "countersign.fullname" .root }}-task-types
{{- end }}
{{- end }}

{{/* Where a role's pods may run: dict "root" . "role" "api". */}}
{{- define "countersign.scheduling" -}}
{{- $role := index .root.Values .role }}
{{- with $role.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $role.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $role.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
