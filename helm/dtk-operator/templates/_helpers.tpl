{{/*
Names and labels shared by every template (rbac.yaml included): keep these helper names stable.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "dtk-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's objects: fullnameOverride, else "<release>-<name>", or just the
release name when it already contains the name. 63 characters at most (a DNS label).
*/}}
{{- define "dtk-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "dtk-operator.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The helm.sh/chart label: name and version, "+" made label-safe. */}}
{{- define "dtk-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels that select the operator pods: never change them (a Deployment's selector is immutable). */}}
{{- define "dtk-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dtk-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object of the release. */}}
{{- define "dtk-operator.labels" -}}
helm.sh/chart: {{ include "dtk-operator.chart" . }}
{{ include "dtk-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kube-dtk
{{- end }}

{{/* The operator's ServiceAccount: the given name, else the full name when created, else "default". */}}
{{- define "dtk-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dtk-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Lease the replicas compete for (replicas > 1), in the release's namespace. */}}
{{- define "dtk-operator.leaseName" -}}
{{- default (include "dtk-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* The image reference: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "dtk-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* kopf's liveness endpoint: the container's --liveness URL and its probe use the same port. */}}
{{- define "dtk-operator.livenessPort" -}}
8080
{{- end }}

{{/*
The flags of `dtk-operator run`, one per line. The image's entrypoint is
`tini -- dtk-operator run` (Containerfile): the pod's args are appended to it.
*/}}
{{- define "dtk-operator.args" -}}
{{- if .Values.watchNamespaces }}
{{- range .Values.watchNamespaces }}
- --namespace
- {{ . | quote }}
{{- end }}
{{- else }}
- --all-namespaces
{{- end }}
{{- if .Values.allowLocalTarget }}
- --allow-local-target
- --local-max-processes
- {{ .Values.localMaxProcesses | int | quote }}
{{- end }}
- --metrics-port
- {{ .Values.metrics.port | quote }}
- --liveness
- {{ printf "http://0.0.0.0:%s/healthz" (include "dtk-operator.livenessPort" .) | quote }}
{{- if gt (int .Values.replicas) 1 }}
- --leader-elect
- --lease-name
- {{ include "dtk-operator.leaseName" . | quote }}
- --lease-namespace
- {{ .Release.Namespace | quote }}
{{- end }}
{{- if eq .Values.logLevel "debug" }}
- --verbose
{{- end }}
{{- end }}
