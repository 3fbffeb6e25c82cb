#!/usr/bin/env bash
# Node tier: brings the real node up on the kube control plane (test/infra services `kube`
# and `node`, with the `make image` archive imported), runs test/node, and takes the node
# down again whatever happened. Root only.
#
# The node stays registered only while this runs, under the cluster tier's lock: the
# chart's agent DaemonSet tolerates every taint, so while a real node is registered a
# cluster-tier `helm install --wait` would wait for an agent pod on it too.
#
#   bash test/node/run.sh [ava args...]      (or `make test-node`)
# Settings: NODE_IMAGES (default .run/image/sextant.oci.tar), SEXTANT_CLUSTER_LOCK
# (default /tmp/sextant-cluster.lock), KEEP_NODE=1 leaves the node up.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export NODE_IMAGES=${NODE_IMAGES:-$REPO/.run/image/sextant.oci.tar}
[[ -f $NODE_IMAGES ]] || { echo "test/node: no image archive $NODE_IMAGES: run 'make image' first" >&2; exit 1; }
infra() { bash "$REPO/test/infra/infra.sh" "$@"; }

exec 7>"${SEXTANT_CLUSTER_LOCK:-/tmp/sextant-cluster.lock}"
echo "[node-tier] waiting for the cluster lock" >&2
flock 7
down() { [[ ${KEEP_NODE:-0} == 1 ]] || infra down node >&2; }
trap down EXIT
# kafka: the operator of runtime-failures.test.ts creates the Pipelines' topics.
infra up kube node kafka >/dev/null
cd "$REPO"
npx ava --config test/node/ava.config.js "$@"
