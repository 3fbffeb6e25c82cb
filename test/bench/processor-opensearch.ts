/**
 * processor-opensearch: a real `sextant processor` drains a topic pre-filled with M log
 * records (as the ingestion encodes them) into OpenSearch, against the same-run baseline of
 * direct _bulk indexing of the identical documents (same bodies and _ids, same index
 * template, same bulk bounds, same client library @opensearch-project/opensearch, the same
 * request with the sink's filter_path, one request in flight) into a fresh index — docs/architecture.md §9.
 * The processor keeps up to two bulks in flight (its write pipeline) while it fetches and
 * decodes the next records; the baseline needs no overlap, its bodies are built untimed.
 *
 * The processor's time runs from its "is up" line to the moment its
 * sextant_sink_records_written_total reaches M (polled every 100 ms: a bulk acknowledged,
 * as for the baseline); both sides then refresh and _count exactly M. The topic is filled
 * once; every run uses fresh indices and the consumer group is deleted between runs, so
 * each run reads the topic from the beginning. A warm-up round (both sides, a smaller topic)
 * is not counted.
 */
import { Client } from '@opensearch-project/opensearch';
import { parseArgs } from 'node:util';
import type { Message } from 'kafkajs';
import { encodeLogEntry, recordHeaders } from '../../runtime/src/bus/kafka/codec.js';
import { topicName } from '../../runtime/src/platform/runtime-config.js';
import { consumerGroupId } from '../../runtime/src/processor/runner/consumer.js';
import { BULK_FILTER_PATH, bulkChunks } from '../../runtime/src/storage/opensearch/bulk.js';
import { indexTemplates, logDocument } from '../../runtime/src/storage/opensearch/documents.js';
import {
  benchId,
  countDocs,
  deleteIndices,
  deleteTopics,
  infraPid,
  kafkaAdminClient,
  makeEntry,
  NAMESPACE,
  opensearchUrl,
  scrapeMetric,
  sleep,
  start,
  toLogEntry,
  writeRuntimeConfig,
} from './distributed.js';
import { cpuSeconds, machine, median, peakRssMb, progress, writeResults } from './report.js';

const BULK_MAX_BYTES = 5 * 1024 * 1024; // the runtime's default bulk.maxBytes

interface Options {
  records: number;
  warmup: number;
  messageBytes: number;
  partitions: number;
  bulk: number;
  runs: number;
}

interface Side {
  docsPerSecond: number;
  seconds: number;
  opensearchCpuSecondsPerMillion: number | null;
}
interface ProcessorRun extends Side {
  startupSeconds: number;
  /** From listening to the first acknowledged bulk: group join, first fetch, first batch. */
  firstAckSeconds: number;
  /** After the first acknowledged bulk: the running rate, without the one-off group join. */
  steadyDocsPerSecond: number;
  cpuSecondsPerMillion: number;
  peakRssMb: number;
  recordsPerBatch: number;
}

/** Creates the pipeline's topics and fills the logs topic with records 0..count-1 through kafkajs (acks=all). */
async function fillTopic(id: string, o: Options, count: number, t0Ns: bigint): Promise<void> {
  const kafka = kafkaAdminClient();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: (['logs', 'dlq'] as const).map((s) => ({
        topic: topicName({ pipeline: { namespace: NAMESPACE, name: id } }, s),
        numPartitions: o.partitions,
        replicationFactor: 1,
      })),
    });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const topic = topicName({ pipeline: { namespace: NAMESPACE, name: id } }, 'logs');
    const headers = recordHeaders(NAMESPACE);
    // 1,000 records a request stays below the broker's 1 MiB message.max.bytes per partition.
    for (let first = 0; first < count; first += 1_000) {
      const messages: Message[] = [];
      for (let i = first; i < Math.min(count, first + 1_000); i++)
        messages.push(encodeLogEntry(toLogEntry(makeEntry(i, t0Ns, o.messageBytes)), headers));
      await producer.send({ topic, messages, acks: -1 });
      if ((first / 1_000) % 50 === 49) progress(`  filled ${first + 1_000} of ${count} records`);
    }
  } finally {
    await producer.disconnect();
  }
}

async function runProcessor(id: string, o: Options, count: number, prefix: string): Promise<ProcessorRun> {
  const configFile = writeRuntimeConfig({ id, partitions: o.partitions, indexPrefix: prefix, bulkMaxDocs: o.bulk });
  const os = infraPid('opensearch');
  const spawned = Date.now();
  const p = await start('processor', configFile);
  const up = process.hrtime.bigint();
  const upAt = Date.now();
  const osBefore = os ? cpuSeconds(os) : 0;
  const pid = p.child.pid!;
  try {
    let written = 0;
    let firstAck: number | undefined;
    let writtenAtFirstAck = 0;
    let lastReport = Date.now();
    while ((written = await scrapeMetric(p.url, 'sextant_sink_records_written_total')) < count) {
      if (written > 0 && firstAck === undefined) {
        firstAck = Date.now();
        writtenAtFirstAck = written;
      }
      if (p.child.exitCode !== null) throw new Error(`processor exited with ${p.child.exitCode}:\n${p.output()}`);
      if (process.env.BENCH_TRACE) progress(`  trace: ${written}`);
      if (Date.now() - lastReport > 5_000) {
        progress(`  processor: ${written} of ${count} documents acknowledged by OpenSearch`);
        lastReport = Date.now();
      }
      await sleep(100);
    }
    const seconds = Number(process.hrtime.bigint() - up) / 1e9;
    const doneAt = Date.now();
    const cpu = cpuSeconds(pid);
    const osCpu = os ? cpuSeconds(os) - osBefore : undefined;
    const batches = await scrapeMetric(p.url, 'sextant_processor_offset_commits_total');
    const dlq = await scrapeMetric(p.url, 'sextant_processor_dlq_records_total');
    if (dlq > 0) throw new Error(`${dlq} records went to the DLQ: the documents are not all stored`);
    const stored = await countDocs(prefix);
    if (stored !== count) throw new Error(`processor: ${stored} documents in ${prefix}-logs-*, expected exactly ${count}`);
    return {
      docsPerSecond: count / seconds,
      seconds,
      startupSeconds: (upAt - spawned) / 1000,
      firstAckSeconds: ((firstAck ?? Date.now()) - upAt) / 1000,
      steadyDocsPerSecond: firstAck === undefined ? count / seconds : ((count - writtenAtFirstAck) * 1000) / Math.max(1, doneAt - firstAck),
      // Process CPU includes its start-up (under a second of the total).
      cpuSecondsPerMillion: (cpu / count) * 1e6,
      peakRssMb: peakRssMb(pid),
      recordsPerBatch: count / Math.max(1, batches),
      opensearchCpuSecondsPerMillion: osCpu === undefined ? null : (osCpu / count) * 1e6,
    };
  } finally {
    await p.stop();
    await deleteIndices(prefix);
    await deleteGroup(consumerGroupId({ pipeline: { namespace: NAMESPACE, name: id } }, 'opensearch'));
  }
}

async function deleteGroup(groupId: string): Promise<void> {
  const admin = kafkaAdminClient().admin();
  await admin.connect();
  try {
    // The stopped processor left the group; deleting it makes the next run start from the beginning.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.deleteGroups([groupId]);
        return;
      } catch (error) {
        if (attempt >= 20) throw new Error(`cannot delete consumer group ${groupId}: ${(error as Error).message}`);
        await sleep(500);
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** The same documents, _ids and template, written directly with the same client and bulk bounds, one request in flight. */
async function runDirect(o: Options, count: number, prefix: string, t0Ns: bigint): Promise<Side> {
  const client = new Client({ nodes: [opensearchUrl()], requestTimeout: 30_000, maxRetries: 0 });
  try {
    for (const template of indexTemplates(prefix))
      await client.indices.putIndexTemplate({ name: template.name, body: template.body as never });
    const docs = Array.from({ length: count }, (_, i) => logDocument(prefix, toLogEntry(makeEntry(i, t0Ns, o.messageBytes))));
    const chunks = bulkChunks(docs, o.bulk, BULK_MAX_BYTES);
    const os = infraPid('opensearch');
    const osBefore = os ? cpuSeconds(os) : 0;
    const started = process.hrtime.bigint();
    for (const chunk of chunks) {
      // The sink's request exactly: same filter_path (only each item's status and error come back).
      const res = await client.bulk({ body: chunk.body as never, filter_path: BULK_FILTER_PATH });
      const items = (res.body as { items?: Record<string, { status: number }>[] }).items ?? [];
      if (items.length !== chunk.indices.length || items.some((i) => (Object.values(i)[0]?.status ?? 0) >= 300))
        throw new Error(`direct bulk: some items failed: ${JSON.stringify(res.body).slice(0, 500)}`);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const osCpu = os ? cpuSeconds(os) - osBefore : undefined;
    const stored = await countDocs(prefix);
    if (stored !== count) throw new Error(`direct: ${stored} documents in ${prefix}-logs-*, expected exactly ${count}`);
    return { docsPerSecond: count / seconds, seconds, opensearchCpuSecondsPerMillion: osCpu === undefined ? null : (osCpu / count) * 1e6 };
  } finally {
    await client.close();
    await deleteIndices(prefix);
  }
}

export async function runProcessorOpenSearch(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      records: { type: 'string', default: process.env.BENCH_RECORDS ?? '200000' },
      warmup: { type: 'string', default: process.env.BENCH_WARMUP ?? '20000' },
      'message-bytes': { type: 'string', default: process.env.BENCH_MESSAGE_BYTES ?? '200' },
      partitions: { type: 'string', default: process.env.BENCH_PARTITIONS ?? '6' },
      bulk: { type: 'string', default: process.env.BENCH_BULK ?? '5000' },
      runs: { type: 'string', default: process.env.BENCH_RUNS ?? '3' },
    },
  });
  const o: Options = {
    records: Number(values.records),
    warmup: Number(values.warmup),
    messageBytes: Number(values['message-bytes']),
    partitions: Number(values.partitions),
    bulk: Number(values.bulk),
    runs: Number(values.runs),
  };
  for (const [k, v] of Object.entries(o))
    if (!Number.isInteger(v) || v < (k === 'warmup' ? 0 : 1)) throw new Error(`--${k}: expected a positive integer, got ${v}`);
  const t0Ns = BigInt(Date.now()) * 1_000_000n;
  const id = benchId('po');
  const warmId = benchId('pw');
  progress(
    `processor-opensearch: ${o.records} records (+${o.warmup} warm-up) with ${o.messageBytes}-byte messages, ${o.partitions} partitions, ` +
      `bulk ≤ ${o.bulk} docs, ${o.runs} runs; pipeline ${NAMESPACE}/${id}`,
  );
  const processor: ProcessorRun[] = [];
  const direct: Side[] = [];
  try {
    if (o.warmup > 0) {
      progress(`warm-up: filling ${o.warmup} records, then both sides once (not counted)`);
      await fillTopic(warmId, o, o.warmup, t0Ns);
      await runDirect(o, o.warmup, `${warmId}-d`, t0Ns);
      await runProcessor(warmId, o, o.warmup, `${warmId}-p`);
    }
    progress(`filling ${o.records} records into ${topicName({ pipeline: { namespace: NAMESPACE, name: id } }, 'logs')}`);
    await fillTopic(id, o, o.records, t0Ns);
    for (let r = 1; r <= o.runs; r++) {
      // Alternate so drift in machine load hits both sides alike.
      progress(`run ${r}/${o.runs}: direct bulk indexing baseline`);
      direct.push(await runDirect(o, o.records, `${id}-d${r}`, t0Ns));
      progress(`run ${r}/${o.runs}: direct ${Math.round(direct[direct.length - 1]!.docsPerSecond)} docs/s; now sextant processor`);
      processor.push(await runProcessor(id, o, o.records, `${id}-p${r}`));
      progress(`run ${r}/${o.runs}: sextant processor ${Math.round(processor[processor.length - 1]!.docsPerSecond)} docs/s`);
    }
  } finally {
    await deleteTopics([`sextant.${NAMESPACE}.${id}.`, `sextant.${NAMESPACE}.${warmId}.`]);
  }
  const ratios = processor.map((s, i) => s.docsPerSecond / direct[i]!.docsPerSecond);
  const steadyRatios = processor.map((s, i) => s.steadyDocsPerSecond / direct[i]!.docsPerSecond);
  const medianOrNull = (xs: (number | null)[]) => (xs.every((x) => x !== null) ? +median(xs as number[]).toFixed(2) : null);
  const result = {
    benchmark: 'processor-opensearch',
    date: new Date().toISOString(),
    machine: machine(),
    options: o,
    processor: {
      docsPerSecondMedian: Math.round(median(processor.map((s) => s.docsPerSecond))),
      cpuSecondsPerMillionMedian: +median(processor.map((s) => s.cpuSecondsPerMillion)).toFixed(2),
      opensearchCpuSecondsPerMillionMedian: medianOrNull(processor.map((s) => s.opensearchCpuSecondsPerMillion)),
      peakRssMbMax: Math.round(Math.max(...processor.map((s) => s.peakRssMb))),
      recordsPerBatchMedian: Math.round(median(processor.map((s) => s.recordsPerBatch))),
      startupSecondsMedian: +median(processor.map((s) => s.startupSeconds)).toFixed(2),
      firstAckSecondsMedian: +median(processor.map((s) => s.firstAckSeconds)).toFixed(2),
      steadyDocsPerSecondMedian: Math.round(median(processor.map((s) => s.steadyDocsPerSecond))),
      runs: processor,
    },
    directBulk: {
      docsPerSecondMedian: Math.round(median(direct.map((s) => s.docsPerSecond))),
      opensearchCpuSecondsPerMillionMedian: medianOrNull(direct.map((s) => s.opensearchCpuSecondsPerMillion)),
      runs: direct,
    },
    ratioMedian: +median(ratios).toFixed(3),
    ratios: ratios.map((r) => +r.toFixed(3)),
    steadyRatioMedian: +median(steadyRatios).toFixed(3),
    targets: { ratio: 0.8 },
  };
  const m = result.machine;
  const p = result.processor;
  const d = result.directBulk;
  const md = `## processor-opensearch (${result.date.slice(0, 10)})

Machine: ${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}. ${o.records} log records (${o.messageBytes}-byte messages) pre-filled in ${o.partitions} partitions (+${o.warmup} warm-up), bulk ≤ ${o.bulk} docs / 5 MiB, median of ${o.runs} runs; exactly ${o.records} documents counted after each run.

| path | docs/s (median) | CPU-s per 1M docs (process) | OpenSearch CPU-s per 1M docs | peak RSS |
|---|---:|---:|---:|---:|
| sextant processor: Kafka → decode → stages → _bulk → commit | ${p.docsPerSecondMedian} | ${p.cpuSecondsPerMillionMedian} | ${p.opensearchCpuSecondsPerMillionMedian ?? '—'} | ${p.peakRssMbMax} MB |
| direct _bulk of the identical documents, same client (baseline) | ${d.docsPerSecondMedian} | — | ${d.opensearchCpuSecondsPerMillionMedian ?? '—'} | — |

Same-run ratio processor/direct: median ${result.ratioMedian} (runs: ${result.ratios.join(', ')}). Target ratio ≥ 0.8. The processor wrote a median ${p.recordsPerBatchMedian} documents per offset commit (its write pipeline merges the partitions' batches into bulks of up to ${o.bulk} and commits after each acknowledgement); its start-up (spawn → listening, not timed) took ${p.startupSecondsMedian} s; listening → first bulk acknowledged (group join, first fetch; timed) ${p.firstAckSecondsMedian} s. Counted from that first acknowledgement, the processor ran at ${p.steadyDocsPerSecondMedian} docs/s: steady-state ratio ${result.steadyRatioMedian}.
`;
  writeResults('processor-opensearch', result, md);
}
