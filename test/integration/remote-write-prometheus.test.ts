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
import {
  agreeAt,
  config,
  distributed,
  embedded,
  flappingTarget,
  metadataAgreement,
  query,
  seconds,
  waitFor,
  type Result,
  type Target,
} from './helpers/remote-write-agreement.js';
import { freePort, startPrometheus, PROMETHEUS_BIN, type PrometheusProcess } from '../support/prometheus-process.js';
import { tempDataDir } from '../support/sextant-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test.before(() => {
  if (!fs.existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} is missing: apt-get install prometheus`);
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
});

/** Metadata every few seconds rather than each minute, so the test sees it soon. */
const V1_METADATA = `    metadata_config: { send: true, send_interval: 5s }
`;

async function agreeWithPrometheus(t: import('ava').ExecutionContext, target: Target): Promise<void> {
  const sextantUrl = target.queryUrl;
  const promDir = tempDataDir('prometheus-rw-');
  const port = await freePort();
  const flap = await flappingTarget();
  let prometheus: PrometheusProcess | undefined;
  t.teardown(async () => {
    await prometheus?.stop();
    flap.close();
    await target.stop();
  });
  prometheus = await startPrometheus({ dataDir: promDir, port, config: config(port, target.writeUrl, flap.port, V1_METADATA) });
  const startedAt = seconds();

  // Enough data that no compared window reaches back to the first scrape: where a window
  // holds a series' start, rate()/increase() extrapolation is PromQL's business (issue 13),
  // not the data's, and the raw-sample comparison covers those first samples instead.
  await waitFor(
    '60 s of scrapes in Sextant',
    async () => {
      const up = await query(sextantUrl, 'query', { query: 'count_over_time(up{job="node"}[2m])' }, true).catch(() => []);
      return up.length === 1 && Number(up[0]!.value![1]) >= 60;
    },
    180_000,
  );
  const first = seconds() - 5;
  t.deepEqual(await agreeAt(prometheus.url, sextantUrl, first), [], `agreement at ${first}`);

  // Restart: the WAL replays, remote write resumes; the samples sent before are not sent twice.
  await prometheus.stop();
  prometheus = await startPrometheus({ dataDir: promDir, port, config: config(port, target.writeUrl, flap.port, V1_METADATA) });
  const restartedAt = seconds();
  await waitFor('40 s of scrapes after the restart', async () => seconds() - restartedAt >= 40);
  const second = seconds() - 5;
  t.deepEqual(await agreeAt(prometheus.url, sextantUrl, second), [], `agreement at ${second}, after the restart`);
  t.deepEqual(await agreeAt(prometheus.url, sextantUrl, first), [], `agreement at ${first} still, after the WAL replay`);

  // Nothing doubled: the same number of samples of every series over the whole run.
  const whole = `${second - startedAt + 5}s`;
  for (const q of [`count_over_time(up[${whole}])`, `count_over_time(node_load1[${whole}])`]) {
    const params = { query: q, time: String(second) };
    const [want, got]: Result[][] = await Promise.all([query(prometheus.url, 'query', params), query(sextantUrl, 'query', params, true)]);
    t.deepEqual(got, want, q);
  }
  // The flapping series ended ~once a scrape, each with a staleness marker, all stored as such.
  const markers = await target.staleMarkers();
  t.true(markers >= 30, `${markers} staleness markers stored`);
  // 1.0 sends every family's metadata from the scrape caches: all of Prometheus' own /metadata.
  const metadata = await metadataAgreement(prometheus.url, sextantUrl);
  t.deepEqual(metadata.problems, [], 'the metadata of every family Prometheus knows');
  t.true(metadata.compared > 100, `${metadata.compared} families compared`);
  const metrics = await (await fetch(`${target.writeUrl}/metrics`)).text();
  t.notRegex(metrics, /sextant_ingest_requests_rejected_total\{signal="metrics"/, 'no request was rejected');
}

test.serial('Prometheus 2.42 remote_write 1.0 into sextant up: the same PromQL answers, exactly; a restart doubles nothing', async (t) => {
  await agreeWithPrometheus(t, await embedded());
});

test.serial(
  'Prometheus 2.42 remote_write 1.0 into sextant ingestion → Kafka → processor → OpenSearch: the same answers from sextant query',
  async (t) => {
    await agreeWithPrometheus(t, await distributed());
  },
);
