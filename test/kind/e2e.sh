#!/usr/bin/env bash
# End-to-end test of Sextant on a kind cluster (machines with Docker; not run in CI):
#
#   1. create a kind cluster (or reuse one of the same name, which is then kept)
#   2. docker build the image from ./Dockerfile and kind-load it
#   3. start throwaway Kafka, OpenSearch and MinIO from test/kind/deps.yaml and create the bucket
#   4. helm install helm/sextant (CRDs, operator, agent DaemonSet, Grafana provisioning)
#   5. kubectl apply the examples/ (Secrets with generated values, Sinks, RetentionPolicy,
#      Pipeline "api"), point the hot Sink at the plain-HTTP OpenSearch, wait for Ready
#   6. push $ENTRIES log entries through the Pipeline's ingestion Service (port-forward + curl)
#      and start a pod labelled app=api that writes 50 lines for the node agent to ship
#   7. query both back through the query Service's Loki API until the exact counts are there
#   8. start Grafana with the chart's datasource ConfigMap as its provisioning and the API key
#      from a Secret; Grafana's health check of both datasources must say OK (GRAFANA=0 skips)
#   9. delete the cluster (unless KEEP_CLUSTER=1 or it existed before)
#
# Needs on PATH: docker (running), kind, kubectl, helm (v3), curl, node (to read JSON).
# Docker should have ≥ 4 CPUs and ≥ 6 GB of memory (OpenSearch, Kafka, MinIO and Sextant).
#
# Settings (environment):
#   KIND_CLUSTER=sextant-e2e   cluster name          KIND_NODE_IMAGE=…  kind node image (optional)
#   IMAGE_REPO=sextant-e2e     image repository      IMAGE_TAG=dev      image tag
#   SKIP_BUILD=1               use an image already built with that name
#   KEEP_CLUSTER=1             leave the cluster running at the end (also on failure)
#   TIMEOUT=600                seconds for each wait  ENTRIES=100        entries pushed over HTTP
#   KAFKA_IMAGE, OPENSEARCH_IMAGE, MINIO_IMAGE      replace the images pinned in deps.yaml
#   GRAFANA=1, GRAFANA_IMAGE=grafana/grafana:11.6.0  the Grafana step and its image
#
# Usage: make kind-e2e   (or bash test/kind/e2e.sh)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER=${KIND_CLUSTER:-sextant-e2e}
CONTEXT=kind-$CLUSTER
IMAGE_REPO=${IMAGE_REPO:-sextant-e2e}
IMAGE_TAG=${IMAGE_TAG:-dev}
IMAGE=$IMAGE_REPO:$IMAGE_TAG
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP_CLUSTER=${KEEP_CLUSTER:-0}
TIMEOUT=${TIMEOUT:-600}
ENTRIES=${ENTRIES:-100}
AGENT_LINES=50
SYSTEM_NS=sextant-system
NS=team-a # the Pipeline's namespace (examples/sinks.yaml uses index prefix team-a)
PIPELINE=api
BUCKET=sextant-archive
GRAFANA=${GRAFANA:-1}
GRAFANA_IMAGE=${GRAFANA_IMAGE:-grafana/grafana:11.6.0}
RUN_ID=e2e$(date +%s)
WORK=$(mktemp -d)
PF_PIDS=()
CREATED_CLUSTER=0
STARTED=$(date +%s)

step() { printf '\n==> [%s +%ss] %s\n' "$(date +%H:%M:%S)" "$(($(date +%s) - STARTED))" "$*"; }
info() { printf '    %s\n' "$*"; }
die() {
  printf '\nFAILED: %s\n' "$*" >&2
  exit 1
}
kctl() { kubectl --context "$CONTEXT" "$@"; }
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

diagnostics() {
  printf '\n---- diagnostics ----\n' >&2
  kctl get pods -A -o wide >&2 || true
  kctl get sextant -A >&2 || true
  kctl -n "$NS" describe pipeline "$PIPELINE" >&2 || true
  kctl -n "$SYSTEM_NS" logs deployment/sextant-operator --tail=60 >&2 || true
  kctl -n "$NS" logs "deployment/$PIPELINE-ingestion" --tail=30 >&2 || true
  kctl -n "$NS" logs "deployment/$PIPELINE-processor" --tail=30 >&2 || true
  kctl -n "$NS" logs "deployment/$PIPELINE-query" --tail=30 >&2 || true
  kctl -n "$SYSTEM_NS" logs daemonset/sextant-agent --tail=30 >&2 || true
  kctl get events -A --sort-by=.lastTimestamp 2>/dev/null | tail -30 >&2 || true
}

cleanup() {
  local status=$?
  for pid in "${PF_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ] && kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then diagnostics; fi
  if [ "$CREATED_CLUSTER" = 1 ] && [ "$KEEP_CLUSTER" != 1 ]; then
    step "delete the kind cluster $CLUSTER"
    kind delete cluster --name "$CLUSTER" || true
  elif kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    info "cluster $CLUSTER left running (kubectl --context $CONTEXT …; kind delete cluster --name $CLUSTER)"
  fi
  rm -rf "$WORK"
  if [ "$status" -eq 0 ]; then printf '\nPASSED in %ss\n' "$(($(date +%s) - STARTED))"; fi
  exit "$status"
}
trap cleanup EXIT

# kubectl port-forward in the background (killed at exit); stores the local port, once it
# accepts connections, in the variable named by $4 (not echoed: a $(…) subshell would lose
# the background pid).
port_forward() {
  local ns=$1 target=$2 remote=$3 port log
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  log="$WORK/pf-${target//\//-}.log"
  kctl -n "$ns" port-forward "$target" "$port:$remote" >"$log" 2>&1 &
  PF_PIDS+=($!)
  local deadline=$(($(date +%s) + 60))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || die "port-forward to $ns/$target did not open: $(cat "$log")"
    sleep 1
  done
  printf -v "$4" '%s' "$port"
}

# Entries in a Loki query_range answer (streams × values).
count_entries() {
  node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const r=JSON.parse(s);
    if(r.status!=="success"){console.error(s);process.exit(1)}
    console.log(r.data.result.reduce((n,x)=>n+x.values.length,0))})'
}

loki_count() {
  local port=$1 query=$2 start
  start=$((($(date +%s) - 3600) * 1000000000))
  curl -sS -f -G "http://127.0.0.1:$port/loki/api/v1/query_range" -H "Authorization: Bearer $API_KEY" \
    --data-urlencode "query=$query" --data-urlencode "limit=5000" --data-urlencode "start=$start" | count_entries
}

# ------------------------------------------------------------------------------------------
step "checking tools and the chart"
for tool in docker kind kubectl helm curl node; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH (needs docker, kind, kubectl, helm, curl, node)"
done
docker info >/dev/null 2>&1 || die "the Docker daemon is not reachable (docker info failed)"
diff -r "$REPO/crds" "$REPO/helm/sextant/crds" >/dev/null || die "helm/sextant/crds differs from crds/: run make helm-crds"
info "run id $RUN_ID, image $IMAGE, cluster $CLUSTER"

step "kind cluster $CLUSTER"
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  info "reusing the existing cluster (it is kept at the end)"
else
  kind create cluster --name "$CLUSTER" ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 180s
  CREATED_CLUSTER=1
fi
kctl cluster-info >/dev/null

if [ "$SKIP_BUILD" != 1 ]; then
  step "docker build -t $IMAGE"
  docker build -t "$IMAGE" "$REPO"
fi
step "kind load docker-image $IMAGE"
kind load docker-image "$IMAGE" --name "$CLUSTER"

step "Kafka, OpenSearch and MinIO (test/kind/deps.yaml)"
S3_ACCESS_KEY=e2e$(random_hex 8)
S3_SECRET_KEY=$(random_hex 20)
API_KEY=$(random_hex 24)
sed -e "s#image: apache/kafka:.*#image: ${KAFKA_IMAGE:-apache/kafka:4.0.0}#" \
  -e "s#image: opensearchproject/opensearch:.*#image: ${OPENSEARCH_IMAGE:-opensearchproject/opensearch:2.19.1}#" \
  -e "s#image: minio/minio:.*#image: ${MINIO_IMAGE:-minio/minio:RELEASE.2025-04-22T22-12-26Z}#" \
  "$REPO/test/kind/deps.yaml" >"$WORK/deps.yaml"
kctl apply -f "$WORK/deps.yaml"
kctl -n storage create secret generic minio-root --from-literal=accessKeyId="$S3_ACCESS_KEY" \
  --from-literal=secretAccessKey="$S3_SECRET_KEY" --dry-run=client -o yaml | kctl apply -f -
kctl -n storage rollout restart deployment/minio >/dev/null # pick up the credentials of this run
for dep in kafka/kafka logging/opensearch storage/minio; do
  info "waiting for $dep"
  kctl -n "${dep%/*}" rollout status "deployment/${dep#*/}" --timeout="${TIMEOUT}s"
done

step "bucket $BUCKET"
# shellcheck disable=SC2016 # $MINIO_ROOT_* expand inside the pod, not here
if kctl -n storage exec deployment/minio -- sh -c \
  'mc alias set local http://127.0.0.1:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null && mc mb --ignore-existing local/'"$BUCKET" 2>"$WORK/mc.err"; then
  info "created with mc inside the MinIO pod"
else
  # Images without mc: a SigV4-signed PUT Bucket through a port-forward (curl ≥ 7.75).
  info "no mc in the MinIO image ($(head -c 200 "$WORK/mc.err")); using curl --aws-sigv4"
  port_forward storage svc/minio 9000 MINIO_PORT
  code=$(curl -sS -o "$WORK/bucket.out" -w '%{http_code}' -X PUT "http://127.0.0.1:$MINIO_PORT/$BUCKET" \
    --aws-sigv4 "aws:amz:eu-west-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855') ||
    die "PUT /$BUCKET to MinIO failed (curl exit $?)"
  case $code in
    200 | 409) info "PUT /$BUCKET: $code" ;;
    *) die "creating bucket $BUCKET: HTTP $code $(cat "$WORK/bucket.out")" ;;
  esac
fi

step "helm install sextant (namespace $SYSTEM_NS)"
helm upgrade --install sextant "$REPO/helm/sextant" --kube-context "$CONTEXT" \
  --namespace "$SYSTEM_NS" --create-namespace \
  --set image.repository="$IMAGE_REPO" --set image.tag="$IMAGE_TAG" --set image.pullPolicy=IfNotPresent \
  --set-json "grafana.datasources.pipelines=[{\"name\":\"$PIPELINE\",\"namespace\":\"$NS\"}]" \
  --wait --timeout "${TIMEOUT}s"
kctl get crd pipelines.sextant.dev sinks.sextant.dev retentionpolicies.sextant.dev
kctl -n "$SYSTEM_NS" rollout status daemonset/sextant-agent --timeout="${TIMEOUT}s"

step "examples/ into namespace $NS"
kctl create namespace "$NS" --dry-run=client -o yaml | kctl apply -f -
# What the Pipeline references first, then real values instead of the placeholder Secrets
# and the hot Sink on the plain-HTTP OpenSearch, and the Pipeline last: the operator's first
# rollout is already the working one.
apply_examples() { # $1: pipelines | others
  local file
  for file in "$REPO"/examples/*.yaml; do
    # Only Kubernetes manifests (a runtime's config file lives in examples/runtime/).
    if ! grep -q '^apiVersion:' "$file"; then
      [ "$1" = others ] && info "skipping $(basename "$file") (not a Kubernetes manifest)"
      continue
    fi
    if grep -q '^kind: Pipeline' "$file"; then
      [ "$1" = pipelines ] && kctl -n "$NS" apply -f "$file"
    else
      [ "$1" = others ] && kctl -n "$NS" apply -f "$file"
    fi
  done
  return 0
}
apply_examples others
kctl -n "$NS" create secret generic api-keys --from-literal=keys="$API_KEY" --dry-run=client -o yaml | kctl apply -f -
kctl -n "$NS" create secret generic s3-creds --from-literal=accessKeyId="$S3_ACCESS_KEY" \
  --from-literal=secretAccessKey="$S3_SECRET_KEY" --dry-run=client -o yaml | kctl apply -f -
kctl -n "$NS" patch sink hot --type merge \
  -p '{"spec":{"opensearch":{"endpoints":["http://opensearch.logging:9200"],"credentialsSecretRef":null,"tls":null}}}'
apply_examples pipelines

step "waiting for Pipeline $NS/$PIPELINE to be Ready"
kctl -n "$NS" wait "pipeline/$PIPELINE" --for=condition=Ready --timeout="${TIMEOUT}s"
kctl -n "$NS" get sextant
for component in ingestion processor query; do
  kctl -n "$NS" rollout status "deployment/$PIPELINE-$component" --timeout="${TIMEOUT}s"
done

step "a pod labelled app=api writes $AGENT_LINES lines for the node agent"
kctl -n "$NS" delete pod logger --ignore-not-found --wait=true >/dev/null
kctl -n "$NS" apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata: { name: logger, labels: { app: api } }
spec:
  restartPolicy: Never
  containers:
    - name: logger
      image: busybox:1.36
      command:
        - sh
        - -c
        - 'i=0; while [ \$i -lt $AGENT_LINES ]; do i=\$((i+1)); echo "{\"msg\":\"$RUN_ID agent line \$i\",\"level\":\"info\"}"; done; sleep 3600'
EOF
kctl -n "$NS" wait pod/logger --for=condition=Ready --timeout="${TIMEOUT}s"

step "push $ENTRIES log entries to the ingestion Service"
port_forward "$NS" "svc/$PIPELINE-ingestion" 8080 INGEST_PORT
# shellcheck disable=SC2016 # a JavaScript template literal, not a shell expansion
body=$(node -e '
  const [run, n] = process.argv.slice(1);
  const entries = Array.from({ length: Number(n) }, (_, i) => ({
    labels: { service: "e2e", e2e: run, level: "info" },
    message: JSON.stringify({ msg: `${run} http line ${i + 1}`, level: "info" }),
  }));
  console.log(JSON.stringify({ entries }));' "$RUN_ID" "$ENTRIES")
answer=$(curl -sS -f -X POST "http://127.0.0.1:$INGEST_PORT/api/v1/logs" -H "Authorization: Bearer $API_KEY" \
  -H 'Content-Type: application/json' --data-binary "$body") || die "the ingestion refused the push"
info "ingestion answered: $answer"

step "query them back through the query Service (Loki API)"
port_forward "$NS" "svc/$PIPELINE-query" 8080 QUERY_PORT
http_query="{e2e=\"$RUN_ID\"}"
agent_query="{namespace=\"$NS\", pod=\"logger\"} |= \"$RUN_ID\""
deadline=$(($(date +%s) + TIMEOUT))
while :; do
  got_http=$(loki_count "$QUERY_PORT" "$http_query" 2>"$WORK/q1.err" || echo "error")
  got_agent=$(loki_count "$QUERY_PORT" "$agent_query" 2>"$WORK/q2.err" || echo "error")
  info "$http_query → $got_http of $ENTRIES; agent lines → $got_agent of $AGENT_LINES"
  [ "$got_http" = "$ENTRIES" ] && [ "$got_agent" = "$AGENT_LINES" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    cat "$WORK/q1.err" "$WORK/q2.err" >&2
    die "expected exactly $ENTRIES pushed and $AGENT_LINES agent entries, got $got_http and $got_agent"
  fi
  sleep 5
done

if [ "$GRAFANA" = 1 ]; then
  step "Grafana provisioned from the chart's datasource ConfigMap"
  # The API key reaches Grafana as the environment variable the datasources reference
  # ($__env{SEXTANT_API_KEY}); the ConfigMap itself holds no secret.
  kctl -n "$SYSTEM_NS" create secret generic grafana-sextant-key --from-literal=key="$API_KEY" \
    --dry-run=client -o yaml | kctl apply -f -
  kctl -n "$SYSTEM_NS" apply -f - <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: { name: grafana-e2e }
spec:
  replicas: 1
  selector: { matchLabels: { app: grafana-e2e } }
  template:
    metadata: { labels: { app: grafana-e2e } }
    spec:
      containers:
        - name: grafana
          image: $GRAFANA_IMAGE
          env:
            - { name: GF_AUTH_ANONYMOUS_ENABLED, value: 'true' }
            - { name: GF_AUTH_ANONYMOUS_ORG_ROLE, value: Admin }
            - name: SEXTANT_API_KEY
              valueFrom: { secretKeyRef: { name: grafana-sextant-key, key: key } }
          ports: [{ containerPort: 3000 }]
          readinessProbe:
            httpGet: { path: /api/health, port: 3000 }
          volumeMounts:
            - { name: datasources, mountPath: /etc/grafana/provisioning/datasources }
      volumes:
        - name: datasources
          configMap: { name: sextant-grafana-datasources }
EOF
  kctl -n "$SYSTEM_NS" rollout status deployment/grafana-e2e --timeout="${TIMEOUT}s"
  port_forward "$SYSTEM_NS" deployment/grafana-e2e 3000 GRAFANA_PORT
  for uid in "sextant-prom-$NS-$PIPELINE" "sextant-loki-$NS-$PIPELINE"; do
    health=$(curl -sS "http://127.0.0.1:$GRAFANA_PORT/api/datasources/uid/$uid/health") || die "Grafana did not answer"
    info "$uid: $health"
    case $health in
      *'"status":"OK"'*) ;;
      *) die "Grafana's health check of datasource $uid failed: $health" ;;
    esac
  done
fi
