/**
 * The fixed dataset of the shared query suite: log entries over four streams and samples of
 * two counters and a gauge, spread over three hours before `baseMs` (so a small hot window
 * puts part of it in the cold tier). Every timestamp is distinct: stores break ties between
 * equal timestamps differently (SQLite by arrival), and the suite compares exact order.
 */
import type { Labels, LogEntry, Sample } from '../../../runtime/src/model/types.js';

export const HOUR_MS = 3_600_000;
export const LOG_COUNT = 1_200;
/** One sample per series every SAMPLE_STEP_MS over the three hours. */
export const SAMPLE_STEP_MS = 60_000;
export const SAMPLE_POINTS = 180;

const SERVICES = ['api', 'web', 'db'] as const;

export interface Dataset {
  /** End of the data (exclusive), a whole minute; data covers [baseMs - 3h, baseMs). */
  baseMs: number;
  logs: LogEntry[];
  samples: Sample[];
}

/** The stream of entry i: api/web/db × info/error, plus a stream with an extra label. */
function streamOf(i: number): Labels {
  if (i % 50 === 7) return { service: 'batch', level: 'info', job: 'nightly' };
  const service = SERVICES[i % SERVICES.length]!;
  return { service, level: i % 10 === 0 ? 'error' : 'info' };
}

export function makeDataset(nowMs: number): Dataset {
  const baseMs = Math.floor(nowMs / 60_000) * 60_000;
  const startMs = baseMs - 3 * HOUR_MS;
  const logs: LogEntry[] = [];
  // Spread LOG_COUNT entries evenly over 3 h, 9 s apart, each with a distinct ns detail.
  for (let i = 0; i < LOG_COUNT; i++) {
    const labels = streamOf(i);
    const status = i % 10 === 0 ? 500 : i % 7 === 0 ? 404 : 200;
    logs.push({
      timestampNs: BigInt(startMs + i * 9_000) * 1_000_000n + BigInt(1000 + i),
      labels,
      message: `${i % 3 === 0 ? 'GET' : 'POST'} /items/${i} status=${status} took=${(i * 37) % 1000}ms${i % 11 === 0 ? ' café ✓' : ''}`,
      fields: { i, user: `u${i % 13}`, trace_id: `t${i.toString(16).padStart(6, '0')}` },
    });
  }
  const samples: Sample[] = [];
  for (let k = 0; k < SAMPLE_POINTS; k++) {
    const t = startMs + k * SAMPLE_STEP_MS + 500;
    for (const service of SERVICES) {
      const rate = service === 'api' ? 2 : service === 'web' ? 5 : 1;
      // Counters: a constant per-second rate, so rate() over any window is exactly `rate`.
      samples.push({ name: 'http_requests_total', labels: { service, code: '200' }, timestampMs: t, value: rate * (k * 60) });
      samples.push({ name: 'http_requests_total', labels: { service, code: '500' }, timestampMs: t, value: k * 6 });
    }
    samples.push({ name: 'queue_depth', labels: { queue: 'jobs' }, timestampMs: t, value: (k % 20) + 0.25 });
  }
  return { baseMs, logs, samples };
}

/** Native ingestion bodies, in batches. */
export function logBodies(data: Dataset, batch = 300): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < data.logs.length; i += batch) {
    out.push({
      entries: data.logs.slice(i, i + batch).map((e) => ({
        timestamp: e.timestampNs.toString(),
        labels: e.labels,
        message: e.message,
        fields: e.fields,
      })),
    });
  }
  return out;
}

export function sampleBodies(data: Dataset, batch = 500): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < data.samples.length; i += batch) {
    out.push({
      samples: data.samples.slice(i, i + batch).map((s) => ({ name: s.name, labels: s.labels, timestamp: s.timestampMs, value: s.value })),
    });
  }
  return out;
}
