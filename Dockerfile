# syntax=docker/dockerfile:1
# One image for every Sextant component: `sextant up|ingestion|processor|query|operator|agent`.
#   docker build -t sextant:dev .
#   docker run --rm sextant:dev --help
# The Helm chart runs the operator and the agent from it, and the operator hands the same
# image to the ingestion, processor and query Deployments it creates.

# The major of .node-version (what `make` and CI run on).
ARG NODE_VERSION=24

# ---- build: all dependencies, compile TypeScript, then drop the dev dependencies ----------
# The full node image (not -slim) carries python3, make and g++ for node-gyp, should a native
# module lack a prebuilt binary for the platform (better-sqlite3 ships its own in the package).
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY runtime/src runtime/src
COPY operator/src operator/src
COPY agent-daemonset/src agent-daemonset/src
# tsconfig.json also includes test/**, which is not in the build context: only the three
# components are compiled. Tests and test kits (testkit.ts files, the agent's testkit/ folder)
# are removed from the output.
RUN npx tsc -p tsconfig.json \
 && find dist -name '*.test.js' -delete -o -name '*.test.js.map' -delete -o -name '*.test.d.ts' -delete -o -name 'testkit.*' -delete \
 && rm -rf dist/agent-daemonset/src/testkit \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: Node, production node_modules (native modules built above, same glibc) ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/runtime ./dist/runtime
COPY --from=build /src/dist/operator ./dist/operator
COPY --from=build /src/dist/agent-daemonset ./dist/agent-daemonset
# /data: a place for `sextant up --data-dir /data` (mount a volume there). Everything else
# stays root-owned and read-only to the process (the chart also sets readOnlyRootFilesystem).
RUN mkdir /data && chown 65532:65532 /data
# uid/gid 65532 ("nonroot" by convention); numeric so runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/runtime/src/cli/main.js"]
CMD ["--help"]
