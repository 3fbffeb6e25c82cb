// E2E tier: the chart end to end on the real kubelet node of test/infra (see chart.test.ts),
// run by test/node/run.sh after the node tier, on the same node (`make test-node`).
export default {
  files: ['test/e2e/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  timeout: '10m',
  concurrency: 1,
  serial: true,
  workerThreads: false,
};
