#!/usr/bin/env bash
# Node and e2e tiers: brings the real node up on the kube control plane (test/infra services
# `kube` and `node`, with the `make image` archive imported), runs test/node and then
# test/e2e (the chart end to end, on Kafka, OpenSearch and S3 of the host), and takes the
# node down again whatever happened. Root only.
#
# The node stays registered only while this runs, under the cluster tier's lock: the
# chart's agent DaemonSet tolerates every taint, so while a real node is registered a
# cluster-tier `helm install --wait` would wait for an agent pod on it too.
#
#   bash test/node/run.sh                    (or `make test-node`: both tiers)
#   TIERS=e2e bash test/node/run.sh [ava args...]   (one tier, with ava's arguments)
# Settings: NODE_IMAGES (default .run/image/sextant.oci.tar), SEXTANT_CLUSTER_LOCK
# (default /tmp/sextant-cluster.lock), KEEP_NODE=1 leaves the node up.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export NODE_IMAGES=${NODE_IMAGES:-$REPO/.run/image/sextant.oci.tar}
[[ -f $NODE_IMAGES ]] || { echo "test/node: no image archive $NODE_IMAGES: run 'make image' first" >&2; exit 1; }
# 7>&-: the servers it starts must not inherit (and so keep holding) the cluster lock.
infra() { bash "$REPO/test/infra/infra.sh" "$@" 7>&-; }
# Small enough that test/e2e sees the kubelet rotate a container's log.
export NODE_LOG_MAX_SIZE=${NODE_LOG_MAX_SIZE:-1Mi}

exec 7>"${SEXTANT_CLUSTER_LOCK:-/tmp/sextant-cluster.lock}"
echo "[node-tier] waiting for the cluster lock" >&2
flock 7
down() { [[ ${KEEP_NODE:-0} == 1 ]] || infra down node >&2; }
trap down EXIT
# kafka: the operator of runtime-failures.test.ts creates the Pipelines' topics; the e2e
# tier's pods use kafka, opensearch and s3 through the node's forwarders.
infra up kube node kafka opensearch s3 >/dev/null
cd "$REPO"
status=0
for tier in ${TIERS:-node e2e}; do
  echo "[node-tier] test/$tier" >&2
  npx ava --config "test/$tier/ava.config.js" "$@" || status=1
done
exit $status
