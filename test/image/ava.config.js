// Image tier: checks the OCI archive that `make image` (tools/image/build.sh) wrote against
// the Dockerfile. `make test-image` builds the archive first (cached by content hash).
export default {
  files: ['test/image/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  timeout: '2m',
  workerThreads: false,
};
