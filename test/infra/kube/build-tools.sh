#!/usr/bin/env bash
# Builds etcd (a wrapper module around go.etcd.io/etcd/server/v3/etcdmain), kwok and helm
# from the Go module proxy into $1/bin.
set -euo pipefail
out=$1
etcd_version=$2
kwok_version=$3
helm_version=$4
# KUBE_GOFLAGS: extra go flags, e.g. -p=1 on a shared machine; builds run under nice.
export GOFLAGS="-mod=mod ${KUBE_GOFLAGS:-}" GOTOOLCHAIN=local
nice_go() { nice -n "${KUBE_BUILD_NICE:-10}" go "$@"; }
mkdir -p "$out/bin" "$out/etcd-src"
if [ ! -x "$out/bin/etcd" ]; then
  echo "[infra] kube: building etcd $etcd_version" >&2
  cd "$out/etcd-src"
  cat >main.go <<'GO'
// etcd, built from the module proxy: the server's own entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  printf 'module sextant.dev/infra/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$etcd_version" >go.mod
  go mod tidy >/dev/null
  nice_go build -trimpath -ldflags "-s -w" -o "$out/bin/etcd" .
fi
if [ ! -x "$out/bin/kwok" ]; then
  echo "[infra] kube: building kwok $kwok_version" >&2
  GOBIN="$out/bin" nice_go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
fi
if [ ! -f "$out/kwok-stages.yaml" ]; then
  # kwok does nothing without Stage objects; take the "fast" node and pod stages (and the
  # node heartbeat) that its module ships, as one multi-document file for --config.
  stages="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$kwok_version/kustomize/stage"
  for f in "$stages"/node/fast/node-initialize.yaml "$stages"/node/heartbeat/node-heartbeat.yaml "$stages"/pod/fast/pod-*.yaml; do
    echo "---"
    cat "$f"
  done >"$out/kwok-stages.yaml.tmp"
  mv "$out/kwok-stages.yaml.tmp" "$out/kwok-stages.yaml"
fi
if [ ! -x "$out/bin/helm" ]; then
  echo "[infra] kube: building helm $helm_version" >&2
  GOBIN="$out/bin" nice_go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version" "helm.sh/helm/v3/cmd/helm@$helm_version"
fi
