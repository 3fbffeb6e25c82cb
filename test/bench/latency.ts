/**
 * latency: ingest-acknowledged → queryable, through a real `sextant ingestion` and
 * `sextant processor` on the test/infra Kafka and OpenSearch, at half the maximum rate of
 * that pipeline (DESIGN §9; target p99 ≤ 2 s).
 *
 * Method. Requests of `batch` entries are sent open-loop on a fixed schedule (the rate does
 * not slow down when the pipeline does). One entry of each request is a probe; its
 * OpenSearch _id is known in advance (logRecordId, as the processor derives it). Its clock
 * starts when the HTTP 200 arrives (= Kafka acknowledged, acks=all). A poller searches
 * every `poll` ms with an `ids` query for all probes not yet seen — a _search, so only
 * refreshed (queryable) documents match, unlike a realtime GET — and a probe's latency is
 * the time the first search response that contains it arrived minus its ack time: an upper
 * bound, at most one poll interval late. The index refresh interval is the template's 1 s,
 * so a document waits up to 1 s after it was indexed.
 *
 * The maximum rate is probed first (unless --rate is given): `probe` events pushed as fast
 * as the ingestion accepts them while the processor runs, timed until the processor has
 * written them all — the sustained rate of the whole pipeline, which is below what the
 * ingestion alone accepts. The query runtime over OpenSearch (`sextant query`) is not in
 * this build, so visibility is checked on OpenSearch directly.
 */
import { parseArgs } from 'node:util';
import { logRecordId, streamFingerprint } from '../../runtime/src/model/fingerprint.js';
import { dailyIndex } from '../../runtime/src/storage/opensearch/documents.js';
import type { RuntimeProcess } from '../support/runtime-process.js';
import {
  benchId,
  deleteIndices,
  deleteTopics,
  type HttpEntry,
  makeBodies,
  makeEntry,
  NAMESPACE,
  osRequest,
  percentile,
  postLogs,
  pushAll,
  scrapeMetric,
  sleep,
  start,
  toLogEntry,
  writeRuntimeConfig,
} from './distributed.js';
import { machine, median, progress, writeResults } from './report.js';

interface Options {
  rate: number | undefined;
  probe: number;
  batch: number;
  messageBytes: number;
  partitions: number;
  maxBatchRecords: number;
  warmupSeconds: number;
  seconds: number;
  pollMs: number;
  runs: number;
}

interface Window {
  targetEventsPerSecond: number;
  achievedEventsPerSecond: number;
  probes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Ack → indexed (a realtime GET finds it; not yet searchable): the pipeline's share before the refresh. */
  indexedP50Ms: number;
  indexedP99Ms: number;
  ackP50Ms: number;
  ackP99Ms: number;
  lateSends: number;
}

/** Entry numbering shared by every phase, so each entry (and probe _id) is unique. */
class Entries {
  next = 0;
  constructor(
    readonly t0Ns: bigint,
    private readonly messageBytes: number,
  ) {}
  take(count: number): HttpEntry[] {
    const out: HttpEntry[] = [];
    for (let i = 0; i < count; i++) out.push(makeEntry(this.next++, this.t0Ns, this.messageBytes));
    return out;
  }
}

function probeId(e: HttpEntry): string {
  return logRecordId(streamFingerprint(e.labels), toLogEntry(e));
}

/** Pushes `events` as fast as the ingestion takes them and times until the processor wrote them all. */
async function probeMaxRate(ingestion: RuntimeProcess, processor: RuntimeProcess, o: Options, entries: Entries): Promise<number> {
  const before = await scrapeMetric(processor.url, 'sextant_sink_records_written_total');
  const first = entries.next;
  entries.next += o.probe;
  const bodies = makeBodies(first, o.probe, 1000, entries.t0Ns, o.messageBytes);
  const started = Date.now();
  await pushAll(ingestion.url, bodies, 8);
  const ingested = Date.now();
  while ((await scrapeMetric(processor.url, 'sextant_sink_records_written_total')) - before < o.probe) await sleep(100);
  const seconds = (Date.now() - started) / 1000;
  progress(
    `  probe: ${o.probe} events ingested in ${((ingested - started) / 1000).toFixed(1)} s, all written to OpenSearch after ${seconds.toFixed(1)} s`,
  );
  return o.probe / seconds;
}

/** Sends at `rate` events/s for `seconds` and returns the probes' ack → searchable latencies. */
async function runWindow(
  ingestion: RuntimeProcess,
  prefix: string,
  o: Options,
  rate: number,
  seconds: number,
  entries: Entries,
): Promise<Window> {
  const interval = (o.batch / rate) * 1000;
  const requests = Math.max(1, Math.round((seconds * 1000) / interval));
  const ackAt = new Map<string, number>();
  const pending = new Set<string>();
  /** Probes not yet found by a realtime GET, with their index. */
  const notIndexed = new Map<string, string>();
  const indexIn = new Map<string, string>();
  const latencies: number[] = [];
  const indexedLatencies: number[] = [];
  const ackLatencies: number[] = [];
  let lateSends = 0;
  let acked = 0;
  let sending = true;
  let drainDeadline = Infinity;
  const sends: Promise<void>[] = [];

  const poller = (async () => {
    while (sending || pending.size > 0) {
      if (Date.now() > drainDeadline) throw new Error(`${pending.size} probes still not searchable 60 s after the window`);
      if (notIndexed.size > 0) {
        const docs = [...notIndexed].map(([id, index]) => ({ _index: index, _id: id, _source: false }));
        const res = await osRequest<{ docs: { _id: string; found?: boolean }[] }>('POST', '/_mget', { docs });
        const now = Date.now();
        for (const d of res.docs) if (d.found && notIndexed.delete(d._id)) indexedLatencies.push(now - ackAt.get(d._id)!);
      }
      if (pending.size > 0) {
        const ids = [...pending];
        const res = await osRequest<{ hits: { hits: { _id: string }[] } }>('POST', `/${prefix}-logs-*/_search?allow_no_indices=true`, {
          size: ids.length,
          _source: false,
          query: { ids: { values: ids } },
        });
        const now = Date.now();
        for (const hit of res.hits.hits) {
          if (!pending.delete(hit._id)) continue;
          latencies.push(now - ackAt.get(hit._id)!);
          // Searchable before the realtime GET saw it: indexed no later than now.
          if (notIndexed.delete(hit._id)) indexedLatencies.push(now - ackAt.get(hit._id)!);
        }
      }
      await sleep(o.pollMs);
    }
  })();

  // Awaited below; this only keeps an early failure from counting as unhandled meanwhile.
  poller.catch(() => undefined);
  const started = Date.now();
  for (let k = 0; k < requests; k++) {
    const due = started + k * interval;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -interval) lateSends++;
    const batch = entries.take(o.batch);
    // The probe's position rotates so probes cover every stream (and so every partition).
    const probe = batch[k % batch.length]!;
    const id = probeId(probe);
    indexIn.set(id, dailyIndex(prefix, 'logs', Number(BigInt(probe.timestamp) / 1_000_000n)));
    const body = JSON.stringify({ entries: batch });
    sends.push(
      (async () => {
        const sent = Date.now();
        await postLogs(ingestion.url, body);
        const now = Date.now();
        ackLatencies.push(now - sent);
        acked += batch.length;
        ackAt.set(id, now);
        pending.add(id);
        notIndexed.set(id, indexIn.get(id)!);
      })(),
    );
  }
  let elapsed: number;
  try {
    await Promise.all(sends);
    elapsed = (Date.now() - started) / 1000;
  } finally {
    sending = false;
    drainDeadline = Date.now() + 60_000;
  }
  await poller;
  return {
    targetEventsPerSecond: Math.round(rate),
    achievedEventsPerSecond: Math.round(acked / elapsed),
    probes: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: Math.max(...latencies),
    indexedP50Ms: percentile(indexedLatencies, 0.5),
    indexedP99Ms: percentile(indexedLatencies, 0.99),
    ackP50Ms: percentile(ackLatencies, 0.5),
    ackP99Ms: percentile(ackLatencies, 0.99),
    lateSends,
  };
}

export async function runLatency(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      rate: { type: 'string', default: process.env.BENCH_RATE },
      probe: { type: 'string', default: process.env.BENCH_PROBE ?? '60000' },
      batch: { type: 'string', default: process.env.BENCH_BATCH ?? '100' },
      'message-bytes': { type: 'string', default: process.env.BENCH_MESSAGE_BYTES ?? '200' },
      partitions: { type: 'string', default: process.env.BENCH_PARTITIONS ?? '6' },
      'max-batch-records': { type: 'string', default: process.env.BENCH_MAX_BATCH_RECORDS ?? '2000' },
      'warmup-seconds': { type: 'string', default: process.env.BENCH_WARMUP_SECONDS ?? '5' },
      seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '20' },
      poll: { type: 'string', default: process.env.BENCH_POLL_MS ?? '50' },
      runs: { type: 'string', default: process.env.BENCH_RUNS ?? '3' },
    },
  });
  const o: Options = {
    rate: values.rate === undefined ? undefined : Number(values.rate),
    probe: Number(values.probe),
    batch: Number(values.batch),
    messageBytes: Number(values['message-bytes']),
    partitions: Number(values.partitions),
    maxBatchRecords: Number(values['max-batch-records']),
    warmupSeconds: Number(values['warmup-seconds']),
    seconds: Number(values.seconds),
    pollMs: Number(values.poll),
    runs: Number(values.runs),
  };
  for (const [k, v] of Object.entries(o))
    if (v !== undefined && (!Number.isFinite(v) || v < (k === 'warmupSeconds' ? 0 : 1)))
      throw new Error(`--${k}: expected a positive number, got ${v}`);
  const id = benchId('lt');
  const configFile = writeRuntimeConfig({ id, partitions: o.partitions, maxBatchRecords: o.maxBatchRecords });
  const entries = new Entries(BigInt(Date.now()) * 1_000_000n, o.messageBytes);
  progress(
    `latency: pipeline ${NAMESPACE}/${id}, ${o.partitions} partitions, requests of ${o.batch} entries (one probe each), ` +
      `${o.runs} windows of ${o.seconds} s after ${o.warmupSeconds} s warm-up, poll every ${o.pollMs} ms`,
  );
  const processes: RuntimeProcess[] = [];
  const windows: Window[] = [];
  let maxRate: number | undefined;
  let rate: number;
  try {
    const ingestion = await start('ingestion', configFile);
    processes.push(ingestion);
    processes.push(await start('processor', configFile));
    const processor = processes[1]!;
    const deadline = Date.now() + 60_000;
    while ((await fetch(`${ingestion.url}/readyz`)).status !== 200 || (await fetch(`${processor.url}/readyz`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`runtimes not ready after 60 s:\n${ingestion.output()}\n${processor.output()}`);
      await sleep(200);
    }
    if (o.rate === undefined) {
      progress(`probing the pipeline's maximum rate with ${o.probe} events`);
      maxRate = await probeMaxRate(ingestion, processor, o, entries);
      rate = maxRate / 2;
      progress(`maximum ≈ ${Math.round(maxRate)} events/s end to end; measuring at half: ${Math.round(rate)} events/s`);
    } else rate = o.rate;
    if (o.warmupSeconds > 0) {
      progress(`warm-up: ${o.warmupSeconds} s at ${Math.round(rate)} events/s`);
      await runWindow(ingestion, id, o, rate, o.warmupSeconds, entries);
    }
    for (let r = 1; r <= o.runs; r++) {
      progress(`window ${r}/${o.runs}: ${o.seconds} s at ${Math.round(rate)} events/s`);
      const w = await runWindow(ingestion, id, o, rate, o.seconds, entries);
      windows.push(w);
      progress(
        `window ${r}/${o.runs}: ${w.probes} probes, ack → searchable p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms, max ${w.maxMs} ms; ` +
          `ack → indexed p50 ${w.indexedP50Ms} ms, p99 ${w.indexedP99Ms} ms ` +
          `(achieved ${w.achievedEventsPerSecond} events/s, ${w.lateSends} late sends)`,
      );
    }
    // Sanity: every entry sent was stored (the bench would otherwise measure a lossy path).
    const sent = entries.next;
    const written = await scrapeMetric(processor.url, 'sextant_sink_records_written_total');
    if (written < sent) await sleep(5_000);
    const final = await scrapeMetric(processor.url, 'sextant_sink_records_written_total');
    if (final !== sent) throw new Error(`processor wrote ${final} records, ${sent} were sent`);
  } finally {
    for (const p of processes.reverse()) await p.stop();
    await deleteIndices(id);
    await deleteTopics([`sextant.${NAMESPACE}.${id}.`]);
  }
  const result = {
    benchmark: 'latency',
    date: new Date().toISOString(),
    machine: machine(),
    options: o,
    visibilityCheckedOn: 'OpenSearch _search (ids query); the query runtime is not in this build',
    maxEventsPerSecond: maxRate === undefined ? null : Math.round(maxRate),
    rateEventsPerSecond: Math.round(rate),
    p50MsMedian: median(windows.map((w) => w.p50Ms)),
    p99MsMedian: median(windows.map((w) => w.p99Ms)),
    maxMs: Math.max(...windows.map((w) => w.maxMs)),
    indexedP50MsMedian: median(windows.map((w) => w.indexedP50Ms)),
    indexedP99MsMedian: median(windows.map((w) => w.indexedP99Ms)),
    ackP99MsMedian: median(windows.map((w) => w.ackP99Ms)),
    windows,
    targets: { p99Ms: 2000 },
  };
  const m = result.machine;
  const md = `## latency (${result.date.slice(0, 10)})

Machine: ${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}. sextant ingestion → Kafka → sextant processor → OpenSearch (refresh interval 1 s), ${o.partitions} partitions, requests of ${o.batch} entries (${o.messageBytes}-byte messages) at ${result.rateEventsPerSecond} events/s${maxRate === undefined ? ' (given)' : `, half the probed end-to-end maximum of ${result.maxEventsPerSecond} events/s`}; one probe entry per request, polled by _id with a _search every ${o.pollMs} ms on OpenSearch directly (no query runtime in this build); median of ${o.runs} windows of ${o.seconds} s.

| window | probes | achieved events/s | ack → searchable p50 | p99 | max | ack → indexed p50 / p99 | HTTP ack p50 / p99 |
|---|---:|---:|---:|---:|---:|---:|---:|
${windows.map((w, i) => `| ${i + 1} | ${w.probes} | ${w.achievedEventsPerSecond} | ${w.p50Ms} ms | ${w.p99Ms} ms | ${w.maxMs} ms | ${w.indexedP50Ms} / ${w.indexedP99Ms} ms | ${w.ackP50Ms} / ${w.ackP99Ms} ms |`).join('\n')}

Median p50 ${result.p50MsMedian} ms, median p99 ${result.p99MsMedian} ms (target p99 ≤ 2,000 ms). Latencies are upper bounds (≤ ${o.pollMs} ms late). "Indexed" = a realtime GET by _id finds the document (the processor's bulk was applied); the rest up to "searchable" is OpenSearch's refresh (interval 1 s).
`;
  writeResults('latency', result, md);
}
