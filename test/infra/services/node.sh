# A real Kubernetes node for the `kube` control plane: Debian's containerd and runc with a
# private root, state and socket, a kubelet built with the control plane (same wrapper
# module and version, test/infra/kube/build-kubernetes.sh), the CNI bridge plugin from
# Debian's containernetworking-plugins, and a pause image compiled statically with gcc.
# Needs root (network namespaces, mounts, cgroups) and a running `kube` service.
#
# What it changes on the machine, and how `down` puts it back (all recorded in $RUN/node):
#   - sysctls the kubelet rewrites at start (vm.overcommit_memory, kernel.panic,
#     kernel.panic_on_oops): saved before the first start, restored after the kubelet stops;
#   - the bridge $NODE_BRIDGE holding the node IP (never an interface that leaves the
#     machine), which the CNI plugin adopts, with forwarding on it alone: deleted;
#   - cgroups under $NODE_CGROUP_ROOT in every hierarchy (the kubelet's cgroupRoot): removed;
#   - mounts (netns files, shm, overlay rootfs, volumes), all under $RUN/node: unmounted;
#   - /var/log/pods, /var/log/containers, /var/lib/cni, /run/containerd (fixed paths of the
#     kubelet, the CNI library and the runc shim): entries that were not there before `up`
#     are removed, a folder that did not exist is removed whole;
#   - iptables rules and chains that appear while the node runs and name KUBE-/CNI- chains
#     or our addresses: deleted (nothing else is touched);
#   - the propagation of the / mount: made shared if it was private (a container mounting the
#     host's / with HostToContainer propagation needs it, as on any systemd node): private again;
#   - the Node object: cordoned, its pods deleted (so the kubelet stops them through the
#     CRI), then deleted from the API server.
# The node registers with the taint $NODE_TAINT (NoSchedule), so workloads of the tests
# that use kwok's fake nodes never land on it; pods meant for it tolerate the taint.
# shellcheck shell=bash

NODE_BRIDGE=${NODE_BRIDGE:-sxbr0}
NODE_POD_CIDR=${NODE_POD_CIDR:-10.251.0.0/24}
# the bridge's address, which the CNI plugin's host-local IPAM keeps as the pods' gateway
NODE_IP=${NODE_IP:-10.251.0.1}
# The node's name is its IP: the API server reaches a kubelet (logs, exec) at the node's
# Hostname address first, which is the name, and nothing resolves a made-up host name here.
NODE_NAME=${NODE_NAME:-$NODE_IP}
NODE_KUBELET_PORT=${NODE_KUBELET_PORT:-16250}
NODE_KUBELET_HEALTHZ_PORT=${NODE_KUBELET_HEALTHZ_PORT:-16248}
NODE_PROXY_HEALTHZ_PORT=${NODE_PROXY_HEALTHZ_PORT:-16256}
NODE_PROXY_METRICS_PORT=${NODE_PROXY_METRICS_PORT:-16249}
# kube-proxy (nftables mode, its own nft table) and a TCP forwarder that gives the
# `kubernetes` Service an endpoint pods can reach: NODE_IP:KUBE_APISERVER_PORT -> loopback
NODE_PROXY=${NODE_PROXY:-1}
# cluster DNS: CoreDNS (Go module proxy) as a host process on the node IP, port 53, the
# kubelet's clusterDNS; names like api-ingestion.team-a.svc.cluster.local resolve in pods
NODE_DNS=${NODE_DNS:-1}
COREDNS_VERSION=${COREDNS_VERSION:-v1.15.0}
NODE_DNS_READY_PORT=${NODE_DNS_READY_PORT:-16281}
NODE_CGROUP_ROOT=${NODE_CGROUP_ROOT:-/sextant-node}
NODE_TAINT=${NODE_TAINT:-sextant.dev/real-node=true:NoSchedule}
NODE_LOG_MAX_SIZE=${NODE_LOG_MAX_SIZE:-10Mi}
NODE_TIMEOUT=${NODE_TIMEOUT:-180}
# Ports of the host's test servers that pods reach at NODE_IP (a forwarder each, bound to
# the node IP only, to the server on loopback): Kafka's pods listener, OpenSearch, s3proxy.
NODE_HOST_FORWARDS=${NODE_HOST_FORWARDS:-${KAFKA_PODS_PORT:-19094} ${OPENSEARCH_PORT:-19200} ${S3_PORT:-19000}}
# OCI archives imported into the node's containerd at start (e.g. the `make image` one).
NODE_IMAGES=${NODE_IMAGES:-}
NODE_PAUSE_IMAGE=localhost/sextant-pause:1
# the three the kubelet rewrites, and those kube-proxy could touch (restored if they changed)
NODE_SYSCTLS="vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward net.ipv4.conf.all.route_localnet net.netfilter.nf_conntrack_max"
NODE_SYSTEM_PATHS="/var/log/pods /var/log/containers /var/lib/cni /run/containerd /var/lib/kubelet /etc/kubernetes /run/kubernetes"

node_dir() { echo "$RUN/node"; }
node_procs() {
  echo node-containerd node-kubelet
  [[ $NODE_PROXY == 1 ]] && echo node-proxy node-apifwd
  [[ $NODE_DNS == 1 ]] && echo node-dns
  for p in $NODE_HOST_FORWARDS; do echo "node-fwd-$p"; done
  return 0
}
node_ports() {
  echo "$NODE_KUBELET_HEALTHZ_PORT"
  [[ $NODE_PROXY == 1 ]] && echo "$NODE_PROXY_HEALTHZ_PORT $NODE_PROXY_METRICS_PORT"
  [[ $NODE_DNS == 1 ]] && echo "$NODE_DNS_READY_PORT"
  return 0
}
node_coredns_bin() { echo "$CACHE/coredns-$COREDNS_VERSION/bin/coredns"; }
node_sock() { echo "$(node_dir)/containerd/containerd.sock"; }
node_ctr() { ctr --address "$(node_sock)" --namespace k8s.io "$@"; }
node_pause_home() { echo "$CACHE/node-pause-$(sha256sum "$INFRA_DIR/node/pause.c" | cut -c1-12)"; }

node_install() {
  local missing=() cmd pkg
  for cmd in containerd:containerd runc:runc ctr:containerd gcc:gcc umoci:umoci iptables-save:iptables ip:iproute2 openssl:openssl nft:nftables socat:socat; do
    command -v "${cmd%%:*}" >/dev/null || missing+=("${cmd#*:}")
  done
  [[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
  [[ -f /usr/lib/x86_64-linux-gnu/libc.a ]] || missing+=(libc6-dev)
  if ((${#missing[@]})); then
    # shellcheck disable=SC2046 # de-duplicated word list
    apt_install $(printf '%s\n' "${missing[@]}" | sort -u)
  fi
  local home
  home=$(kube_home)
  for pkg in kubelet kube-proxy; do
    if [[ ! -x $home/bin/$pkg ]]; then
      log "node: building $pkg $KUBE_VERSION into $home/bin (once; the control plane's binaries stay)"
      KUBE_COMMANDS=$pkg bash "$INFRA_DIR/kube/build-kubernetes.sh" "$home" "$KUBE_VERSION" || die "node: building $pkg failed"
    fi
  done
  node_build_pause
  [[ $NODE_DNS == 1 ]] && node_build_coredns
  return 0
}

node_build_coredns() {
  local home tmp start
  home=$CACHE/coredns-$COREDNS_VERSION
  [[ -x $home/bin/coredns ]] && return 0
  start=$(now_s)
  log "node: building CoreDNS $COREDNS_VERSION from the module proxy into $home (once; several minutes)"
  tmp=$home.tmp.$$
  rm -rf "$tmp" && mkdir -p "$tmp/bin"
  GOBIN=$tmp/bin GOFLAGS=-trimpath GOTOOLCHAIN=local nice -n "${KUBE_BUILD_NICE:-10}" \
    go install -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION" || die "node: building CoreDNS $COREDNS_VERSION failed"
  rm -rf "$home" && mv "$tmp" "$home"
  log "node: CoreDNS built in $(since "$start")s"
}

# The pause image: a static binary in an image of one layer, as an OCI archive.
node_build_pause() {
  local home tmp
  home=$(node_pause_home)
  [[ -f $home/pause.oci.tar ]] && return 0
  log "node: compiling the pause binary (gcc -static) and wrapping it as $NODE_PAUSE_IMAGE"
  tmp=$home.tmp.$$
  rm -rf "$tmp" && mkdir -p "$tmp"
  gcc -static -Os -s -o "$tmp/pause" "$INFRA_DIR/node/pause.c" || die "node: gcc -static pause.c failed (libc6-dev?)"
  umoci init --layout "$tmp/oci" && umoci new --image "$tmp/oci:1"
  umoci unpack --image "$tmp/oci:1" "$tmp/bundle" >/dev/null
  install -m 0755 "$tmp/pause" "$tmp/bundle/rootfs/pause"
  umoci repack --image "$tmp/oci:1" "$tmp/bundle"
  umoci config --image "$tmp/oci:1" --config.entrypoint /pause --config.user 65535:65535
  umoci gc --layout "$tmp/oci"
  node -e '
    const fs = require("fs"), [f, name] = process.argv.slice(1), ix = JSON.parse(fs.readFileSync(f, "utf8"));
    for (const m of ix.manifests) m.annotations = { ...m.annotations, "io.containerd.image.name": name };
    fs.writeFileSync(f, JSON.stringify(ix));' "$tmp/oci/index.json" "$NODE_PAUSE_IMAGE"
  tar -C "$tmp/oci" -cf "$tmp/pause.oci.tar" .
  rm -rf "$tmp/oci" "$tmp/bundle"
  rm -rf "$home" && mv "$tmp" "$home"
}

# --- what we change on the machine, recorded so that `down` undoes exactly that ------------

node_record_system() {
  local d p
  d=$(node_dir)/saved
  # Recorded once per up/down cycle: a restart after a crash must not record the kubelet's
  # values as the machine's.
  [[ -f $d/.complete ]] && return 0
  mkdir -p "$d"
  for p in $NODE_SYSCTLS; do echo "$p=$(sysctl -n "$p")"; done >"$d/sysctl"
  for p in $NODE_SYSTEM_PATHS; do
    if [[ -d $p ]]; then
      echo "$p" >>"$d/paths-existed"
      find "$p" -mindepth 1 -maxdepth 1 >>"$d/path-entries"
    fi
  done
  touch "$d/paths-existed" "$d/path-entries"
  for p in "" 6; do
    command -v "ip${p}tables-save" >/dev/null && "ip${p}tables-save" 2>/dev/null | node_iptables_rules >"$d/ip${p}tables"
  done
  command -v nft >/dev/null && nft list tables >"$d/nft-tables" 2>/dev/null
  findmnt -rno PROPAGATION / >"$d/root-propagation"
  touch "$d/.complete"
}

# The root mount must be shared for a container that mounts the host's / with
# HostToContainer propagation (the chart's agent does, for node metrics), as it is on a
# systemd node; this VM's is private. Only / itself changes, and down puts it back.
node_share_root() {
  [[ $(findmnt -rno PROPAGATION /) == private ]] || return 0
  log "node: mount --make-shared / (it was private; put back on down)"
  mount --make-shared /
}

# iptables-save output as "table<TAB>rule" lines (chains as ":NAME" pseudo rules).
node_iptables_rules() {
  awk '/^\*/ {t = substr($0, 2)} /^:/ {split($0, c, " "); print t "\t" c[1]} /^-A / {print t "\t" $0}'
}

# Rules/chains present now, absent before `up`, and ours: naming KUBE-/CNI- chains, our
# bridge, node IP or pod CIDR.
node_iptables_restore() {
  local d=$1 p t rule ours
  ours="KUBE-|CNI-|$NODE_BRIDGE|${NODE_IP//./\\.}|${NODE_POD_CIDR%%/*}"
  for p in "" 6; do
    [[ -f $d/ip${p}tables ]] || continue
    "ip${p}tables-save" 2>/dev/null | node_iptables_rules | grep -vxFf "$d/ip${p}tables" | grep -E "$ours" >"$d/ip${p}tables.new" || true
    # rules first (deleting a rule takes the same words as adding it), then our chains
    while IFS=$'\t' read -r t rule; do
      [[ $rule == -A* ]] || continue
      log "node: iptables -t $t ${rule/-A/-D}"
      # shellcheck disable=SC2086 # the rule's own words
      eval "ip${p}tables -w -t $t ${rule/-A/-D}" || true
    done <"$d/ip${p}tables.new"
    while IFS=$'\t' read -r t rule; do
      [[ $rule == :* ]] || continue
      log "node: iptables -t $t -X ${rule#:}"
      "ip${p}tables" -w -t "$t" -F "${rule#:}" 2>/dev/null || true
      "ip${p}tables" -w -t "$t" -X "${rule#:}" || true
    done <"$d/ip${p}tables.new"
  done
}

node_restore_system() {
  local d p
  d=$(node_dir)/saved
  [[ -f $d/.complete ]] || return 0
  while IFS= read -r p; do
    [[ -n $p ]] || continue
    if [[ $(sysctl -n "${p%%=*}") != "${p#*=}" ]]; then
      log "node: restoring sysctl $p"
      sysctl -q -w "$p" >/dev/null || log "node: WARNING: could not restore sysctl $p"
    fi
  done <"$d/sysctl"
  for p in $NODE_SYSTEM_PATHS; do
    [[ -d $p ]] || continue
    if ! grep -qxF "$p" "$d/paths-existed"; then
      log "node: removing $p (created while the node ran)"
      rm -rf "$p"
    else
      find "$p" -mindepth 1 -maxdepth 1 | grep -vxFf "$d/path-entries" | while IFS= read -r e; do
        log "node: removing $e"
        rm -rf "$e"
      done || true
    fi
  done
  if [[ $(cat "$d/root-propagation" 2>/dev/null) == private && $(findmnt -rno PROPAGATION /) != private ]]; then
    log "node: mount --make-private / (as it was)"
    mount --make-private / || log "node: WARNING: could not make / private again"
  fi
  node_iptables_restore "$d"
  # kube-proxy's own nft tables, if they were not there before
  local fam
  for fam in ip ip6; do
    if nft list table "$fam" kube-proxy >/dev/null 2>&1 && ! grep -qx "table $fam kube-proxy" "$d/nft-tables" 2>/dev/null; then
      log "node: nft delete table $fam kube-proxy"
      nft delete table "$fam" kube-proxy || true
    fi
  done
  rm -rf "$d"
}

# --- network ------------------------------------------------------------------------------

# The node IP is the bridge's own address (the pods' gateway): this kernel has no dummy
# interfaces, and nothing may go on an interface that leaves the machine. The bridge exists
# before the CNI plugin, which adopts it, so forwarding can be enabled on it alone (Services
# of pods on the same bridge); the machine-wide ip_forward stays as it is.
node_network_up() {
  if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    log "node: bridge $NODE_BRIDGE with the node IP $NODE_IP/${NODE_POD_CIDR#*/} (the pods' gateway)"
    ip link add "$NODE_BRIDGE" type bridge || die "node: cannot create bridge $NODE_BRIDGE"
  fi
  ip addr replace "$NODE_IP/${NODE_POD_CIDR#*/}" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  sysctl -q -w "net.ipv4.conf.$NODE_BRIDGE.forwarding=1" >/dev/null
}

node_network_down() {
  if ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    log "node: deleting bridge $NODE_BRIDGE"
    ip link delete "$NODE_BRIDGE" || true
  fi
}

# --- configuration --------------------------------------------------------------------------

# node_client_cert DIR NAME SUBJECT — a client certificate of the control plane's CA
node_client_cert() {
  local d=$1 name=$2 subj=$3 k
  k=$(kube_dir)
  [[ -f $k/ca.key ]] || die "node: no control plane CA at $k/ca.key: 'infra.sh up kube' first"
  if [[ ! -f $d/$name.crt ]] || ! openssl verify -CAfile "$k/ca.crt" "$d/$name.crt" >/dev/null 2>&1; then
    mkdir -p "$d"
    printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext"
    openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null
    openssl x509 -req -in "$d/$name.csr" -CA "$k/ca.crt" -CAkey "$k/ca.key" -CAcreateserial -days 3650 \
      -extfile "$d/client.ext" -out "$d/$name.crt" 2>/dev/null
  fi
  cat >"$d/$name.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: sextant-test
  cluster: { server: "https://127.0.0.1:$KUBE_APISERVER_PORT", certificate-authority: "$k/ca.crt" }
users:
- name: $name
  user: { client-certificate: "$d/$name.crt", client-key: "$d/$name.key" }
contexts:
- name: sextant-test
  context: { cluster: sextant-test, user: $name }
current-context: sextant-test
YAML
}

node_write_config() {
  local d=$1
  mkdir -p "$d/containerd" "$d/cni/net.d" "$d/cni/ipam" "$d/kubelet" "$d/manifests"
  node_write_if_changed "$d/containerd.toml" <<TOML
# generated by test/infra/services/node.sh; everything under $d
version = 2
root = "$d/containerd/root"
state = "$d/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$d/containerd/containerd.sock"
[ttrpc]
  address = "$d/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$NODE_PAUSE_IMAGE"
  # no CAP_SYS_RESOURCE in the VM: runc fails on the sandbox's negative oom_score_adj
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # runc, not crun: crun 1.8 refuses this host's hybrid cgroups
        BinaryName = "/usr/sbin/runc"
        Root = "$d/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni/net.d"
    max_conf_num = 1
TOML
  # isGateway false: the bridge already holds the gateway address (node_network_up), and a
  # gateway bridge makes the plugin switch on net.ipv4.ip_forward for the whole machine
  node_write_if_changed "$d/cni/net.d/10-sextant.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "sextant-node",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$d/cni/ipam",
        "ranges": [[{ "subnet": "$NODE_POD_CIDR", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
JSON
  local key=${NODE_TAINT%%=*} rest=${NODE_TAINT#*=}
  node_write_if_changed "$d/kubelet.yaml" <<YAML
# generated by test/infra/services/node.sh
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# served on the node IP (the bridge's address), health on loopback, no read-only port
address: $NODE_IP
port: $NODE_KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $NODE_KUBELET_HEALTHZ_PORT
# the API server holds no kubelet client certificate (services/kube.sh), so logs/exec reach
# the kubelet anonymously; it listens only on the node IP, on a bridge local to this machine
authentication: { anonymous: { enabled: true }, webhook: { enabled: false } }
authorization: { mode: AlwaysAllow }
containerRuntimeEndpoint: unix://$d/containerd/containerd.sock
# no systemd here, cgroup v1 (hybrid): kubelet >= 1.35 refuses v1 unless told
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupRoot: $NODE_CGROUP_ROOT
kubeletCgroups: ""
systemCgroups: ""
enforceNodeAllocatable: [pods]
failSwapOn: false
makeIPTablesUtilChains: false
hairpinMode: none
staticPodPath: $d/manifests
podCIDR: $NODE_POD_CIDR
clusterDomain: cluster.local
clusterDNS: [$NODE_IP]
resolvConf: /etc/resolv.conf
registerWithTaints:
- { key: "$key", value: "${rest%%:*}", effect: "${rest#*:}" }
containerLogMaxSize: $NODE_LOG_MAX_SIZE
containerLogMaxFiles: 3
# a shared machine's disk: never evict or collect images because of other people's files
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: 50Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1% }
maxPods: 40
rotateCertificates: false
serializeImagePulls: false
YAML
}

# --- lifecycle --------------------------------------------------------------------------------

node_start() {
  [[ $(id -u) == 0 ]] || die "node: needs root (network namespaces, mounts, cgroups)"
  # Started in the same `up`, the control plane may still be coming up: wait for it first.
  if ! kube_check 2>/dev/null && svc_any_running kube; then kube_wait; fi
  kube_check 2>/dev/null || die "node: the kube service does not answer: 'infra.sh up kube node'"
  local d
  d=$(node_dir)
  mkdir -p "$d"
  node_record_system
  node_share_root
  node_network_up
  node_cgroups_create
  node_write_config "$d"
  node_client_cert "$d/kubelet" kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
  [[ $NODE_PROXY == 1 ]] && node_client_cert "$d/proxy" kube-proxy "/CN=system:kube-proxy"
  if ! ours_pid node-containerd >/dev/null; then
    spawn node-containerd "$d/containerd.log" containerd --config "$d/containerd.toml"
  fi
  wait_ready node-containerd node-containerd "$d/containerd.log" 60 node_ctr version
  node_import "$(node_pause_home)/pause.oci.tar"
  if ! ours_pid node-kubelet >/dev/null; then
    spawn node-kubelet "$d/kubelet.log" "$(kube_bin kubelet)" --config "$d/kubelet.yaml" \
      --kubeconfig "$d/kubelet/kubelet.kubeconfig" --root-dir "$d/kubelet/root" --cert-dir "$d/kubelet/pki" \
      --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --v=1
  fi
  if [[ $NODE_DNS == 1 ]] && ! ours_pid node-dns >/dev/null; then
    node_write_corefile "$d"
    spawn node-dns "$d/coredns.log" "$(node_coredns_bin)" -conf "$d/Corefile"
  fi
  [[ $NODE_PROXY == 1 ]] || return 0
  node_write_proxy_config "$d"
  if ! ours_pid node-proxy >/dev/null; then
    spawn node-proxy "$d/proxy.log" "$(kube_bin kube-proxy)" --config "$d/proxy.yaml" --v=1
  fi
  if ! ours_pid node-apifwd >/dev/null; then
    # -L: a lock file in the run folder, so the command line names it (ours_pid)
    spawn node-apifwd "$d/apifwd.log" socat -L "$d/apifwd.lock" \
      "TCP-LISTEN:$KUBE_APISERVER_PORT,bind=$NODE_IP,fork,reuseaddr" "TCP:127.0.0.1:$KUBE_APISERVER_PORT"
  fi
  local p
  for p in $NODE_HOST_FORWARDS; do
    ours_pid "node-fwd-$p" >/dev/null ||
      spawn "node-fwd-$p" "$d/fwd-$p.log" socat -L "$d/fwd-$p.lock" "TCP-LISTEN:$p,bind=$NODE_IP,fork,reuseaddr" "TCP:127.0.0.1:$p"
  done
}

# write_if_changed FILE < CONTENT — kube-proxy exits when its config file changes, so a
# second `up` must not rewrite an unchanged one under a running process.
node_write_if_changed() {
  local tmp="$1.tmp.$$"
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

node_write_proxy_config() {
  local d=$1
  node_write_if_changed "$d/proxy.yaml" <<YAML
# generated by test/infra/services/node.sh
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: { kubeconfig: "$d/proxy/kube-proxy.kubeconfig" }
hostnameOverride: "$NODE_NAME"
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:$NODE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$NODE_PROXY_METRICS_PORT
clusterCIDR: $NODE_POD_CIDR
# NodePorts only on the node IP (the bridge), never on an interface that leaves the machine
nodePortAddresses: ["$NODE_IP/32"]
# pods reach Services of pods on the same bridge without br_netfilter: the source is
# rewritten to the bridge address, so replies come back through the host
nftables: { masqueradeAll: true }
# leave the machine's conntrack limits and timeouts alone; no negative oom_score_adj
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
oomScoreAdj: 0
YAML
}

# CoreDNS on the node IP only (never a public interface): cluster names from the API server
# (read with the admin kubeconfig), everything else forwarded to the machine's resolvers.
node_write_corefile() {
  local d=$1
  node_write_if_changed "$d/Corefile" <<COREFILE
cluster.local:53 in-addr.arpa:53 {
  bind $NODE_IP
  kubernetes cluster.local in-addr.arpa {
    kubeconfig $(kube_dir)/admin.kubeconfig sextant-test
    pods insecure
    fallthrough in-addr.arpa
  }
  ready 127.0.0.1:$NODE_DNS_READY_PORT
  cache 5
  errors
}
.:53 {
  bind $NODE_IP
  forward . /etc/resolv.conf
  cache 30
  errors
}
COREFILE
}

# The `kubernetes` Service's endpoint (the API server runs with --endpoint-reconciler-type
# none and listens on loopback only): the forwarder on the node IP.
node_api_endpoint() {
  kctl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Endpoints
metadata:
  name: kubernetes
  namespace: default
  labels: { sextant.dev/node-service: "true" }
subsets:
- addresses: [{ ip: "$NODE_IP" }]
  ports: [{ name: https, port: $KUBE_APISERVER_PORT, protocol: TCP }]
YAML
}

node_import() {
  [[ -f $1 ]] || die "node: no image archive $1"
  log "node: importing $1 into containerd (namespace k8s.io)"
  node_ctr images import "$1" >&2 || die "node: ctr images import $1 failed"
}

node_healthz() { curl -fsS "http://127.0.0.1:$NODE_KUBELET_HEALTHZ_PORT/healthz" >/dev/null; }
node_ready() {
  node_healthz || return 1
  kctl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True
}
node_check() {
  node_ready || return 1
  if [[ $NODE_DNS == 1 ]]; then node_dns_ready || return 1; fi
  [[ $NODE_PROXY == 1 ]] || return 0
  node_proxy_healthz
}

node_wait() {
  wait_ready node node-kubelet "$(node_dir)/kubelet.log" "$NODE_TIMEOUT" node_ready
  # On every `up`, a reused node too, so a rebuilt image archive replaces the one imported before.
  local img
  for img in $NODE_IMAGES; do node_import "$img"; done
  if [[ $NODE_DNS == 1 ]]; then wait_ready node-dns node-dns "$(node_dir)/coredns.log" 60 node_dns_ready; fi
  [[ $NODE_PROXY == 1 ]] || return 0
  if ! kctl get endpoints kubernetes -n default >/dev/null 2>&1; then
    log "node: endpoints default/kubernetes -> $NODE_IP:$KUBE_APISERVER_PORT (forwarder to the API server)"
    node_api_endpoint
  fi
  wait_ready node-proxy node-proxy "$(node_dir)/proxy.log" 60 node_proxy_healthz
}
node_dns_ready() { curl -fsS "http://127.0.0.1:$NODE_DNS_READY_PORT/ready" >/dev/null; }
node_proxy_healthz() { curl -fsS "http://127.0.0.1:$NODE_PROXY_HEALTHZ_PORT/healthz" >/dev/null; }

# Before the processes stop: no new pods, ours stopped through the CRI (sandboxes torn down
# by the CNI plugin), so that nothing but leftovers remain for node_down_after.
node_down_before() {
  ours_pid node-kubelet >/dev/null || return 0
  kube_check 2>/dev/null || return 0
  log "node: cordoning $NODE_NAME and deleting its pods"
  kctl cordon "$NODE_NAME" >/dev/null 2>&1 || true
  kctl delete pods --all-namespaces --field-selector "spec.nodeName=$NODE_NAME" --grace-period=5 --wait=false >/dev/null 2>&1 || true
  local i
  for ((i = 0; i < 60; i++)); do
    [[ -z $(node_ctr tasks ls -q 2>/dev/null) ]] && break
    sleep 1
  done
}

# After the processes stopped: leftover tasks, shims, mounts, cgroups, interfaces, the
# Node object, then the recorded machine state.
node_down_after() {
  local d pid m
  d=$(node_dir)
  [[ -d $d ]] || return 0
  # the runc shims outlive containerd; ours name our containerd socket on their command line
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $d/" || true); do
    log "node: stopping leftover shim $pid"
    kill -KILL "$pid" 2>/dev/null || true
  done
  for pid in $(node_cgroup_pids); do
    log "node: killing leftover container process $pid"
    kill -KILL "$pid" 2>/dev/null || true
  done
  sleep 0.5
  findmnt -rn -o TARGET | grep -F "$d/" | sort -r | while IFS= read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "node: WARNING: could not unmount $m"
  done || true
  node_cgroups_remove
  node_network_down
  if kube_check 2>/dev/null && kctl get endpoints -n default -l sextant.dev/node-service=true -o name 2>/dev/null | grep -qx endpoints/kubernetes; then
    log "node: deleting endpoints default/kubernetes (ours)"
    kctl delete endpoints kubernetes -n default --wait=false >/dev/null 2>&1 || true
  fi
  if kube_check 2>/dev/null && kctl get node "$NODE_NAME" >/dev/null 2>&1; then
    log "node: deleting Node $NODE_NAME"
    kctl delete node "$NODE_NAME" --wait=false >/dev/null 2>&1 || true
  fi
  node_restore_system
  # container state lives only as long as the node: the next up starts empty
  rm -rf "$d/containerd/root" "$d/containerd/state" "$d/runc" "$d/kubelet/root" "$d/cni/ipam"
}

# The kubelet's cgroupRoot must exist in every hierarchy; cgroup v1's cpuset starts empty
# and takes its CPUs and memory nodes from the parent.
node_cgroups_create() {
  local h c
  for h in /sys/fs/cgroup/*/; do
    [[ -f ${h}cgroup.procs ]] || continue
    c=$h${NODE_CGROUP_ROOT#/}
    [[ -d $c ]] && continue
    mkdir "$c" || die "node: cannot create cgroup $c"
    if [[ -f ${h}cpuset.cpus ]]; then
      cat "${h}cpuset.cpus" >"$c/cpuset.cpus"
      cat "${h}cpuset.mems" >"$c/cpuset.mems"
    fi
  done
  log "node: cgroups $NODE_CGROUP_ROOT created in every hierarchy"
}

node_cgroup_pids() {
  local h
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [[ -d $h${NODE_CGROUP_ROOT#/} ]] || continue
    find "$h${NODE_CGROUP_ROOT#/}" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -u
}

node_cgroups_remove() {
  local h
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [[ -d $h${NODE_CGROUP_ROOT#/} ]] || continue
    log "node: removing cgroups $h${NODE_CGROUP_ROOT#/}"
    find "$h${NODE_CGROUP_ROOT#/}" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [[ -d $h${NODE_CGROUP_ROOT#/} ]] && log "node: WARNING: $h${NODE_CGROUP_ROOT#/} still exists (processes left?)"
  done
  return 0
}

node_env() {
  echo "NODE_NAME=$NODE_NAME"
  echo "NODE_IP=$NODE_IP"
  echo "NODE_TAINT=$NODE_TAINT"
  echo "NODE_CONTAINERD_ADDRESS=$(node_sock)"
  echo "NODE_POD_CIDR=$NODE_POD_CIDR"
  if [[ $NODE_DNS == 1 ]]; then echo "NODE_DNS=$NODE_IP"; fi
}

node_describe() {
  echo "node $NODE_NAME ($NODE_IP on $NODE_BRIDGE, pods $NODE_POD_CIDR): kubelet $KUBE_VERSION, containerd $(containerd --version 2>/dev/null | awk '{print $3}'), runc; taint $NODE_TAINT"
}
