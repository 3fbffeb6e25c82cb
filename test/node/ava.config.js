// Node tier: real pods on the real kubelet node of test/infra (infra.sh up kube node, with
// NODE_IMAGES=.run/image/sextant.oci.tar). `make test-node` builds the image and starts both.
export default {
  files: ['test/node/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  timeout: '5m',
  concurrency: 1,
  serial: true,
  workerThreads: false,
};
