# Sextant — developer entry points. `make run` starts the embedded platform, `make test`
# runs every test tier that CI runs.
SHELL := /bin/bash

# The project runs on the Node.js pinned in .node-version, whatever Node the machine has:
# `make node` installs it (scripts/install-node.sh, with the machine's npm, from the npm
# registry's node-<os>-<arch> package) into a per-version cache folder, and every recipe
# below runs with its bin/ first on PATH — npm ci and its native builds (node-gyp compiles
# better-sqlite3 against NODE_HOME's headers through npm_config_nodedir), tsc, eslint, ava,
# the processes the tests spawn (process.execPath), `sextant up` and the bench.
NODE_VERSION := $(shell cat .node-version)
NODE_HOME := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/sextant-node/$(NODE_VERSION)-$(shell uname -s)-$(shell uname -m)
export PATH := $(NODE_HOME)/bin:$(PATH)
export npm_config_nodedir := $(NODE_HOME)
# The stamp names the Node version: a new pin reinstalls node_modules (native modules are
# built for one Node ABI).
NPM_STAMP := node_modules/.install-stamp-node$(NODE_VERSION)

.PHONY: run build otelcol test test-unit test-integration test-cluster test-differential lint format typecheck bench clean deps node node-info helm-crds helm-golden kind-e2e image test-image test-node

# infra-up / infra-down / infra-status / infra-env: real Kafka, OpenSearch, S3 and
# Prometheus on loopback, provisioned from package registries (test/infra/README.md).
include test/infra/infra.mk

# Instant when that version is in place (the script checks `node --version` first).
node:
	@bash scripts/install-node.sh $(NODE_VERSION) $(NODE_HOME)

# What CI prints first: which node and npm every recipe runs.
node-info: node
	@echo "node $$(node --version) ($$(command -v node)), npm $$(npm --version)"

deps: $(NPM_STAMP)

# npm ci runs the approved install scripts (better-sqlite3 builds from source when no
# prebuilt binary can be fetched); the stamp makes later targets skip a second install.
$(NPM_STAMP): package.json package-lock.json | node
	npm ci --no-audit --no-fund
	@touch $@

build: deps
	npx tsc -p tsconfig.json

run: build
	node dist/runtime/src/cli/main.js up

typecheck: deps
	npx tsc -p tsconfig.json --noEmit

lint: deps
	npx eslint .
	npx prettier --check .

format: deps
	npx prettier --write .

test-unit: deps
	npx ava

# Starts (or reuses) the test servers; they stay up for the next run — `make infra-down`.
# test/integration/otel-collector.test.ts builds the OpenTelemetry Collector on first use.
test-integration: build infra-up
	npx ava --config test/integration/ava.config.js

# The OpenTelemetry Collector the integration tier sends with, built from the Go module proxy
# with its builder (test/infra/otelcol/build-otelcol.sh); cached, so instant once built.
otelcol:
	@bash test/infra/otelcol/build-otelcol.sh

# The control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok, helm) is
# built from the Go module proxy on first use (~20 min on 2 cores), then cached.
test-cluster: build
	$(MAKE) --no-print-directory infra-up SERVICES="kube kafka"
	npx ava --config test/cluster/ava.config.js

# PromQL answers of a real `sextant up` and of ingestion + processor + query on Kafka and
# OpenSearch, compared with the real Prometheus engine (a Go program built from the module
# proxy on first use, then cached under ~/.cache/sextant).
test-differential: build
	$(MAKE) --no-print-directory infra-up SERVICES="kafka opensearch"
	npx ava --config test/differential/ava.config.js

test: lint typecheck test-unit test-integration test-cluster test-differential test-image test-node

bench: build
	node --import tsx test/bench/run.ts $(BENCH)

clean:
	rm -rf dist

# The chart carries identical copies of crds/ (Helm installs a chart's crds/ folder);
# test/cluster/helm.test.ts fails while they differ.
helm-crds:
	rm -f helm/sextant/crds/*.yaml
	cp crds/*.yaml helm/sextant/crds/

# Regenerates the chart goldens (test/cluster/fixtures/helm/) and the agent manifest
# (agent-daemonset/manifests/daemonset.yaml, a rendering of the chart) after a chart change.
helm-golden: deps helm-crds
	$(MAKE) --no-print-directory infra-up SERVICES=kube
	UPDATE_GOLDEN=1 npx ava --config test/cluster/ava.config.js test/cluster/helm.test.ts --match '*golden*' --match '*rendering of the chart*'

# End to end on a kind cluster (needs Docker, kind, kubectl, helm): build and load the
# image, install the chart and the examples, push logs and query them back, tear down.
# Not part of `make test` (CI has no Docker). See test/kind/e2e.sh for its settings.
kind-e2e:
	bash test/kind/e2e.sh

# The Dockerfile's image without Docker (umoci, Node from the npm registry, Debian's libc):
# an OCI archive at .run/image/sextant.oci.tar for `ctr images import`, kind or docker load.
# Cached by content hash (tools/image/build.sh); test-image checks it against the Dockerfile.
image: deps
	bash tools/image/build.sh

test-image: image
	npx ava --config test/image/ava.config.js

# Real pods on a real kubelet node (containerd, runc, CNI bridge, kube-proxy, CoreDNS)
# registered to the kube control plane, running the image above: test/node, then test/e2e (the
# chart end to end on that node); the node goes down again at the end (test/node/run.sh). It needs root (network namespaces, mounts, cgroups): without
# it the tier says so and fails, since a green `make test` would otherwise hide that no pod
# ran; SKIP_NODE_TIER=1 skips it on purpose, loudly.
test-node: image
	@if [ "$${SKIP_NODE_TIER:-0}" = 1 ]; then echo "test-node: SKIPPED (SKIP_NODE_TIER=1): no real pod ran" >&2; \
	elif [ "$$(id -u)" != 0 ]; then echo "test-node: needs root (containerd, runc, CNI, cgroups): run as root, or SKIP_NODE_TIER=1 make test" >&2; exit 1; \
	else bash test/node/run.sh; fi
