/**
 * latency: ingest-acknowledged → queryable, through real `sextant ingestion`, `sextant
 * processor` and `sextant query` processes on the test/infra Kafka and OpenSearch, at half
 * the maximum rate of that pipeline (docs/architecture.md §9; target p99 ≤ 2 s).
 *
 * Method. Requests of `batch` entries are sent open-loop on a fixed schedule (the rate does
 * not slow down when the pipeline does). One entry of each request is a probe: its message
 * starts with "<window token> k<n>" and its OpenSearch _id is known in advance (logRecordId,
 * as the processor derives it). Its clock starts when the HTTP 200 arrives (= Kafka
 * acknowledged, acks=all). Every `poll` ms a poller asks which probes are queryable:
 *  - `--via query` (default): a real `sextant query` — GET /api/v1/logs/search with the
 *    window token as full-text term `q` (pushed down to OpenSearch as match_phrase), the
 *    answer's messages name the probes found;
 *  - `--via opensearch`: an `ids` _search on OpenSearch directly.
 * Both see only refreshed documents (unlike a realtime GET). A probe's latency is the time
 * the first answer containing it arrived minus its ack time: an upper bound, at most one
 * poll interval (plus the query's own duration) late. The index refresh interval is the
 * template's 1 s, so a document waits up to 1 s after it was indexed. A realtime _mget of
 * the pending _ids in the same loop splits off "ack → indexed" (the bulk was applied).
 *
 * The maximum rate is probed first (unless --rate is given): `probe` events pushed as fast
 * as the ingestion accepts them while the processor runs, timed until the processor has
 * written them all — the sustained rate of the whole pipeline, which is below what the
 * ingestion alone accepts.
 */
import { parseArgs } from 'node:util';
import { LogDiscovery } from '../../runtime/src/ingestion/log-discovery.js';
import { logRecordId, streamFingerprint } from '../../runtime/src/model/fingerprint.js';
import { dailyIndex } from '../../runtime/src/storage/opensearch/documents.js';
import type { RuntimeProcess } from '../support/runtime-process.js';
import {
  API_KEY,
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
  via: 'query' | 'opensearch';
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
  /** Acknowledged records the processor had not written when the window's sends ended: growing = the rate is not sustained. */
  backlogAtEnd?: number;
  /** Kafka batches the processor wrote and committed per second (one _bulk and one offset commit each). */
  batchesPerSecond?: number;
}

/** Entry numbering shared by every phase, so each entry (and probe _id) is unique. */
class Entries {
  next = 0;
  constructor(
    readonly t0Ns: bigint,
    private readonly messageBytes: number,
  ) {}
  /** `count` entries; the one at `probeAt` carries `tag` at the start of its message. */
  take(count: number, probeAt = -1, tag = ''): HttpEntry[] {
    const out: HttpEntry[] = [];
    for (let i = 0; i < count; i++) out.push(makeEntry(this.next++, this.t0Ns, this.messageBytes, i === probeAt ? tag : ''));
    return out;
  }
}

/** The stored entry's id: of its labels as ingestion stores them, with the service_name it discovers. */
function probeId(e: HttpEntry): string {
  const stored = new LogDiscovery().apply(toLogEntry(e));
  return logRecordId(streamFingerprint(stored.labels), stored);
}

const COMMITS = 'sextant_processor_offset_commits_total';

/** Finds which of the pending probes are searchable now; the keys are the probes' tags. */
type Visibility = (pending: Map<string, string>, windowToken: string) => Promise<string[]>;

const unavailable = { count: 0 };

/** Through `sextant query`'s native search API: the window's token as a full-text term (pushed down to OpenSearch). */
function viaQuery(query: RuntimeProcess, t0Ns: bigint): Visibility {
  return async (_pending, windowToken) => {
    const params = new URLSearchParams({
      query: '{service=~"svc[0-9]+"}',
      q: windowToken,
      start: String(t0Ns - 60_000_000_000n),
      end: String(BigInt(Date.now() + 3_600_000) * 1_000_000n),
      limit: '5000',
      direction: 'forward',
    });
    const res = await fetch(`${query.url}/api/v1/logs/search?${params}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    const text = await res.text();
    // Seen at the very start (before the processor's first daily index is in place): the
    // search answers 503 "all shards failed" — nothing is queryable yet. Counted in the
    // result, and fatal only if it persists.
    if (res.status === 503 && ++unavailable.count < 200) return [];
    if (res.status !== 200) throw new Error(`sextant query answered ${res.status}: ${text}`);
    const body = JSON.parse(text) as { entries: { message: string }[] };
    return body.entries.map((e) => e.message.split(' ', 2).join(' '));
  };
}

/** On OpenSearch directly: an `ids` _search (refreshed documents only, unlike a realtime GET). */
function viaOpenSearch(prefix: string): Visibility {
  return async (pending) => {
    const byId = new Map([...pending].map(([tag, id]) => [id, tag]));
    const res = await osRequest<{ hits: { hits: { _id: string }[] } }>('POST', `/${prefix}-logs-*/_search?allow_no_indices=true`, {
      size: byId.size,
      _source: false,
      query: { ids: { values: [...byId.keys()] } },
    });
    return res.hits.hits.map((h) => byId.get(h._id)!);
  };
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
  visible: Visibility,
  prefix: string,
  o: Options,
  rate: number,
  seconds: number,
  entries: Entries,
  windowToken: string,
  processorUrl?: string,
): Promise<Window> {
  const interval = (o.batch / rate) * 1000;
  const requests = Math.max(1, Math.round((seconds * 1000) / interval));
  if (requests > 5000) throw new Error(`${requests} probes per window exceed the search limit of 5000: raise --batch or shorten --seconds`);
  /** Keyed by the probe's tag ("<window token> k<n>"). */
  const ackAt = new Map<string, number>();
  /** Acknowledged probes not yet searchable: tag → _id. */
  const pending = new Map<string, string>();
  /** Probes not yet found by a realtime GET: _id → [tag, index]. */
  const notIndexed = new Map<string, [string, string]>();
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
        const docs = [...notIndexed].map(([id, [, index]]) => ({ _index: index, _id: id, _source: false }));
        const res = await osRequest<{ docs: { _id: string; found?: boolean }[] }>('POST', '/_mget', { docs });
        const now = Date.now();
        for (const d of res.docs) {
          const tag = notIndexed.get(d._id)?.[0];
          if (d.found && tag !== undefined && notIndexed.delete(d._id)) indexedLatencies.push(now - ackAt.get(tag)!);
        }
      }
      if (pending.size > 0) {
        const tags = await visible(pending, windowToken);
        const now = Date.now();
        for (const tag of tags) {
          const id = pending.get(tag);
          if (id === undefined || !pending.delete(tag)) continue;
          latencies.push(now - ackAt.get(tag)!);
          // Searchable before the realtime GET saw it: indexed no later than now.
          if (notIndexed.delete(id)) indexedLatencies.push(now - ackAt.get(tag)!);
        }
      }
      await sleep(o.pollMs);
    }
  })();

  const commitsBefore = processorUrl ? await scrapeMetric(processorUrl, COMMITS) : undefined;
  // Awaited below; this only keeps an early failure from counting as unhandled meanwhile.
  poller.catch(() => undefined);
  const started = Date.now();
  for (let k = 0; k < requests; k++) {
    const due = started + k * interval;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -interval) lateSends++;
    // The probe's position rotates so probes cover every stream (and so every partition).
    const tag = `${windowToken} k${k}`;
    const batch = entries.take(o.batch, k % o.batch, `${tag} `);
    const probe = batch[k % batch.length]!;
    const id = probeId(probe);
    const index = dailyIndex(prefix, 'logs', Number(BigInt(probe.timestamp) / 1_000_000n));
    const body = JSON.stringify({ entries: batch });
    sends.push(
      (async () => {
        const sent = Date.now();
        await postLogs(ingestion.url, body);
        const now = Date.now();
        ackLatencies.push(now - sent);
        acked += batch.length;
        ackAt.set(tag, now);
        pending.set(tag, id);
        notIndexed.set(id, [tag, index]);
      })(),
    );
  }
  let elapsed: number;
  let backlogAtEnd: number | undefined;
  let batchesPerSecond: number | undefined;
  try {
    await Promise.all(sends);
    elapsed = (Date.now() - started) / 1000;
    if (processorUrl) {
      // Every entry taken so far is acknowledged now; what the processor has not written yet is backlog.
      backlogAtEnd = entries.next - (await scrapeMetric(processorUrl, 'sextant_sink_records_written_total'));
      batchesPerSecond = +(((await scrapeMetric(processorUrl, COMMITS)) - commitsBefore!) / elapsed).toFixed(1);
    }
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
    ...(backlogAtEnd === undefined ? {} : { backlogAtEnd }),
    ...(batchesPerSecond === undefined ? {} : { batchesPerSecond }),
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
      // Each poll is a search (and a realtime _mget): more often would load the shared 2 cores.
      poll: { type: 'string', default: process.env.BENCH_POLL_MS ?? '100' },
      via: { type: 'string', default: process.env.BENCH_VIA ?? 'query' },
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
    via: values.via === 'opensearch' ? 'opensearch' : 'query',
    runs: Number(values.runs),
  };
  if (values.via !== 'query' && values.via !== 'opensearch') throw new Error(`--via: expected query or opensearch, got ${values.via}`);
  for (const [k, v] of Object.entries(o))
    if (typeof v !== 'string' && v !== undefined && (!Number.isFinite(v) || v < (k === 'warmupSeconds' ? 0 : 1)))
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
    const processor = await start('processor', configFile);
    processes.push(processor);
    let visible = viaOpenSearch(id);
    if (o.via === 'query') {
      const query = await start('query', configFile);
      processes.push(query);
      visible = viaQuery(query, entries.t0Ns);
    }
    const deadline = Date.now() + 60_000;
    for (const p of processes) {
      while ((await fetch(`${p.url}/readyz`)).status !== 200) {
        if (Date.now() > deadline) throw new Error(`runtimes not ready after 60 s:\n${processes.map((q) => q.output()).join('\n')}`);
        await sleep(200);
      }
    }
    // One full-text token per window (the standard analyzer keeps letters+digits together).
    const token = (w: number) => `probe${id.replace(/[^a-z0-9]/g, '')}w${w}`;
    if (o.rate === undefined) {
      progress(`probing the pipeline's maximum rate with ${o.probe} events`);
      maxRate = await probeMaxRate(ingestion, processor, o, entries);
      rate = maxRate / 2;
      progress(`maximum ≈ ${Math.round(maxRate)} events/s end to end; measuring at half: ${Math.round(rate)} events/s`);
    } else rate = o.rate;
    if (o.warmupSeconds > 0) {
      progress(`warm-up: ${o.warmupSeconds} s at ${Math.round(rate)} events/s`);
      await runWindow(ingestion, visible, id, o, rate, o.warmupSeconds, entries, token(0));
    }
    for (let r = 1; r <= o.runs; r++) {
      progress(`window ${r}/${o.runs}: ${o.seconds} s at ${Math.round(rate)} events/s`);
      const w = await runWindow(ingestion, visible, id, o, rate, o.seconds, entries, token(r), processor.url);
      windows.push(w);
      progress(
        `window ${r}/${o.runs}: ${w.probes} probes, ack → searchable p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms, max ${w.maxMs} ms; ` +
          `ack → indexed p50 ${w.indexedP50Ms} ms, p99 ${w.indexedP99Ms} ms ` +
          `(achieved ${w.achievedEventsPerSecond} events/s, ${w.lateSends} late sends, ${w.backlogAtEnd} acknowledged records not yet written at the end, ${w.batchesPerSecond} batches/s)`,
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
    visibilityCheckedOn:
      o.via === 'query' ? 'sextant query: GET /api/v1/logs/search (full-text term per window)' : 'OpenSearch _search (ids query), directly',
    maxEventsPerSecond: maxRate === undefined ? null : Math.round(maxRate),
    rateEventsPerSecond: Math.round(rate),
    p50MsMedian: median(windows.map((w) => w.p50Ms)),
    p99MsMedian: median(windows.map((w) => w.p99Ms)),
    maxMs: Math.max(...windows.map((w) => w.maxMs)),
    indexedP50MsMedian: median(windows.map((w) => w.indexedP50Ms)),
    indexedP99MsMedian: median(windows.map((w) => w.indexedP99Ms)),
    ackP99MsMedian: median(windows.map((w) => w.ackP99Ms)),
    /** 503s from the query while the first index was being created (treated as "not yet visible"). */
    queryAnswers503: unavailable.count,
    windows,
    targets: { p99Ms: 2000 },
  };
  const m = result.machine;
  const md = `## latency (${result.date.slice(0, 10)})

Machine: ${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}. sextant ingestion → Kafka → sextant processor → OpenSearch (refresh interval 1 s), ${o.partitions} partitions, requests of ${o.batch} entries (${o.messageBytes}-byte messages) at ${result.rateEventsPerSecond} events/s${maxRate === undefined ? ' (given)' : `, half the probed end-to-end maximum of ${result.maxEventsPerSecond} events/s`}; one probe entry per request, polled every ${o.pollMs} ms ${o.via === 'query' ? 'through `sextant query` (GET /api/v1/logs/search, a full-text term per window)' : 'by _id with a _search on OpenSearch directly'}; median of ${o.runs} windows of ${o.seconds} s.

| window | probes | achieved events/s | ack → searchable p50 | p99 | max | ack → indexed p50 / p99 | HTTP ack p50 / p99 | backlog at end | processor batches/s |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${windows.map((w, i) => `| ${i + 1} | ${w.probes} | ${w.achievedEventsPerSecond} | ${w.p50Ms} ms | ${w.p99Ms} ms | ${w.maxMs} ms | ${w.indexedP50Ms} / ${w.indexedP99Ms} ms | ${w.ackP50Ms} / ${w.ackP99Ms} ms | ${w.backlogAtEnd ?? '—'} | ${w.batchesPerSecond ?? '—'} |`).join('\n')}

Median p50 ${result.p50MsMedian} ms, median p99 ${result.p99MsMedian} ms (target p99 ≤ 2,000 ms). Latencies are upper bounds (≤ ${o.pollMs} ms plus one search late). "Indexed" = a realtime GET by _id finds the document (the processor's bulk was applied); the rest up to "searchable" is OpenSearch's refresh (interval 1 s).
`;
  writeResults('latency', result, md);
}
