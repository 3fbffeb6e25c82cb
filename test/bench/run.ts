/**
 * Benchmark runner: `npm run bench -- <name> [options]`. Each benchmark measures its
 * same-run baseline and writes JSON + a markdown table under bench-results/ (docs/architecture.md §9).
 */
import { runAgentBench } from './agent.js';
import { runIngestEmbedded } from './ingest-embedded.js';
import { runIngestKafka } from './ingest-kafka.js';
import { runLatency } from './latency.js';
import { runLogqlBench } from './logql.js';
import { runProcessorOpenSearch } from './processor-opensearch.js';
import { runPromqlBench } from './promql.js';
import { runRegexBench } from './regex.js';
import { runRemoteWrite } from './remote-write.js';

const BENCHMARKS: Record<string, (args: string[]) => Promise<void>> = {
  'ingest-embedded': runIngestEmbedded,
  agent: runAgentBench,
  'ingest-kafka': runIngestKafka,
  'processor-opensearch': runProcessorOpenSearch,
  latency: runLatency,
  logql: runLogqlBench,
  promql: runPromqlBench,
  regex: runRegexBench,
  'remote-write': runRemoteWrite,
};

const [name, ...args] = process.argv.slice(2);
const run = name ? BENCHMARKS[name] : undefined;
if (!run) {
  process.stderr.write(`usage: npm run bench -- <name> [options]\nbenchmarks: ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exit(name ? 2 : 0);
}
await run(args);
