// Integration tier: real processes and servers, so run files one at a time with long timeouts.
export default {
  files: ['test/integration/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  // Tests that create kafkajs clients themselves need the same fix the runtime applies
  // (otherwise each prints Node's TimeoutNegativeWarning).
  require: ['./runtime/src/bus/kafka/request-queue-fix.ts'],
  workerThreads: false,
  concurrency: 1,
  timeout: '5m',
};
