#!/usr/bin/env bash
# Builds a slim OpenTelemetry Collector distribution from the Go module proxy with the
# collector's own builder (ocb), once per version and component set, and prints the path of
# the binary on stdout (progress goes to stderr). The integration tests call it on first use
# (test/support/otelcol-process.ts); it is instant when the binary is cached.
#
# Cache: ${XDG_CACHE_HOME:-~/.cache}/sextant/otelcol-<version>-<hash of this script>/
#   bin/otelcol-sextant   the collector
#   build/                the builder's manifest and generated sources (kept for reading)
#   build-time.txt        /usr/bin/time -v of the cold build (go install of the builder + ocb)
#
# Environment: OTELCOL_VERSION (contrib and core release, default below), OTELCOL_CORE_STABLE
# (the 1.x release of the core's stable modules that goes with it), OTELCOL_GOFLAGS (extra go
# flags, e.g. -p=1), OTELCOL_BUILD_NICE (nice level, default 10).
set -euo pipefail

# One release for every module: contrib v0.160.0 is the newest hostmetricsreceiver the module
# proxy serves that builds with go1.26 here; core v0.160.0 and its stable modules v1.66.0 are
# the same release (the builder v0.160.0's own default manifest pairs them).
version=${OTELCOL_VERSION:-0.160.0}
stable=${OTELCOL_CORE_STABLE:-1.66.0}

script_hash=$( (cat "${BASH_SOURCE[0]}"; echo "$version $stable") | sha256sum | cut -c1-12)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/sextant/otelcol-$version-$script_hash
binary=$cache/bin/otelcol-sextant
if [ -x "$binary" ]; then
  echo "$binary"
  exit 0
fi

say() { echo "[otelcol] $*" >&2; }
export GOTOOLCHAIN=local GOFLAGS="-buildvcs=false ${OTELCOL_GOFLAGS:-}"
work=$(mktemp -d "${TMPDIR:-/tmp}/otelcol-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build" "$work/bin"

contrib=github.com/open-telemetry/opentelemetry-collector-contrib
core=go.opentelemetry.io/collector
cat >"$work/build/manifest.yaml" <<YAML
# Sextant's test collector: only what the integration tests send with.
dist:
  module: sextant.dev/test/otelcol
  name: otelcol-sextant
  description: OpenTelemetry Collector for Sextant's integration tests
  version: $version
  output_path: $work/build/src
receivers:
  - gomod: $contrib/receiver/filelogreceiver v$version
  - gomod: $contrib/receiver/hostmetricsreceiver v$version
processors:
  - gomod: $core/processor/batchprocessor v$version
exporters:
  - gomod: $core/exporter/otlphttpexporter v$version
  - gomod: $contrib/exporter/prometheusremotewriteexporter v$version
extensions:
  # filelog's checkpoints survive a collector restart, so nothing is read twice.
  - gomod: $contrib/extension/storage/filestorage v$version
providers:
  - gomod: $core/confmap/provider/envprovider v$stable
  - gomod: $core/confmap/provider/fileprovider v$stable
telemetry:
  gomod: $core/service v$version
  import: $core/service/telemetry/otelconftelemetry
YAML

nice_level=${OTELCOL_BUILD_NICE:-10}
cat >"$work/build.sh" <<SH
set -euo pipefail
GOBIN="$work/bin" nice -n $nice_level go install "$core/cmd/builder@v$version"
cd "$work/build"
PATH="\$(dirname "\$(command -v go)"):\$PATH" nice -n $nice_level "$work/bin/builder" --config manifest.yaml
SH
say "building otelcol-sextant $version (builder v$version, core v$version/v$stable, contrib v$version) into $cache"
start=$(date +%s)
/usr/bin/time -v -o "$work/build-time.txt" bash "$work/build.sh" >&2
say "built in $(($(date +%s) - start)) s: $(grep -E 'Elapsed|User time|System time|Maximum resident' "$work/build-time.txt" | sed 's/^\s*//' | paste -sd ';')"

mkdir -p "$cache.tmp.$$/bin"
cp "$work/build/src/otelcol-sextant" "$cache.tmp.$$/bin/"
cp "$work/build-time.txt" "$cache.tmp.$$/"
cp -r "$work/build" "$cache.tmp.$$/build"
rm -f "$cache.tmp.$$/build/src/otelcol-sextant"
# Another build may have finished first: keep that one.
mkdir -p "$(dirname "$cache")"
mv -T "$cache.tmp.$$" "$cache" 2>/dev/null || rm -rf "$cache.tmp.$$"
echo "$binary"
