# Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
# built from the Go module proxy (test/infra/kube/*.sh), kwok for fake nodes whose pods
# become Running, and helm. Certificates are generated locally with openssl.
# shellcheck shell=bash

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
HELM_VERSION=${HELM_VERSION:-v3.19.5}
KUBE_APISERVER_PORT=${KUBE_APISERVER_PORT:-16443}
KUBE_ETCD_PORT=${KUBE_ETCD_PORT:-12379}
KUBE_ETCD_PEER_PORT=${KUBE_ETCD_PEER_PORT:-12380}
KUBE_CM_PORT=${KUBE_CM_PORT:-16257}
KUBE_SCHEDULER_PORT=${KUBE_SCHEDULER_PORT:-16259}
KUBE_KWOK_PORT=${KUBE_KWOK_PORT:-16247}
KUBE_TIMEOUT=${KUBE_TIMEOUT:-180}
KUBE_FAKE_NODES=${KUBE_FAKE_NODES:-2}

kube_home() { echo "$CACHE/kube-$KUBE_VERSION"; }
kube_tools_home() { echo "$CACHE/kube-tools-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION"; }
kube_bin() {
  case $1 in
    etcd | kwok | helm) echo "$(kube_tools_home)/bin/$1" ;;
    *) echo "$(kube_home)/bin/$1" ;;
  esac
}
kube_dir() { echo "$RUN/kube"; }
kube_procs() { echo kube-etcd kube-apiserver kube-controller-manager kube-scheduler kube-kwok; }
kube_ports() { echo "$KUBE_ETCD_PORT $KUBE_ETCD_PEER_PORT $KUBE_APISERVER_PORT $KUBE_CM_PORT $KUBE_SCHEDULER_PORT $KUBE_KWOK_PORT"; }
# Our own kubectl of the server's version (a distro kubectl may be several minors behind).
kubectl_bin() { kube_bin kubectl; }
kctl() { "$(kubectl_bin)" --kubeconfig "$(kube_dir)/admin.kubeconfig" "$@"; }

kube_install() {
  command -v go >/dev/null || die "kube: Go is needed to build the control plane (go 1.25+)"
  command -v openssl >/dev/null || apt_install openssl
  local home
  home=$(kube_home)
  if [[ ! -x $home/bin/kube-apiserver || ! -x $home/bin/kube-controller-manager || ! -x $home/bin/kube-scheduler ]]; then
    log "kube: building Kubernetes $KUBE_VERSION from the module proxy into $home (once; ~15-25 min on 2 cores)"
    bash "$INFRA_DIR/kube/build-kubernetes.sh" "$home" "$KUBE_VERSION" || die "kube: building Kubernetes $KUBE_VERSION failed"
  fi
  if [[ ! -x $home/bin/kubectl ]]; then
    log "kube: building kubectl $KUBE_VERSION"
    KUBE_COMMANDS=kubectl bash "$INFRA_DIR/kube/build-kubernetes.sh" "$home" "$KUBE_VERSION" || die "kube: building kubectl failed"
  fi
  bash "$INFRA_DIR/kube/build-tools.sh" "$(kube_tools_home)" "$ETCD_VERSION" "$KWOK_VERSION" "$HELM_VERSION" || die "kube: building etcd/kwok/helm failed"
}

# One CA; a serving cert for the API server; client certs per component; SA key pair.
kube_certs() {
  local d=$1
  [[ -f $d/ca.crt ]] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=sextant-test-ca" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  cat >"$d/apiserver.ext" <<EXT
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
EXT
  kube_cert "$d" apiserver "/CN=kube-apiserver" "$d/apiserver.ext"
  printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext"
  kube_cert "$d" admin "/O=system:masters/CN=sextant-admin" "$d/client.ext"
  kube_cert "$d" controller-manager "/CN=system:kube-controller-manager" "$d/client.ext"
  kube_cert "$d" scheduler "/CN=system:kube-scheduler" "$d/client.ext"
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
}

kube_cert() {
  local d=$1 name=$2 subj=$3 ext=$4
  openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null
  openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -extfile "$ext" -out "$d/$name.crt" 2>/dev/null
}

kube_kubeconfig() {
  local d=$1 name=$2
  cat >"$d/$name.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: sextant-test
  cluster:
    server: https://127.0.0.1:$KUBE_APISERVER_PORT
    certificate-authority: $d/ca.crt
users:
- name: $name
  user:
    client-certificate: $d/$name.crt
    client-key: $d/$name.key
contexts:
- name: sextant-test
  context: { cluster: sextant-test, user: $name, namespace: default }
current-context: sextant-test
YAML
}

kube_start() {
  local d
  d=$(kube_dir)
  mkdir -p "$d"
  kube_certs "$d"
  # every start: the kubeconfigs follow KUBE_APISERVER_PORT even when the certs are reused
  local name
  for name in admin controller-manager scheduler; do kube_kubeconfig "$d" "$name"; done
  kube_spawn kube-etcd "$d/etcd.log" "$(kube_bin etcd)" --name sextant-test --data-dir "$d/etcd" \
    --listen-client-urls "http://127.0.0.1:$KUBE_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$KUBE_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$KUBE_ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$KUBE_ETCD_PEER_PORT" \
    --initial-cluster "sextant-test=http://127.0.0.1:$KUBE_ETCD_PEER_PORT" --quota-backend-bytes 1073741824 --log-level warn
  kube_spawn kube-apiserver "$d/apiserver.log" "$(kube_bin kube-apiserver)" \
    --etcd-servers "http://127.0.0.1:$KUBE_ETCD_PORT" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --secure-port "$KUBE_APISERVER_PORT" --cert-dir "$d/apiserver-certs" \
    --tls-cert-file "$d/apiserver.crt" --tls-private-key-file "$d/apiserver.key" --client-ca-file "$d/ca.crt" \
    --authorization-mode Node,RBAC --allow-privileged \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$d/sa.pub" --service-account-signing-key-file "$d/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none --profiling=false
}

# The controllers start only once the API server is ready: before its RBAC bootstrap
# roles exist they are refused and exit.
kube_start_controllers() {
  local d
  d=$(kube_dir)
  kube_spawn kube-controller-manager "$d/controller-manager.log" "$(kube_bin kube-controller-manager)" \
    --kubeconfig "$d/controller-manager.kubeconfig" --authentication-kubeconfig "$d/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$d/controller-manager.kubeconfig" --bind-address 127.0.0.1 --secure-port "$KUBE_CM_PORT" \
    --cert-dir "$d/cm-certs" --service-account-private-key-file "$d/sa.key" --root-ca-file "$d/ca.crt" \
    --use-service-account-credentials --cluster-signing-cert-file "$d/ca.crt" --cluster-signing-key-file "$d/ca.key" \
    --leader-elect=false --profiling=false
  kube_spawn kube-scheduler "$d/scheduler.log" "$(kube_bin kube-scheduler)" \
    --kubeconfig "$d/scheduler.kubeconfig" --authentication-kubeconfig "$d/scheduler.kubeconfig" \
    --authorization-kubeconfig "$d/scheduler.kubeconfig" --bind-address 127.0.0.1 --secure-port "$KUBE_SCHEDULER_PORT" \
    --cert-dir "$d/scheduler-certs" --leader-elect=false --profiling=false
  kube_spawn kube-kwok "$d/kwok.log" "$(kube_bin kwok)" --kubeconfig "$d/admin.kubeconfig" --config "$(kube_tools_home)/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr 10.0.0.1/24 --node-ip 10.0.0.1 --server-address "127.0.0.1:$KUBE_KWOK_PORT"
}

# kube_spawn NAME LOG CMD... — spawn unless our process NAME still runs: when one process
# died, `up` calls kube_start again, and a second etcd or API server would fail on its busy
# port while the first one, its pidfile overwritten, would be left running untracked.
kube_spawn() { ours_pid "$1" >/dev/null || spawn "$@"; }

kube_check() { kctl get --raw /readyz >/dev/null; }

kube_ready() {
  kube_check || return 1
  kctl get serviceaccount default -n default >/dev/null || return 1
  local i
  for ((i = 0; i < KUBE_FAKE_NODES; i++)); do
    kctl get node "kwok-node-$i" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -q True || return 1
  done
}

kube_fake_nodes() {
  local i
  for ((i = 0; i < KUBE_FAKE_NODES; i++)); do
    kctl apply -f - >/dev/null <<YAML || return 1
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: { node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake }
  labels: { type: kwok, kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64 }
spec: {}
YAML
  done
}

# The version of the running API server, from the cache folder on its command line.
kube_running_version() {
  local pid
  pid=$(ours_pid kube-apiserver) || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n 's|.*/kube-\(v[0-9][^/]*\)/bin/kube-apiserver$|\1|p'
}

kube_wait() {
  local d running
  d=$(kube_dir)
  # `up` reuses running processes: a control plane of another version (KUBE_VERSION or its
  # default changed) would be reused while the env file named the new one.
  running=$(kube_running_version || true)
  [[ -z $running || $running == "$KUBE_VERSION" ]] ||
    die "kube: the running control plane is $running, not $KUBE_VERSION: 'infra.sh down kube' first (or KUBE_VERSION=$running)"
  wait_ready kube-apiserver kube-apiserver "$d/apiserver.log" "$KUBE_TIMEOUT" kube_check
  kube_start_controllers
  wait_ready kube-nodes kube-kwok "$d/kwok.log" 60 kube_fake_nodes
  wait_ready kube kube-controller-manager "$d/controller-manager.log" "$KUBE_TIMEOUT" kube_ready
}

# The version that runs (the env file is rewritten by every up/down, also of other services,
# possibly after KUBE_VERSION's default changed under a running control plane).
kube_env() {
  local v
  v=$(kube_running_version || true)
  v=${v:-$KUBE_VERSION}
  echo "KUBECONFIG=$(kube_dir)/admin.kubeconfig"
  echo "KUBECTL=$CACHE/kube-$v/bin/kubectl"
  echo "HELM_BIN=$(kube_bin helm)"
  echo "KUBE_VERSION=$v"
}

kube_describe() {
  echo "Kubernetes $KUBE_VERSION (etcd $ETCD_VERSION, kwok $KWOK_VERSION: $KUBE_FAKE_NODES fake nodes, helm $HELM_VERSION) https://127.0.0.1:$KUBE_APISERVER_PORT"
}
