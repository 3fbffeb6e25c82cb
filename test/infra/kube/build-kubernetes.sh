#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kube-scheduler from the k8s.io/kubernetes
# module (Go module proxy) into $1/bin, through a wrapper module that pins every staging
# module (k8s.io/api, apimachinery, client-go, ...) to the matching v0.<minor>.<patch>:
# k8s.io/kubernetes itself points them at ./staging, which a module consumer cannot see.
set -euo pipefail
out=$1
version=${2:-v1.35.4}
minor=$(echo "$version" | cut -d. -f2)
staging_version="v0.${version#v1.}"
# KUBE_BUILD_SRC: the wrapper module's folder (default $out/src). Builds into one $out
# serialise on $out/.build.lock, so the node service can add kubelet/kube-proxy to a cache
# the control plane is being built into; existing binaries are never rebuilt or removed.
work=${KUBE_BUILD_SRC:-$out/src}
mkdir -p "$work" "$out/bin"
exec 8>"$out/.build.lock"
flock 8
cd "$work"
# KUBE_GOFLAGS: extra go flags, e.g. -p=1 on a shared machine; builds run under nice.
export GOFLAGS="-mod=mod ${KUBE_GOFLAGS:-}" GOTOOLCHAIN=local
nice_go() { nice -n "${KUBE_BUILD_NICE:-10}" go "$@"; }
go mod download -json "k8s.io/kubernetes@$version" >/dev/null
kmod="$(go env GOMODCACHE)/k8s.io/kubernetes@$version/go.mod"
{
  echo "module sextant.dev/infra/kubernetes"
  echo
  echo "go $(awk '/^go /{print $2}' "$kmod")"
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo "replace ("
  grep -Eo '^\s+k8s\.io/[a-z0-9-]+ => \./staging' "$kmod" | awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
  echo ")"
} >go.mod
cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
)
GO
go mod tidy -e >/dev/null 2>&1 || true
go mod download
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
for cmd in ${KUBE_COMMANDS:-kube-apiserver kube-controller-manager kube-scheduler}; do
  echo "[infra] kube: building $cmd $version (several minutes on 2 cores, once per version)" >&2
  # into a temporary name first: an interrupted build never leaves a half-written binary
  nice_go build -trimpath -ldflags "$ldflags" -o "$out/bin/.$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
  mv -f "$out/bin/.$cmd.tmp" "$out/bin/$cmd"
done
