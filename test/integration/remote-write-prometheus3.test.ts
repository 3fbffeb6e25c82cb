/**
 * The real remote_write 2.0 sender: Prometheus 3 (built from the Go module proxy on first
 * use, then cached: test/support/prometheus3.ts) scrapes node_exporter, itself and a
 * flapping target every second and writes `io.prometheus.write.v2.Request`s, metadata in
 * them, into `sextant up` and into `sextant ingestion` → Kafka → processor → OpenSearch. As
 * with 2.42 over 1.0 (remote-write-prometheus.test.ts): the same PromQL answers, exactly,
 * before and after a restart whose WAL replay doubles nothing, and the same metadata. And
 * the 2.0 handshake: Prometheus reads the X-Prometheus-Remote-Write-*-Written headers of
 * every answer, and counts a sample it sent but was not told was written as failed; so none
 * may be failed or retried while the sent ones grow.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  agreeAt,
  config,
  distributed,
  embedded,
  flappingTarget,
  KEY,
  metadataAgreement,
  query,
  seconds,
  waitFor,
  type Result,
  type Target,
} from './helpers/remote-write-agreement.js';
import { freePort, startPrometheus, type PrometheusProcess } from '../support/prometheus-process.js';
import { PROMETHEUS3_VERSION, prometheus3Binary } from '../support/prometheus3.js';
import { tempDataDir } from '../support/sextant-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// metadata_config.send applies to 1.0 only; 2.0 carries each series' metadata in line,
// read from the WAL, where Prometheus writes it only with the metadata-wal-records feature.
const V2 = `    protobuf_message: io.prometheus.write.v2.Request
    metadata_config: { send: true }
`;
const FEATURES = ['--enable-feature=metadata-wal-records'];

let binary = '';

test.before(async (t) => {
  // A cold build (download and compile) takes minutes on 2 cores: longer than ava's idle timeout.
  t.timeout(45 * 60_000);
  binary = await prometheus3Binary();
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
});

/** Prometheus' own remote-storage counters, summed over their labels (one remote_write here). */
async function remoteStorage(prometheus: string): Promise<Record<'sent' | 'failed' | 'retried' | 'dropped', number>> {
  const text = await (await fetch(`${prometheus}/metrics`)).text();
  const sum = (name: string): number => {
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return total;
  };
  return {
    sent: sum('prometheus_remote_storage_samples_total'),
    failed: sum('prometheus_remote_storage_samples_failed_total'),
    retried: sum('prometheus_remote_storage_samples_retried_total'),
    dropped: sum('prometheus_remote_storage_samples_dropped_total'),
  };
}

async function agreeOverV2(t: import('ava').ExecutionContext, target: Target): Promise<void> {
  const sextantUrl = target.queryUrl;
  const promDir = tempDataDir('prometheus3-rw-');
  const port = await freePort();
  const flap = await flappingTarget();
  let prometheus: PrometheusProcess | undefined;
  t.teardown(async () => {
    await prometheus?.stop();
    flap.close();
    await target.stop();
  });
  const start = () =>
    startPrometheus({ binary, dataDir: promDir, port, config: config(port, target.writeUrl, flap.port, V2), args: FEATURES });
  prometheus = await start();
  const startedAt = seconds();

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
  const before = await remoteStorage(prometheus.url);
  t.true(before.sent > 1000, `${before.sent} samples sent`);
  t.deepEqual({ failed: before.failed, retried: before.retried, dropped: before.dropped }, { failed: 0, retried: 0, dropped: 0 });

  // Restart: the WAL replays, remote write resumes; the samples sent before are not sent twice.
  await prometheus.stop();
  prometheus = await start();
  const restartedAt = seconds();
  await waitFor('40 s of scrapes after the restart', async () => seconds() - restartedAt >= 40);
  const second = seconds() - 5;
  t.deepEqual(await agreeAt(prometheus.url, sextantUrl, second), [], `agreement at ${second}, after the restart`);
  t.deepEqual(await agreeAt(prometheus.url, sextantUrl, first), [], `agreement at ${first} still, after the WAL replay`);
  const after = await remoteStorage(prometheus.url);
  t.true(after.sent > 500, `${after.sent} samples sent after the restart`);
  t.deepEqual({ failed: after.failed, retried: after.retried, dropped: after.dropped }, { failed: 0, retried: 0, dropped: 0 });

  const whole = `${second - startedAt + 5}s`;
  for (const q of [`count_over_time(up[${whole}])`, `count_over_time(node_load1[${whole}])`]) {
    const params = { query: q, time: String(second) };
    const [want, got]: Result[][] = await Promise.all([query(prometheus.url, 'query', params), query(sextantUrl, 'query', params, true)]);
    t.deepEqual(got, want, q);
  }
  const markers = await target.staleMarkers();
  t.true(markers >= 30, `${markers} staleness markers stored`);

  // 2.0 carries metadata in line, per series, without a family name: every family Sextant
  // made of it (a histogram's from its _bucket/_sum/_count series) is one Prometheus knows,
  // alike; besides those, only the report series Prometheus writes of each scrape (up,
  // scrape_*), which 2.0 describes but Prometheus' own /metadata (its targets') does not list.
  const reportSeries = /^(up|scrape_.+)$/;
  const metadata = await metadataAgreement(prometheus.url, sextantUrl, (want, got) => {
    const names = Object.keys(got).filter((name) => !reportSeries.test(name));
    return [...names, ...Object.keys(got).filter((name) => reportSeries.test(name) && name in want)];
  });
  t.deepEqual(metadata.problems, [], 'the metadata of every family 2.0 carried');
  t.true(metadata.compared > 100, `${metadata.compared} families compared`);
  const up = (await (await fetch(`${sextantUrl}/api/v1/metadata?metric=up`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
    data: { up?: Array<{ type: string }> };
  };
  t.deepEqual(
    up.data.up?.map((m) => m.type),
    ['gauge'],
    'up, a report series, described as 2.0 sent it',
  );
  const metrics = await (await fetch(`${target.writeUrl}/metrics`)).text();
  t.notRegex(metrics, /sextant_ingest_requests_rejected_total\{signal="metrics"/, 'no request was rejected');
}

test.serial(
  `Prometheus 3 (${PROMETHEUS3_VERSION}) remote_write 2.0 into sextant up: the same PromQL answers and metadata; Written headers accepted; a restart doubles nothing`,
  async (t) => {
    await agreeOverV2(t, await embedded());
  },
);

test.serial(
  `Prometheus 3 (${PROMETHEUS3_VERSION}) remote_write 2.0 into sextant ingestion → Kafka → processor → OpenSearch: the same answers from sextant query`,
  async (t) => {
    await agreeOverV2(t, await distributed());
  },
);
