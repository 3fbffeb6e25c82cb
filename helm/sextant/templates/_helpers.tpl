{{/*
Names and labels shared by every template. Names follow the usual Helm conventions:
<release>-<chart> unless the release name already contains the chart name, truncated to 63
characters (the DNS label limit of Service and most object names).
*/}}

{{- define "sextant.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sextant.fullname" -}}
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

{{- define "sextant.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object: the recommended app.kubernetes.io set plus commonLabels. */}}
{{- define "sextant.labels" -}}
helm.sh/chart: {{ include "sextant.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sextant
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component; call with (dict "ctx" $ "component" "operator"). */}}
{{- define "sextant.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sextant.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "sextant.componentLabels" -}}
{{ include "sextant.labels" .ctx }}
{{ include "sextant.selectorLabels" . }}
{{- end }}

{{- define "sextant.operator.fullname" -}}
{{- printf "%s-operator" (include "sextant.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sextant.agent.fullname" -}}
{{- printf "%s-agent" (include "sextant.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sextant.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "sextant.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create is false" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sextant.agent.serviceAccountName" -}}
{{- if .Values.agent.serviceAccount.create }}
{{- default (include "sextant.agent.fullname" .) .Values.agent.serviceAccount.name }}
{{- else }}
{{- required "agent.serviceAccount.name is required when agent.serviceAccount.create is false" .Values.agent.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference from {repository, tag, digest}; tag defaults to the chart's appVersion,
a digest wins over the tag. Call with (dict "image" .Values.image "ctx" $).
*/}}
{{- define "sextant.imageRef" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag | toString) }}
{{- end }}
{{- end }}

{{/* The one Sextant image: the operator runs it and hands it to the runtimes it creates. */}}
{{- define "sextant.image" -}}
{{- include "sextant.imageRef" (dict "image" .Values.image "ctx" .) }}
{{- end }}

{{/* The agent's image: the chart image unless agent.image.repository is set. */}}
{{- define "sextant.agent.image" -}}
{{- if .Values.agent.image.repository }}
{{- include "sextant.imageRef" (dict "image" .Values.agent.image "ctx" .) }}
{{- else }}
{{- include "sextant.image" . }}
{{- end }}
{{- end }}

{{/* The lease the operator replicas elect their leader on. */}}
{{- define "sextant.operator.leaseName" -}}
{{- default (include "sextant.operator.fullname" .) .Values.operator.leaderElection.leaseName }}
{{- end }}

{{/* The agent config document: defaultConfig with config merged over it (lists replace). */}}
{{- define "sextant.agent.config" -}}
{{- $merged := mergeOverwrite (deepCopy .Values.agent.defaultConfig) (deepCopy .Values.agent.config) }}
{{- if $merged }}
{{- toYaml $merged }}
{{- else }}
{}
{{- end }}
{{- end }}
