{{/* Names and labels shared by every object of the chart. */}}

{{- define "labforge.name" -}}
{{ .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's name, prefixed with the chart's unless it already contains it; 63 characters at most (DNS labels). */}}
{{- define "labforge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{ .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else -}}
{{- $name := include "labforge.name" . -}}
{{- if eq .Release.Name $name -}}
{{ $name }}
{{- else -}}
{{ printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end -}}
{{- end -}}
{{- end }}

{{- define "labforge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "labforge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "labforge.labels" -}}
{{ include "labforge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "labforge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ .Values.serviceAccount.name | default (include "labforge.fullname" .) }}
{{- else -}}
{{ .Values.serviceAccount.name | default "default" }}
{{- end -}}
{{- end }}

{{/* "true" when the database is not the embedded SQLite file: several replicas are then possible. */}}
{{- define "labforge.externalDatabase" -}}
{{- if or .Values.database.url .Values.database.existingSecret -}}
true
{{- end -}}
{{- end }}

{{/* "true" when the chart makes a Secret: some secret value is given inline. */}}
{{- define "labforge.chartSecret" -}}
{{- if or .Values.database.url .Values.auth.adminPassword .Values.auth.operatorToken .Values.auth.metricsToken -}}
true
{{- end -}}
{{- end }}

{{/* The inline secret values, hashed: a pod template annotation that changes with them. */}}
{{- define "labforge.secretChecksum" -}}
{{ printf "%s|%s|%s|%s|%s" .Values.database.url .Values.auth.adminPassword .Values.auth.operatorToken .Values.auth.metricsToken .Values.auth.existingSecret | sha256sum }}
{{- end }}
