/**
 * The data set of the PromQL differential tier, generated here (seeded, so every run sees the
 * same samples): counters with resets, gauges with gaps and NaN, classic histograms (one
 * without +Inf, one with non-monotonic buckets), info metrics, sparse series, and — in a data
 * set of its own, evaluated in process and in `sextant up` — Prometheus staleness markers.
 */

/** 2023-11-14T22:13:20Z: a fixed past time, so the ingestion's future-skew limit never applies. */
export const T0 = 1_700_000_000_000;
export const SCRAPE_MS = 15_000;
/** The data covers [T0, T0 + SPAN_MS]. */
export const SPAN_MS = 2 * 3_600_000;

export type SampleValue = number | 'NaN' | '+Inf' | '-Inf' | 'stale';

export interface DataSeries {
  /** Labels including `__name__`. */
  labels: Record<string, string>;
  /** [timestampMs, value], ascending. */
  samples: [number, SampleValue][];
}

/** mulberry32: a small, seeded PRNG, so the data is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Scrape times with up to 800 ms of jitter, as real scrapes have. */
function scrapeTimes(rand: () => number, fromMs = 0, toMs = SPAN_MS, intervalMs = SCRAPE_MS): number[] {
  const out: number[] = [];
  for (let t = fromMs; t <= toMs; t += intervalMs) out.push(T0 + t + Math.floor(rand() * 800));
  return out;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export function mainDataSet(): DataSeries[] {
  const rand = prng(20261207);
  const out: DataSeries[] = [];

  // Counters: requests with resets at different points.
  const resets: Record<string, number[]> = { 'a/get': [40 * 60_000], 'b/post': [70 * 60_000, 71 * 60_000], 'c/get': [] };
  for (const instance of ['a', 'b', 'c']) {
    for (const method of ['get', 'post']) {
      for (const status of method === 'get' ? ['200', '500'] : ['200']) {
        let value = Math.floor(rand() * 1000);
        const resetAt = resets[`${instance}/${method}`] ?? [];
        const samples: [number, SampleValue][] = [];
        for (const t of scrapeTimes(rand)) {
          if (resetAt.some((r) => t - T0 >= r && t - T0 < r + SCRAPE_MS)) value = Math.floor(rand() * 5);
          else value += Math.floor(rand() * (status === '500' ? 3 : 40));
          samples.push([t, value]);
        }
        out.push({ labels: { __name__: 'http_requests_total', job: 'api', instance, method, status }, samples });
      }
    }
  }

  // A float counter.
  for (const instance of ['a', 'b']) {
    let value = rand() * 100;
    out.push({
      labels: { __name__: 'process_cpu_seconds_total', job: 'node', instance },
      samples: scrapeTimes(rand).map((t) => [t, round3((value += rand() * 3.7))]),
    });
  }

  // Gauges: instance c has a 20-minute gap and stops 20 minutes before the end.
  for (const instance of ['a', 'b', 'c']) {
    let value = 1e8 + rand() * 1e8;
    const samples: [number, SampleValue][] = [];
    for (const t of scrapeTimes(rand)) {
      const rel = t - T0;
      if (instance === 'c' && ((rel > 30 * 60_000 && rel < 50 * 60_000) || rel > 100 * 60_000)) continue;
      value += (rand() - 0.5) * 4e6;
      samples.push([t, Math.round(value)]);
    }
    out.push({ labels: { __name__: 'memory_bytes', job: 'node', instance }, samples });
  }

  // Gauges around zero; the cellar's sensor reports NaN now and then, the attic one +Inf once.
  for (const [i, room] of ['kitchen', 'cellar', 'attic'].entries()) {
    const samples: [number, SampleValue][] = scrapeTimes(rand).map((t, k) => {
      if (room === 'cellar' && k % 37 === 5) return [t, 'NaN'];
      if (room === 'attic' && k === 200) return [t, '+Inf'];
      return [t, round3(10 * Math.sin(k / 30 + i) + (rand() - 0.5) * 2 - i * 3)];
    });
    out.push({ labels: { __name__: 'temperature_celsius', room, site: i < 2 ? 'home' : 'cabin' }, samples });
  }

  // Classic histograms: a normal one per instance a/b, c without +Inf, d non-monotonic.
  const bounds = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf'];
  for (const instance of ['a', 'b', 'c', 'd']) {
    const counts = bounds.map(() => 0);
    let sum = 0;
    const times = scrapeTimes(rand);
    const series = bounds.map((): [number, SampleValue][] => []);
    const sums: [number, SampleValue][] = [];
    const totals: [number, SampleValue][] = [];
    for (const t of times) {
      const n = Math.floor(rand() * 20);
      for (let k = 0; k < n; k++) {
        const latency = Math.exp(rand() * 3 - 2.5) * (instance === 'b' ? 2 : 1);
        sum += latency;
        bounds.forEach((b, j) => {
          if (latency <= Number(b === '+Inf' ? Infinity : b)) counts[j]!++;
        });
      }
      bounds.forEach((_, j) => {
        // d's 0.5 bucket overcounts: a non-monotonic bucket set, as a buggy exporter writes.
        const value = instance === 'd' && bounds[j] === '0.5' ? counts[j]! + 7 : counts[j]!;
        series[j]!.push([t, value]);
      });
      sums.push([t, round3(sum)]);
      totals.push([t, counts[counts.length - 1]!]);
    }
    bounds.forEach((le, j) => {
      if (instance === 'c' && le === '+Inf') return;
      out.push({ labels: { __name__: 'request_duration_seconds_bucket', job: 'api', instance, le }, samples: series[j]! });
    });
    out.push({ labels: { __name__: 'request_duration_seconds_sum', job: 'api', instance }, samples: sums });
    out.push({ labels: { __name__: 'request_duration_seconds_count', job: 'api', instance }, samples: totals });
  }

  // Info metric for group_left, and up.
  const versions: Record<string, string> = { a: '1.2.3', b: '1.2.4', c: '2.0.0' };
  for (const instance of ['a', 'b', 'c']) {
    out.push({
      labels: { __name__: 'build_info', job: 'api', instance, version: versions[instance]!, goversion: 'go1.26' },
      samples: scrapeTimes(rand, 0, SPAN_MS, 60_000).map((t) => [t, 1]),
    });
    out.push({
      labels: { __name__: 'up', job: 'api', instance },
      samples: scrapeTimes(rand).map((t, k) => [t, instance === 'b' && k % 50 < 4 ? 0 : 1]),
    });
  }

  // Sparse series: a sample every 4 minutes, and one that exists only for 10 minutes.
  out.push({
    labels: { __name__: 'queue_length', queue: 'q1' },
    samples: scrapeTimes(rand, 0, SPAN_MS, 240_000).map((t) => [t, Math.floor(rand() * 50)]),
  });
  out.push({
    labels: { __name__: 'queue_length', queue: 'q2' },
    samples: scrapeTimes(rand, 60 * 60_000, 70 * 60_000).map((t) => [t, Math.floor(rand() * 5)]),
  });

  // Label values for label_replace / label_join.
  out.push({
    labels: { __name__: 'label_source', src: 'foo-bar-baz', dst: 'x', path: '/api/v1/users' },
    samples: scrapeTimes(rand, 0, SPAN_MS, 60_000).map((t) => [t, 3]),
  });
  return out;
}

/**
 * Staleness markers end a series: a target that disappears (q3), one that flaps (q4), and
 * one whose marker is followed by fresh samples. Evaluated in process, and in `sextant up`
 * pushed by remote_write (the JSON ingestion cannot carry a marker's NaN bits).
 */
export function staleDataSet(): DataSeries[] {
  const rand = prng(7);
  const ended: [number, SampleValue][] = scrapeTimes(rand, 0, 40 * 60_000).map((t) => [t, Math.floor(rand() * 10)]);
  ended.push([T0 + 40 * 60_000 + 15_000, 'stale']);
  const flapping: [number, SampleValue][] = [];
  scrapeTimes(rand, 0, SPAN_MS).forEach((t, k) => flapping.push([t, k % 40 === 20 ? 'stale' : k]));
  const counter: [number, SampleValue][] = [];
  let value = 0;
  scrapeTimes(rand, 0, SPAN_MS).forEach((t, k) => {
    if (k >= 200 && k < 230) {
      if (k === 200) counter.push([t, 'stale']);
      return;
    }
    counter.push([t, (value += Math.floor(rand() * 9))]);
  });
  return [
    { labels: { __name__: 'stale_gauge', target: 'ended' }, samples: ended },
    { labels: { __name__: 'stale_gauge', target: 'flapping' }, samples: flapping },
    { labels: { __name__: 'stale_counter_total', target: 'restarted' }, samples: counter },
  ];
}
