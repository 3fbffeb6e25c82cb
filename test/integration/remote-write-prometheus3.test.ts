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
import { agreeAcrossRestart, distributed, embedded, KEY, type Sender, type Target } from './helpers/remote-write-agreement.js';
import { PROMETHEUS3_VERSION, prometheus3Binary } from '../support/prometheus3.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// metadata_config.send applies to 1.0 only; 2.0 carries each series' metadata in line,
// read from the WAL, where Prometheus writes it only with the metadata-wal-records feature.
const V2_CONFIG = `    protobuf_message: io.prometheus.write.v2.Request
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

const NO_FAILURES = { failed: 0, retried: 0, dropped: 0 };
const REPORT_SERIES = /^(up|scrape_.+)$/;

/** Prometheus 3 over 2.0 (the binary is known once test.before built it). */
const v2 = (): Sender => ({
  remoteWrite: V2_CONFIG,
  binary,
  args: FEATURES,
  // The 2.0 handshake: none failed (a sample sent but not reported written), retried or dropped.
  async afterAgreement(t, prometheus, phase) {
    const counts = await remoteStorage(prometheus);
    t.true(counts.sent > 500, `${counts.sent} samples sent (${phase})`);
    t.deepEqual({ failed: counts.failed, retried: counts.retried, dropped: counts.dropped }, NO_FAILURES, phase);
  },
  // 2.0 carries metadata in line, per series, without a family name: every family Sextant
  // made of it (a histogram's from its _bucket/_sum/_count series) is one Prometheus knows,
  // alike; besides those, only the report series Prometheus writes of each scrape (up,
  // scrape_*), which 2.0 describes but Prometheus' own /metadata (its targets') does not list.
  metadataFamilies: (want, got) => Object.keys(got).filter((name) => !REPORT_SERIES.test(name) || name in want),
});

async function agreeOverV2(t: import('ava').ExecutionContext, target: Target): Promise<void> {
  await agreeAcrossRestart(t, target, v2());
  const res = await fetch(`${target.queryUrl}/api/v1/metadata?metric=up`, { headers: { authorization: `Bearer ${KEY}` } });
  const up = (await res.json()) as { data: { up?: Array<{ type: string }> } };
  t.deepEqual(
    up.data.up?.map((m) => m.type),
    ['gauge'],
    'up, a report series, described as 2.0 sent it',
  );
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
