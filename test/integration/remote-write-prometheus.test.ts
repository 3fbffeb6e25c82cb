/**
 * The real sender: Debian's Prometheus 2.42 scrapes the shared node_exporter and itself
 * every second and remote-writes (1.0) to a real `sextant up`. The same PromQL queries, at
 * the same evaluation timestamps, must give the same answers from both, exactly. Then
 * Prometheus restarts on the same data directory (its WAL replays and remote write resumes)
 * and nothing in Sextant is doubled. The metadata (type, help, unit) of every family
 * Prometheus knows is served alike by both /api/v1/metadata. Once into `sextant up`, once
 * into `sextant ingestion` → Kafka → `sextant processor` → OpenSearch, read back through
 * `sextant query`.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { agreeAcrossRestart, distributed, embedded, type Sender } from './helpers/remote-write-agreement.js';
import { PROMETHEUS_BIN } from '../support/prometheus-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test.before(() => {
  if (!fs.existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} is missing: apt-get install prometheus`);
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
});

/** 1.0, metadata every few seconds rather than each minute, so the test sees it soon; all
 * of it, from the scrape caches, is what Prometheus' own /metadata lists. */
const V1: Sender = {
  remoteWrite: `    metadata_config: { send: true, send_interval: 5s }
`,
};

test.serial('Prometheus 2.42 remote_write 1.0 into sextant up: the same PromQL answers, exactly; a restart doubles nothing', async (t) => {
  await agreeAcrossRestart(t, await embedded(), V1);
});

test.serial(
  'Prometheus 2.42 remote_write 1.0 into sextant ingestion → Kafka → processor → OpenSearch: the same answers from sextant query',
  async (t) => {
    await agreeAcrossRestart(t, await distributed(), V1);
  },
);
