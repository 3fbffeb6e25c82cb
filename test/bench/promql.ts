/**
 * promql: Sextant's PromQL against the Prometheus engine on the same data, in the same run
 * (`npm run bench -- promql [--hours 3] [--runs 5]`).
 *
 * Data (generated): 100 request counters (5 services × 10 instances × 2 codes), a classic
 * histogram with 12 buckets × 50 series, 50 memory gauges; one sample every 15 s.
 * Queries: a dashboard set — rates, sums by label, ratios, quantiles over the histogram,
 * topk, subqueries — as instant queries and as 1h range queries at a 15 s step.
 *
 * Sextant: a real `sextant up`, timed over HTTP (the answer's JSON included). Baseline: the Go
 * engine (test/promql-oracle -bench) over a TSDB holding the same samples, timed in process —
 * so the ratio also carries Sextant's HTTP and JSON cost. Each figure is the median of
 * `runs` evaluations after one warm-up; the answers are compared as in the differential tier.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSextant, tempDataDir } from '../support/sextant-process.js';
import { difference, fromOracle, isOrdered } from '../differential/compare.js';
import type { Evaluation } from '../differential/corpus.js';
import type { DataSeries } from '../differential/data.js';
import { API_KEY, ask, pushAndWait } from '../differential/http-target.js';
import { runOracle, type OracleQuery } from '../differential/oracle.js';
import { machine, median, progress, writeResults } from './report.js';

const T0 = 1_700_000_000_000;
const SCRAPE_MS = 15_000;

function dataSet(hours: number): DataSeries[] {
  const points = Math.floor((hours * 3_600_000) / SCRAPE_MS) + 1;
  const times = Array.from({ length: points }, (_, i) => T0 + i * SCRAPE_MS);
  const out: DataSeries[] = [];
  let seed = 1;
  const rand = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const bounds = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
  for (let s = 0; s < 5; s++) {
    for (let i = 0; i < 10; i++) {
      const base = { job: 'bench', service: `svc-${s}`, instance: `10.0.${s}.${i}:8080` };
      for (const code of ['200', '500']) {
        let v = 0;
        out.push({
          labels: { __name__: 'bench_requests_total', ...base, code },
          samples: times.map((t) => [t, (v += Math.floor(rand() * (code === '200' ? 100 : 3)))]),
        });
      }
      const counts = bounds.map(() => 0);
      const buckets = bounds.map((): [number, number][] => []);
      for (const t of times) {
        for (let k = Math.floor(rand() * 30); k > 0; k--) {
          const latency = Math.exp(rand() * 6 - 5);
          bounds.forEach((b, j) => {
            if (b === '+Inf' || latency <= Number(b)) counts[j]!++;
          });
        }
        bounds.forEach((_, j) => buckets[j]!.push([t, counts[j]!]));
      }
      bounds.forEach((le, j) => out.push({ labels: { __name__: 'bench_latency_seconds_bucket', ...base, le }, samples: buckets[j]! }));
      let m = 2e8 * rand();
      out.push({
        labels: { __name__: 'bench_memory_bytes', ...base },
        samples: times.map((t) => [t, Math.round((m += (rand() - 0.5) * 1e6))]),
      });
    }
  }
  return out;
}

const QUERIES = [
  'sum by (service) (rate(bench_requests_total[5m]))',
  'sum(rate(bench_requests_total{code="500"}[5m])) / sum(rate(bench_requests_total[5m]))',
  'rate(bench_requests_total{service="svc-1"}[1m])',
  'histogram_quantile(0.99, sum by (le) (rate(bench_latency_seconds_bucket[5m])))',
  'histogram_quantile(0.9, sum by (service, le) (rate(bench_latency_seconds_bucket[5m])))',
  'sum by (le) (bench_latency_seconds_bucket)',
  'topk(5, sum by (instance) (rate(bench_requests_total[5m])))',
  'avg by (service) (bench_memory_bytes)',
  'max_over_time(sum by (service) (rate(bench_requests_total[5m]))[30m:1m])',
  'bench_memory_bytes',
];

export async function runPromqlBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { hours: { type: 'string', default: '3' }, runs: { type: 'string', default: '5' } },
  });
  const hours = Number(values.hours);
  const runs = Number(values.runs);
  const series = dataSet(hours);
  const end = T0 + hours * 3_600_000;
  const evaluations: [string, Evaluation][] = [
    ['instant', { time: end }],
    ['range 1h/15s', { start: end - 3_600_000, end, step: 15_000 }],
  ];
  const queries: (OracleQuery & { shape: string })[] = QUERIES.flatMap((query, i) =>
    evaluations.map(([shape, evaluation], j) => ({ id: `${i}/${j}`, query, evaluation, shape })),
  );
  const samples = series.reduce((n, s) => n + s.samples.length, 0);
  progress(`${series.length} series, ${samples} samples; Go engine: answers, then ${runs} timed runs per query`);
  const expected = await runOracle(series, queries);
  const goTimes = await runOracle(series, queries, runs);

  const dataDir = tempDataDir('sextant-bench-promql-');
  const config = path.join(dataDir, 'config.yaml');
  fs.writeFileSync(config, 'rateLimit: { requestsPerSecond: 100000, burst: 100000 }\nmaxBodyBytes: 104857600\n');
  const sextant = await startSextant({ dataDir, apiKey: API_KEY, args: ['--config', config, '--sync', 'normal'] });
  try {
    progress(`pushing ${samples} samples into sextant up`);
    await pushAndWait(sextant.url, sextant.url, series, 600_000);
    const rows: { query: string; shape: string; sextantMs: number; goMs: number; ratio: number; agrees: string }[] = [];
    for (const q of queries) {
      const want = expected.get(q.id)!;
      const first = await ask(sextant.url, q.query, q.evaluation); // warm-up, and the answer to check
      const diff = difference(fromOracle(want), first, isOrdered(q.query));
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        const started = process.hrtime.bigint();
        await ask(sextant.url, q.query, q.evaluation);
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      const sextantMs = median(times);
      const goMs = (goTimes.get(q.id)?.nanos ?? NaN) / 1e6;
      rows.push({ query: q.query, shape: q.shape, sextantMs, goMs, ratio: sextantMs / goMs, agrees: diff ?? 'yes' });
      progress(`${q.shape} ${q.query}: sextant ${sextantMs.toFixed(1)} ms, go ${goMs.toFixed(1)} ms`);
    }
    const ratios = rows.map((r) => r.ratio);
    const summary = { medianRatio: median(ratios), worstRatio: Math.max(...ratios), loadAverage: os.loadavg() };
    const md = [
      `# promql: Sextant (sextant up, over HTTP) vs the Prometheus engine (in process), same data, same run`,
      '',
      `${series.length} series, ${samples} samples (${hours} h at 15 s); median of ${runs} runs after a warm-up.`,
      `Load average ${summary.loadAverage.map((l) => l.toFixed(1)).join(' ')} on ${machine().cores} cores.`,
      '',
      '| query | shape | sextant ms | go ms | ratio | same answer |',
      '|---|---|---:|---:|---:|---|',
      ...rows.map(
        (r) => `| \`${r.query}\` | ${r.shape} | ${r.sextantMs.toFixed(1)} | ${r.goMs.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.agrees} |`,
      ),
      '',
      `Median ratio ${summary.medianRatio.toFixed(2)}×, worst ${summary.worstRatio.toFixed(2)}×.`,
      '',
    ].join('\n');
    writeResults('promql', { machine: machine(), hours, runs, samples, rows, ...summary }, md);
  } finally {
    await sextant.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
