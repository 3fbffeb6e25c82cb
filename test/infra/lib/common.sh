# Shared helpers for test/infra/infra.sh: logging, process tracking, readiness polling,
# Maven fetches into the version cache. Sourced, never executed.
# shellcheck shell=bash

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

now_s() { date +%s; }

# Seconds since $1 (an epoch from now_s), for timing reports.
since() { echo $(( $(now_s) - $1 )); }

# --- processes ------------------------------------------------------------------------

pidfile() { echo "$RUN/pids/$1.pid"; }

# Prints the recorded pid of process NAME if it is alive and its command line still
# references our run folder (so a recycled pid is never mistaken for ours).
ours_pid() {
  local f pid
  f=$(pidfile "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  local cmd
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$RUN"* ]] || return 1
  echo "$pid"
}

# spawn NAME LOGFILE CMD... — starts CMD detached (own session) with output to LOGFILE
# and records its pid.
spawn() {
  local name=$1 logf=$2
  shift 2
  mkdir -p "$RUN/pids" "$(dirname "$logf")"
  # keep one previous log per process
  [[ -f $logf ]] && mv -f "$logf" "$logf.prev"
  {
    printf '\n==== %s: starting at %s ====\n' "$name" "$(date -Is)"
    printf '%q ' "$@"
    printf '\n'
  } >>"$logf"
  # 9>&-: the child must not inherit the lock descriptor of with_lock.
  setsid "$@" >>"$logf" 2>&1 </dev/null 9>&- &
  echo $! >"$(pidfile "$name")"
}

# stop NAME — SIGTERM the recorded pid (only if it is still ours), SIGKILL after a grace.
stop_proc() {
  local name=$1 pid i
  if ! pid=$(ours_pid "$name"); then
    rm -f "$(pidfile "$name")"
    return 0
  fi
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    [[ -d /proc/$pid ]] || break
    # a zombie (state Z) is gone for our purposes
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
    sleep 0.1
  done
  if [[ -d /proc/$pid ]] && ours_pid "$name" >/dev/null; then
    log "$name: still running after 30s, sending SIGKILL to $pid"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$(pidfile "$name")"
}

# port_busy PORT — true if something listens on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_ready SERVICE PROC LOGFILE TIMEOUT CHECK... — polls CHECK until it succeeds, the
# process dies, or the deadline passes; fails with the service name and log path.
wait_ready() {
  local svc=$1 proc=$2 logf=$3 timeout=$4
  shift 4
  local start deadline
  start=$(now_s)
  deadline=$((start + timeout))
  while true; do
    if "$@" >/dev/null 2>&1; then
      log "$svc: ready after $(since "$start")s"
      return 0
    fi
    if ! ours_pid "$proc" >/dev/null; then
      log "$svc: process $proc exited before becoming ready; last lines of $logf:"
      tail -n 25 "$logf" >&2 || true
      die "$svc failed to start (log: $logf)"
    fi
    if (($(now_s) >= deadline)); then
      log "$svc: not ready after ${timeout}s; last lines of $logf:"
      tail -n 25 "$logf" >&2 || true
      die "$svc did not become ready within ${timeout}s (log: $logf)"
    fi
    sleep 1
  done
}

# --- Java / Maven -----------------------------------------------------------------------

java_bin() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
    echo "$JAVA_HOME/bin/java"
  else
    command -v java || die "java not found (run 'infra.sh fetch' to install a JDK)"
  fi
}

# Major version of the java that java_bin finds (17, 21, ...).
java_major() {
  "$(java_bin)" -XshowSettings:properties -version 2>&1 \
    | awk -F' = ' '/java.specification.version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1])}'
}

# A JDK (javac too: the OpenSearch launcher is compiled) of version 17 or later.
ensure_jdk() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/javac ]] || command -v javac >/dev/null; then
    local major
    major=$(java_major)
    ((major >= 17)) || die "java $major found; Kafka 4 and s3proxy need 17 or later (set JAVA_HOME)"
    return 0
  fi
  log "no JDK found: installing Debian package openjdk-17-jdk-headless"
  apt_install openjdk-17-jdk-headless
}

ensure_curl() { command -v curl >/dev/null || apt_install curl ca-certificates; }

javac_bin() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/javac ]]; then echo "$JAVA_HOME/bin/javac"; else command -v javac; fi
}

ensure_mvn() {
  command -v mvn >/dev/null && return 0
  log "mvn not found: installing Debian package maven"
  apt_install maven
}

# mvn_fetch NAME DIR DEPENDENCIES_XML — writes DIR/pom.xml listing the dependencies and
# copies them with their transitive runtime closure into DIR/lib; DIR/.complete holds a hash
# of the dependency list of a finished fetch, so later runs skip Maven entirely (and a
# changed list fetches again).
mvn_fetch() {
  local name=$1 dir=$2 deps=$3 want
  want=$(printf '%s' "$deps" | sha256sum | cut -c1-16)
  [[ -f $dir/.complete && $(<"$dir/.complete") == "$want" ]] && return 0
  ensure_jdk
  ensure_mvn
  local start tmp
  start=$(now_s)
  tmp="$dir.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cat >"$tmp/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>sextant.infra</groupId>
  <artifactId>$name</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
$deps
  </dependencies>
</project>
POM
  log "$name: fetching jars with Maven into $dir (first run only; progress below)"
  local n=0 line file
  # -T1 and a small heap: the machine is shared. One progress line per downloaded jar.
  (cd "$tmp" && MAVEN_OPTS="${MAVEN_OPTS:--Xmx512m}" mvn -B -T1 \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=lib 2>&1) \
    | tee "$tmp/mvn.log" | while IFS= read -r line; do
      [[ $line == *"Downloaded from"*".jar "* ]] || continue
      n=$((n + 1))
      file=${line%%.jar *}
      printf '[infra] %s: downloaded jar %d: %s.jar\n' "$name" "$n" "${file##*/}" >&2
    done || true
  if ! grep -q 'BUILD SUCCESS' "$tmp/mvn.log"; then
    grep -E '^\[ERROR\]' "$tmp/mvn.log" | head -n 15 >&2 || true
    die "$name: Maven fetch failed (full log: $tmp/mvn.log)"
  fi
  echo "$want" >"$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  log "$name: $(find "$dir/lib" -name '*.jar' | wc -l) jars cached in $(since "$start")s"
}

# --- Debian packages --------------------------------------------------------------------

APT_UPDATED=0
apt_install() {
  local sudo=()
  [[ $(id -u) == 0 ]] || sudo=(sudo)
  local start
  start=$(now_s)
  if [[ $APT_UPDATED == 0 ]]; then
    log "apt-get update"
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  # RUNLEVEL=1 + policy-rc.d: packages must not start their system services; we run our
  # own processes with our own flags and data folders.
  local created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  local rc=0
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get -o DPkg::Lock::Timeout=600 \
    install -y -q --no-install-recommends "$@" >&2 || rc=$?
  [[ $created_policy == 1 ]] && "${sudo[@]}" rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || die "apt-get install $* failed"
  log "installed $* in $(since "$start")s"
}
