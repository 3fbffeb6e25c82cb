// Differential tier: Sextant's PromQL answers compared with the real Prometheus engine's
// (the Go oracle of test/promql-oracle, built once and cached under ~/.cache/sextant).
export default {
  files: ['test/differential/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  concurrency: 1,
  // The first run builds the oracle from the Go module proxy (minutes on a loaded machine).
  timeout: '20m',
};
