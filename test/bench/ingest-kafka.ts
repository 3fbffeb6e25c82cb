/**
 * ingest-kafka: log events through HTTP into Kafka via a real `sextant ingestion` process
 * (every 200 answered only after Kafka acknowledged with acks=all), against the same-run
 * baseline of Kafka's own ProducerPerformance (acks=all, records of the same value size, a
 * topic with the same partition count, the same broker) — docs/architecture.md §9. Reports events/s, the
 * ingestion's CPU-seconds per million events and peak RSS, the broker's CPU-seconds per
 * million on both sides, the ratio, and whether 100,000 events/s was reached.
 *
 * Each run starts a fresh ingestion on fresh topics, pushes a warm-up batch of events
 * (untimed, so the JIT and the producer connection are warm), then the timed events.
 *
 * `--clients kafkajs,platformatic` also runs the ingestion with its KafkaBus producing through
 * @platformatic/kafka (the bench-only adapter in kafka-clients/, preloaded into the process),
 * alternating the clients' order run by run: the Kafka client decision of issue 11.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { topicName } from '../../runtime/src/platform/runtime-config.js';
import {
  benchId,
  brokers,
  deleteTopics,
  infraPid,
  kafkaAdminClient,
  makeBodies,
  makeEntry,
  meanRecordValueBytes,
  NAMESPACE,
  pushAll,
  scrapeMetric,
  start,
  topicRecords,
  writeRuntimeConfig,
} from './distributed.js';
import { cpuSeconds, machine, median, peakRssMb, progress, writeResults } from './report.js';

const INFRA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../infra/infra.sh');
const HEADLINE = 100_000;
const CALIBRATION_RECORDS = 1_000;
/**
 * Kafka clients the ingestion can produce through: NODE_OPTIONS for its process. kafkajs is the
 * runtime's own; the others are bench-only adapters (kafka-clients/), compiled to dist/ by tsc.
 */
/** A file of dist/ (the runtimes run built; `make bench` builds first). */
function builtFile(relative: string): string {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist', relative);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run "make build" first`);
  return file;
}
const CLIENTS: Record<string, () => Record<string, string>> = {
  kafkajs: () => ({}),
  platformatic: () => ({
    NODE_OPTIONS: `--import=${builtFile('test/bench/kafka-clients/use-platformatic.js')}`,
    BENCH_KAFKA_BROKERS: brokers().join(','),
  }),
  // Optional: @confluentinc/kafka-javascript built outside the tree (kafka-clients/use-confluent.ts).
  confluent: () => {
    if (!process.env.BENCH_CKJS_DIR) throw new Error('--clients confluent: set BENCH_CKJS_DIR (docs/benchmarks.md, set 7)');
    return {
      NODE_OPTIONS: `--import=${builtFile('test/bench/kafka-clients/use-confluent.js')}`,
      BENCH_KAFKA_BROKERS: brokers().join(','),
      BENCH_CKJS_DIR: process.env.BENCH_CKJS_DIR,
    };
  },
};

interface Options {
  events: number;
  warmup: number;
  batch: number;
  concurrency: number;
  messageBytes: number;
  partitions: number;
  maxBatchRecords: number;
  runs: number;
  clients: string[];
}

interface SextantRun {
  eventsPerSecond: number;
  seconds: number;
  cpuSecondsPerMillion: number;
  brokerCpuSecondsPerMillion: number | null;
  peakRssMb: number;
  kafkaBatches: number;
  /** The load generator's (this process's) CPU-seconds per million events: it must stay well below the ingestion's. */
  clientCpuSecondsPerMillion: number;
  /** The 1-minute load average when the timed part ended (the machine is shared). */
  loadAverage: number;
}

interface PerfRun {
  eventsPerSecond: number;
  /** The tool's CPU-seconds per million records, less a JVM start (measured by a 1,000-record run). */
  cpuSecondsPerMillion: number;
  mbPerSecond: number;
  p99LatencyMs: number;
  brokerCpuSecondsPerMillion: number | null;
}

async function runSextant(o: Options, bodies: string[], warmBodies: string[], client = 'kafkajs'): Promise<SextantRun> {
  const id = benchId('ik');
  const configFile = writeRuntimeConfig({ id, partitions: o.partitions, maxBatchRecords: o.maxBatchRecords });
  const p = await start('ingestion', configFile, CLIENTS[client]!());
  try {
    const deadline = Date.now() + 60_000;
    while ((await fetch(`${p.url}/readyz`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`ingestion not ready after 60 s:\n${p.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await pushAll(p.url, warmBodies, o.concurrency);
    const pid = p.child.pid!;
    const broker = infraPid('kafka');
    const cpuBefore = cpuSeconds(pid);
    const brokerBefore = broker ? cpuSeconds(broker) : 0;
    const batchesBefore = await scrapeMetric(p.url, 'sextant_bus_batches_sent_total');
    const clientBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    let done = 0;
    const ticker = setInterval(() => progress(`  sextant: ${done * o.batch} of ${o.events} events acknowledged`), 5_000);
    try {
      await pushAll(p.url, bodies, o.concurrency, () => done++);
    } finally {
      clearInterval(ticker);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const clientCpu = process.cpuUsage(clientBefore);
    const cpu = cpuSeconds(pid) - cpuBefore;
    const brokerCpu = broker ? cpuSeconds(broker) - brokerBefore : undefined;
    const batches = (await scrapeMetric(p.url, 'sextant_bus_batches_sent_total')) - batchesBefore;
    // Every 200 was an acknowledged publish: the topic must hold exactly what was sent.
    const stored = await topicRecords(topicName({ pipeline: { namespace: NAMESPACE, name: id } }, 'logs'));
    if (stored !== o.warmup + o.events) throw new Error(`topic holds ${stored} records, ${o.warmup + o.events} were acknowledged`);
    return {
      eventsPerSecond: o.events / seconds,
      seconds,
      cpuSecondsPerMillion: (cpu / o.events) * 1e6,
      brokerCpuSecondsPerMillion: brokerCpu === undefined ? null : (brokerCpu / o.events) * 1e6,
      peakRssMb: peakRssMb(pid),
      kafkaBatches: batches,
      clientCpuSecondsPerMillion: ((clientCpu.user + clientCpu.system) / 1e6 / o.events) * 1e6,
      loadAverage: +os.loadavg()[0]!.toFixed(1),
    };
  } finally {
    await p.stop();
    await deleteTopics([`sextant.${NAMESPACE}.${id}.`]);
  }
}

/** Kafka's ProducerPerformance through test/infra/infra.sh; parses its summary line. */
function producerPerformance(
  topic: string,
  records: number,
  recordSize: number,
): Promise<{ rate: number; mb: number; p99: number; cpuSeconds: number }> {
  // The wrapper shell reports its children's CPU time (cutime + cstime of /proc/$$/stat, which
  // include the JVM once it was waited for): the tool's CPU, JVM start and JIT included.
  const wrapper = '"$0" "$@"; rc=$?; echo "BENCH_CHILD_CPU_TICKS $(cut -d" " -f16,17 /proc/$$/stat)" >&2; exit $rc';
  const args = [
    '-c',
    wrapper,
    INFRA,
    'kafka-producer-perf',
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    'acks=all',
    `bootstrap.servers=${brokers().join(',')}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line.trim()) progress(`  ProducerPerformance: ${line.trim()}`);
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      // "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, p50 ms 50th, p95 ms 95th, p99 ms 99th, ..."
      const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\).*?(\d+) ms 99th/.exec(out.split('\n').reverse().join('\n'));
      if (code !== 0 || !m || Number(m[1]) !== records)
        reject(new Error(`ProducerPerformance exited with ${code} without a summary of ${records} records:\n${out}`));
      else {
        const ticks = /BENCH_CHILD_CPU_TICKS (\d+) (\d+)/.exec(out);
        const cpu = ticks ? (Number(ticks[1]) + Number(ticks[2])) / 100 : NaN; // USER_HZ is 100 on Linux
        resolve({ rate: Number(m[2]), mb: Number(m[3]), p99: Number(m[4]), cpuSeconds: cpu });
      }
    });
  });
}

async function runPerf(o: Options, recordSize: number): Promise<PerfRun> {
  const topic = `sextant-bench-perf-${benchId('pp')}`;
  const admin = kafkaAdminClient().admin();
  await admin.connect();
  try {
    // A busy shared broker can answer the leader wait's metadata request with a retriable
    // UNKNOWN_TOPIC_OR_PARTITION just after the create: ask again (the topic exists by then).
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: o.partitions, replicationFactor: 1 }] });
        break;
      } catch (error) {
        if (attempt >= 5 || !(error as { retriable?: boolean }).retriable) throw error;
        progress(`  creating ${topic}: ${(error as Error).message}; retrying (${attempt})`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  } finally {
    await admin.disconnect();
  }
  try {
    // ProducerPerformance has no warm-up option (Kafka 4.1): its own JVM starts cold, and its
    // rate is measured from its first send, so the baseline includes its JIT warm-up. A run of
    // CALIBRATION_RECORDS first measures the CPU of a JVM start, subtracted from the main run's.
    const calibration = await producerPerformance(topic, CALIBRATION_RECORDS, recordSize);
    const broker = infraPid('kafka');
    const brokerBefore = broker ? cpuSeconds(broker) : 0;
    const r = await producerPerformance(topic, o.events, recordSize);
    const brokerCpu = broker ? cpuSeconds(broker) - brokerBefore : undefined;
    const stored = await topicRecords(topic);
    if (stored !== CALIBRATION_RECORDS + o.events)
      throw new Error(`ProducerPerformance: topic holds ${stored} records, expected ${CALIBRATION_RECORDS + o.events}`);
    return {
      eventsPerSecond: r.rate,
      cpuSecondsPerMillion: (Math.max(0, r.cpuSeconds - calibration.cpuSeconds) / o.events) * 1e6,
      mbPerSecond: r.mb,
      p99LatencyMs: r.p99,
      brokerCpuSecondsPerMillion: brokerCpu === undefined ? null : (brokerCpu / o.events) * 1e6,
    };
  } finally {
    await deleteTopics([topic]);
  }
}

export async function runIngestKafka(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      events: { type: 'string', default: process.env.BENCH_EVENTS ?? '500000' },
      warmup: { type: 'string', default: process.env.BENCH_WARMUP ?? '50000' },
      batch: { type: 'string', default: process.env.BENCH_BATCH ?? '1000' },
      concurrency: { type: 'string', default: process.env.BENCH_CONCURRENCY ?? '8' },
      'message-bytes': { type: 'string', default: process.env.BENCH_MESSAGE_BYTES ?? '200' },
      partitions: { type: 'string', default: process.env.BENCH_PARTITIONS ?? '6' },
      // The ingestion's default (10,000) cuts batches by count only: 10,000 records of ~400 B
      // with several streams on one partition exceed the broker's message.max.bytes (1 MiB),
      // and Kafka refuses the whole produce request (the ingestion then answers 503).
      'max-batch-records': { type: 'string', default: process.env.BENCH_MAX_BATCH_RECORDS ?? '2000' },
      runs: { type: 'string', default: process.env.BENCH_RUNS ?? '3' },
      clients: { type: 'string', default: process.env.BENCH_CLIENTS ?? 'kafkajs' },
    },
  });
  const clients = values.clients.split(',').map((c) => c.trim());
  for (const c of clients) if (!CLIENTS[c]) throw new Error(`--clients: unknown client ${c} (known: ${Object.keys(CLIENTS).join(', ')})`);
  const o: Options = {
    events: Number(values.events),
    warmup: Number(values.warmup),
    batch: Number(values.batch),
    concurrency: Number(values.concurrency),
    messageBytes: Number(values['message-bytes']),
    partitions: Number(values.partitions),
    maxBatchRecords: Number(values['max-batch-records']),
    runs: Number(values.runs),
    clients,
  };
  for (const [k, v] of Object.entries(o))
    if ((k !== 'clients' && !Number.isInteger(v)) || v < (k === 'warmup' ? 0 : 1))
      throw new Error(`--${k}: expected a positive integer, got ${v}`);
  const t0Ns = BigInt(Date.now()) * 1_000_000n;
  const recordSize = meanRecordValueBytes(Array.from({ length: 1000 }, (_, i) => makeEntry(i, t0Ns, o.messageBytes)));
  progress(
    `ingest-kafka: ${o.events} events (+${o.warmup} warm-up) with ${o.messageBytes}-byte messages (Kafka record value ${recordSize} B), ` +
      `batches of ${o.batch}, ${o.concurrency} concurrent requests, ${o.partitions} partitions, maxBatchRecords ${o.maxBatchRecords}, ${o.runs} runs; topic ${topicName({ pipeline: { namespace: NAMESPACE, name: '<id>' } }, 'logs')}`,
  );
  const warmBodies = makeBodies(0, o.warmup, o.batch, t0Ns, o.messageBytes);
  const bodies = makeBodies(o.warmup, o.events, o.batch, t0Ns, o.messageBytes);
  const sextant: SextantRun[] = [];
  const others = new Map<string, SextantRun[]>(clients.filter((c) => c !== clients[0]).map((c) => [c, []]));
  const perf: PerfRun[] = [];
  for (let r = 1; r <= o.runs; r++) {
    // Alternate so drift in machine load hits both sides alike.
    progress(`run ${r}/${o.runs}: Kafka ProducerPerformance baseline (acks=all, ${recordSize}-byte records)`);
    perf.push(await runPerf(o, recordSize));
    progress(
      `run ${r}/${o.runs}: ProducerPerformance ${Math.round(perf[perf.length - 1]!.eventsPerSecond)} events/s; now sextant ingestion over HTTP`,
    );
    // With several clients, their order alternates run by run as well.
    const order = r % 2 === 1 ? clients : [...clients].reverse();
    for (const client of order) {
      const run = await runSextant(o, bodies, warmBodies, client);
      (client === clients[0] ? sextant : others.get(client)!).push(run);
      progress(`run ${r}/${o.runs}: sextant ingestion (${client}) ${Math.round(run.eventsPerSecond)} events/s`);
    }
  }
  const ratios = sextant.map((s, i) => s.eventsPerSecond / perf[i]!.eventsPerSecond);
  const medianOrNull = (xs: (number | null)[]) => (xs.every((x) => x !== null) ? +median(xs as number[]).toFixed(2) : null);
  const sextantMedian = Math.round(median(sextant.map((s) => s.eventsPerSecond)));
  // Per client, against the first (kafkajs) run by run: rate and CPU per event quotients.
  const summarize = (runs: SextantRun[]) => ({
    eventsPerSecondMedian: Math.round(median(runs.map((s) => s.eventsPerSecond))),
    cpuSecondsPerMillionMedian: +median(runs.map((s) => s.cpuSecondsPerMillion)).toFixed(2),
    peakRssMbMax: Math.round(Math.max(...runs.map((s) => s.peakRssMb))),
    brokerCpuSecondsPerMillionMedian: medianOrNull(runs.map((s) => s.brokerCpuSecondsPerMillion)),
    rateVsFirstClientMedian: +median(runs.map((s, i) => s.eventsPerSecond / sextant[i]!.eventsPerSecond)).toFixed(3),
    cpuVsFirstClientMedian: +median(runs.map((s, i) => s.cpuSecondsPerMillion / sextant[i]!.cpuSecondsPerMillion)).toFixed(3),
    ratioToProducerPerformanceMedian: +median(runs.map((s, i) => s.eventsPerSecond / perf[i]!.eventsPerSecond)).toFixed(3),
    loadAverages: runs.map((s) => s.loadAverage),
    runs,
  });
  const byClient = Object.fromEntries([[clients[0]!, sextant] as const, ...others].map(([c, runs]) => [c, summarize(runs)]));
  const result = {
    benchmark: 'ingest-kafka',
    date: new Date().toISOString(),
    machine: machine(),
    options: { ...o, recordValueBytes: recordSize },
    sextant: {
      eventsPerSecondMedian: sextantMedian,
      cpuSecondsPerMillionMedian: +median(sextant.map((s) => s.cpuSecondsPerMillion)).toFixed(2),
      brokerCpuSecondsPerMillionMedian: medianOrNull(sextant.map((s) => s.brokerCpuSecondsPerMillion)),
      peakRssMbMax: Math.round(Math.max(...sextant.map((s) => s.peakRssMb))),
      clientCpuSecondsPerMillionMedian: +median(sextant.map((s) => s.clientCpuSecondsPerMillion)).toFixed(2),
      recordsPerKafkaBatchMedian: Math.round(median(sextant.map((s) => o.events / Math.max(1, s.kafkaBatches)))),
      runs: sextant,
    },
    producerPerformance: {
      eventsPerSecondMedian: Math.round(median(perf.map((s) => s.eventsPerSecond))),
      mbPerSecondMedian: +median(perf.map((s) => s.mbPerSecond)).toFixed(2),
      cpuSecondsPerMillionMedian: +median(perf.map((s) => s.cpuSecondsPerMillion)).toFixed(2),
      brokerCpuSecondsPerMillionMedian: medianOrNull(perf.map((s) => s.brokerCpuSecondsPerMillion)),
      runs: perf,
    },
    ratioMedian: +median(ratios).toFixed(3),
    /** CPU cost per event, ProducerPerformance / sextant: less sensitive to a busy machine than the rates. */
    cpuEfficiencyRatioMedian: +median(perf.map((p, i) => p.cpuSecondsPerMillion / sextant[i]!.cpuSecondsPerMillion)).toFixed(3),
    ratios: ratios.map((r) => +r.toFixed(3)),
    reaches100kEventsPerSecond: sextantMedian >= HEADLINE,
    targets: { ratio: 0.6, eventsPerSecond: HEADLINE },
    clients: byClient,
  };
  const m = result.machine;
  const s = result.sextant;
  const b = result.producerPerformance;
  const md = `## ingest-kafka (${result.date.slice(0, 10)})

Machine: ${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}. ${o.events} events (+${o.warmup} warm-up), ${o.messageBytes}-byte messages = ${recordSize}-byte Kafka record values, batches of ${o.batch}, ${o.concurrency} concurrent requests, ${o.partitions} partitions, ingestion kafka.producer.maxBatchRecords=${o.maxBatchRecords}, acks=all, median of ${o.runs} runs.

| path | events/s (median) | CPU-s per 1M events (process) | broker CPU-s per 1M events | peak RSS |
|---|---:|---:|---:|---:|
| sextant ingestion: HTTP → validate → Kafka (acks=all) | ${s.eventsPerSecondMedian} | ${s.cpuSecondsPerMillionMedian} | ${s.brokerCpuSecondsPerMillionMedian ?? '—'} | ${s.peakRssMbMax} MB |
| Kafka ProducerPerformance, same broker, same value size (baseline) | ${b.eventsPerSecondMedian} | ${b.cpuSecondsPerMillionMedian} (less a JVM start) | ${b.brokerCpuSecondsPerMillionMedian ?? '—'} | — |

Same-run ratio sextant/ProducerPerformance: median ${result.ratioMedian} (runs: ${result.ratios.join(', ')}). Target ratio ≥ 0.6. CPU per event, ProducerPerformance/sextant: median ${result.cpuEfficiencyRatioMedian} (1 = as cheap as Kafka's own client). ${HEADLINE.toLocaleString('en')} events/s ${result.reaches100kEventsPerSecond ? 'reached' : 'not reached'} on this machine. Sextant sent a median ${s.recordsPerKafkaBatchMedian} records per Kafka produce request. The load generator (a separate process) used a median ${s.clientCpuSecondsPerMillionMedian} CPU-s per 1M events.
${
  clients.length < 2
    ? ''
    : `
Kafka clients under the same KafkaBus (order alternating run by run; quotients are per run against ${clients[0]}, then the median):

| client | events/s (median) | × ${clients[0]} rate | CPU-s per 1M events | × ${clients[0]} CPU | peak RSS | ratio to ProducerPerformance | load average (1 min) per run |
|---|---:|---:|---:|---:|---:|---:|---|
${Object.entries(byClient)
  .map(
    ([c, x]) =>
      `| ${c} | ${x.eventsPerSecondMedian} | ${x.rateVsFirstClientMedian} | ${x.cpuSecondsPerMillionMedian} | ${x.cpuVsFirstClientMedian} | ${x.peakRssMbMax} MB | ${x.ratioToProducerPerformanceMedian} | ${x.loadAverages.join(', ')} |`,
  )
  .join('\n')}
`
}`;
  writeResults('ingest-kafka', result, md);
}
