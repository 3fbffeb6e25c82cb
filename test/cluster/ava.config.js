// Cluster tier: tests against the real Kubernetes control plane that test/infra/infra.sh
// starts (make infra-up SERVICES=kube). One file at a time; they share the cluster.
export default {
  files: ['test/cluster/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  // Tests that create kafkajs clients themselves need the same fix the runtime applies
  // (otherwise each prints Node's TimeoutNegativeWarning).
  require: ['./runtime/src/bus/kafka/request-queue-fix.ts'],
  timeout: '5m',
  concurrency: 1,
  serial: true,
  workerThreads: false,
};
