// Integration tier: real processes and servers, so run files one at a time with long timeouts.
export default {
  files: ['test/integration/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  concurrency: 1,
  timeout: '5m',
};
