/**
 * remote-write: Prometheus remote_write 1.0 requests (snappy-compressed protobuf, as a
 * Prometheus sends them) into a real `sextant up`, against the same-run baseline of the same
 * requests into a real Prometheus with its remote-write receiver (Debian's, TSDB on disk).
 * Both run alternately on the same machine; reported: samples/s, server CPU-seconds per
 * million samples, peak RSS, their same-run ratios and the load average.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import snappy from 'snappy';
import { encodeWriteRequest } from '../../runtime/src/ingestion/receivers/remote-write-proto.js';
import { freePort, startPrometheus } from '../support/prometheus-process.js';
import { startSextant, tempDataDir } from '../support/sextant-process.js';
import { cpuSeconds, machine, median, peakRssMb, progress, writeResults } from './report.js';

const KEY = 'bench-key';

interface Options {
  samples: number;
  series: number;
  /** Samples per request: Prometheus' queue_config max_samples_per_send defaults to 2000. */
  batch: number;
  concurrency: number;
  runs: number;
}

interface Run {
  samplesPerSecond: number;
  cpuSecondsPerMillion: number;
  peakRssMb: number;
}

/**
 * Requests as Prometheus' remote-write shards send them: a series always goes to the same
 * shard (`concurrency` shards, each sending in order, so no series' samples arrive out of
 * order), each request holds `batch` samples, one sample per series per scrape, scrapes 15 s
 * apart, the newest an hour before now (inside the TSDB head: the baseline takes them all).
 */
function makeShards(o: Options): Buffer[][] {
  const shards: Buffer[][] = [];
  for (let shard = 0; shard < o.concurrency; shard++) {
    const series = Array.from({ length: o.series }, (_, i) => i).filter((i) => i % o.concurrency === shard);
    shards.push(makeBodies(o, series));
  }
  return shards;
}

function makeBodies(o: Options, seriesOfShard: number[]): Buffer[] {
  const perSeries = Math.ceil(o.samples / o.series);
  const t0 = Date.now() - 3_600_000 - perSeries * 15_000;
  const labelsOf = (i: number) => [
    { name: '__name__', value: 'http_requests_total' },
    { name: 'instance', value: `10.0.${Math.floor(i / 250)}.${i % 250}:9100` },
    { name: 'job', value: 'bench' },
    { name: 'method', value: i % 3 === 0 ? 'POST' : 'GET' },
    { name: 'path', value: `/api/v1/items/${i % 50}` },
  ];
  const bodies: Buffer[] = [];
  let pending: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[] = [];
  let inBatch = 0;
  for (let k = 0; k < perSeries; k++) {
    for (const i of seriesOfShard) {
      pending.push({ labels: labelsOf(i), samples: [{ value: k * 10 + (i % 7), timestamp: t0 + k * 15_000 }] });
      if (++inBatch === o.batch) {
        bodies.push(snappy.compressSync(Buffer.from(encodeWriteRequest({ timeseries: pending }))));
        pending = [];
        inBatch = 0;
      }
    }
  }
  if (pending.length > 0) bodies.push(snappy.compressSync(Buffer.from(encodeWriteRequest({ timeseries: pending }))));
  return bodies;
}

async function send(url: string, headers: Record<string, string>, shards: Buffer[][]): Promise<number> {
  const started = process.hrtime.bigint();
  const worker = async (bodies: Buffer[]) => {
    for (const body of bodies) {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/x-protobuf',
          'content-encoding': 'snappy',
          'x-prometheus-remote-write-version': '0.1.0',
        },
        body,
      });
      if (res.status < 200 || res.status > 299) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(shards.map(worker));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function runSextant(o: Options, shards: Buffer[][]): Promise<Run> {
  const p = await startSextant({ dataDir: tempDataDir('sextant-bench-rw-'), apiKey: KEY });
  try {
    const cpu0 = cpuSeconds(p.child.pid!);
    const seconds = await send(`${p.url}/api/v1/write`, { authorization: `Bearer ${KEY}` }, shards);
    const cpu = cpuSeconds(p.child.pid!) - cpu0;
    return { samplesPerSecond: o.samples / seconds, cpuSecondsPerMillion: (cpu / o.samples) * 1e6, peakRssMb: peakRssMb(p.child.pid!) };
  } finally {
    await p.stop();
    fs.rmSync(p.dataDir, { recursive: true, force: true });
  }
}

async function runPrometheus(o: Options, shards: Buffer[][]): Promise<Run> {
  const dataDir = tempDataDir('sextant-bench-rw-prom-');
  const p = await startPrometheus({
    dataDir,
    port: await freePort(),
    config: 'global: { scrape_interval: 1h }\n',
    args: ['--web.enable-remote-write-receiver'],
  });
  try {
    const cpu0 = cpuSeconds(p.pid);
    const seconds = await send(`${p.url}/api/v1/write`, {}, shards);
    const cpu = cpuSeconds(p.pid) - cpu0;
    return { samplesPerSecond: o.samples / seconds, cpuSecondsPerMillion: (cpu / o.samples) * 1e6, peakRssMb: peakRssMb(p.pid) };
  } finally {
    await p.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const summary = (runs: Run[]) => ({
  samplesPerSecondMedian: Math.round(median(runs.map((r) => r.samplesPerSecond))),
  cpuSecondsPerMillionMedian: +median(runs.map((r) => r.cpuSecondsPerMillion)).toFixed(2),
  peakRssMbMax: Math.round(Math.max(...runs.map((r) => r.peakRssMb))),
  runs,
});

export async function runRemoteWrite(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      samples: { type: 'string', default: '1000000' },
      series: { type: 'string', default: '10000' },
      batch: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '4' },
      runs: { type: 'string', default: '3' },
    },
  });
  const o: Options = {
    samples: Number(values.samples),
    series: Number(values.series),
    batch: Number(values.batch),
    concurrency: Number(values.concurrency),
    runs: Number(values.runs),
  };
  // Whole scrapes: every series gets the same number of samples.
  o.samples = o.series * Math.ceil(o.samples / o.series);
  progress(
    `remote-write: ${o.samples} samples over ${o.series} series, ${o.batch} per request, ${o.concurrency} concurrent, ${o.runs} runs`,
  );
  const shards = makeShards(o);
  const load: number[] = [];
  const sextant: Run[] = [];
  const prometheus: Run[] = [];
  for (let r = 1; r <= o.runs; r++) {
    // Alternate so drift in machine load hits both sides alike.
    load.push(os.loadavg()[0]!);
    prometheus.push(await runPrometheus(o, shards));
    progress(`run ${r}/${o.runs}: Prometheus ${Math.round(prometheus.at(-1)!.samplesPerSecond)} samples/s; now sextant up`);
    sextant.push(await runSextant(o, shards));
    progress(`run ${r}/${o.runs}: sextant ${Math.round(sextant.at(-1)!.samplesPerSecond)} samples/s`);
  }
  const rate = sextant.map((s, i) => s.samplesPerSecond / prometheus[i]!.samplesPerSecond);
  const cpu = sextant.map((s, i) => prometheus[i]!.cpuSecondsPerMillion / s.cpuSecondsPerMillion);
  const result = {
    benchmark: 'remote-write',
    date: new Date().toISOString(),
    machine: machine(),
    loadAverage1m: load.map((l) => +l.toFixed(1)),
    options: o,
    sextant: summary(sextant),
    prometheus: summary(prometheus),
    rateRatioMedian: +median(rate).toFixed(3),
    cpuEfficiencyRatioMedian: +median(cpu).toFixed(3),
  };
  const m = result.machine;
  const md = `## remote-write (${result.date.slice(0, 10)})

Machine: ${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}; 1-minute load average at the start of each run: ${result.loadAverage1m.join(', ')}. ${o.samples} samples over ${o.series} series, remote_write 1.0 requests of ${o.batch} samples (snappy protobuf), ${o.concurrency} concurrent, median of ${o.runs} alternating runs.

| receiver | samples/s (median) | CPU-s per 1M samples | peak RSS |
|---|---:|---:|---:|
| sextant up: remote_write → validate → SQLite (sync=full) | ${result.sextant.samplesPerSecondMedian} | ${result.sextant.cpuSecondsPerMillionMedian} | ${result.sextant.peakRssMbMax} MB |
| Prometheus --web.enable-remote-write-receiver (baseline) | ${result.prometheus.samplesPerSecondMedian} | ${result.prometheus.cpuSecondsPerMillionMedian} | ${result.prometheus.peakRssMbMax} MB |

Same-run ratios sextant/Prometheus: rate ${result.rateRatioMedian} (runs ${rate.map((r) => r.toFixed(2)).join(', ')}), CPU efficiency ${result.cpuEfficiencyRatioMedian} (Prometheus CPU per sample / sextant's).
`;
  writeResults('remote-write', result, md);
}
