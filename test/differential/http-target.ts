/**
 * A Sextant process under test over HTTP: push the data set through the ingestion API, wait
 * until every sample is readable, and ask the Prometheus API.
 */
import snappy from 'snappy';
import { encodeWriteRequest } from '../../runtime/src/ingestion/receivers/remote-write-proto.js';
import { STALE_NAN } from '../../runtime/src/model/stale.js';
import { postJson, waitFor } from '../support/distributed.js';
import type { Evaluation } from './corpus.js';
import { type Answer, fromPrometheusApi } from './compare.js';
import type { DataSeries, SampleValue } from './data.js';

export const API_KEY = 'differential-test-key';

export async function ask(url: string, query: string, evaluation: Evaluation): Promise<Answer> {
  const params = new URLSearchParams({ query });
  const seconds = (ms: number): string => (ms / 1000).toFixed(3);
  let route = '/api/v1/query';
  if ('time' in evaluation) params.set('time', seconds(evaluation.time));
  else {
    route = '/api/v1/query_range';
    params.set('start', seconds(evaluation.start));
    params.set('end', seconds(evaluation.end));
    params.set('step', seconds(evaluation.step));
  }
  const res = await fetch(`${url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: params,
  });
  return fromPrometheusApi(res.status, await res.json());
}

/** Pushes the data set to `ingestUrl`, then waits until `queryUrl` returns every sample. */
export async function pushAndWait(ingestUrl: string, queryUrl: string, series: DataSeries[], timeoutMs: number): Promise<void> {
  const samples = series.flatMap((s) => {
    const { __name__: name, ...labels } = s.labels;
    return s.samples.map(([timestamp, value]) => ({ name, labels, timestamp, value }));
  });
  for (let i = 0; i < samples.length; i += 5000) {
    await postJson(ingestUrl, '/api/v1/metrics', { samples: samples.slice(i, i + 5000) }, API_KEY);
  }
  await waitReadable(queryUrl, series, samples.length, timeoutMs);
}

function numberOf(value: SampleValue): number {
  if (value === 'stale') return STALE_NAN;
  if (value === '+Inf') return Infinity;
  if (value === '-Inf') return -Infinity;
  return Number(value);
}

/**
 * Pushes the data set to `ingestUrl` as one Prometheus remote_write 1.0 request, the only
 * ingestion path that carries staleness markers ('stale' values), then waits until
 * `queryUrl` returns every sample (markers are not samples: PromQL does not count them).
 */
export async function remoteWriteAndWait(ingestUrl: string, queryUrl: string, series: DataSeries[], timeoutMs: number): Promise<void> {
  const timeseries = series.map((s) => ({
    labels: Object.entries(s.labels)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => ({ name, value })),
    samples: s.samples.map(([timestamp, value]) => ({ value: numberOf(value), timestamp })),
  }));
  const res = await fetch(`${ingestUrl}/api/v1/write`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${API_KEY}`,
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
    },
    body: snappy.compressSync(Buffer.from(encodeWriteRequest({ timeseries }))),
  });
  if (res.status !== 204) throw new Error(`remote write answered ${res.status}: ${await res.text()}`);
  const samples = series.reduce((n, s) => n + s.samples.filter(([, v]) => v !== 'stale').length, 0);
  await waitReadable(queryUrl, series, samples, timeoutMs);
}

async function waitReadable(queryUrl: string, series: DataSeries[], samples: number, timeoutMs: number): Promise<void> {
  // Ingestion is asynchronous: wait until every sample can be read back, counted per metric
  // name (count_over_time drops the name, so one query over all names could collide).
  const names = [...new Set(series.map((s) => s.labels.__name__!))];
  const times = series.flatMap((s) => [s.samples[0]?.[0] ?? Infinity, s.samples[s.samples.length - 1]?.[0] ?? -Infinity]);
  const [first, last] = [Math.min(...times), Math.max(...times)];
  const time = last + 1000;
  const window = `${Math.ceil((time - first) / 1000) + 60}s`;
  await waitFor(
    `${samples} samples readable`,
    timeoutMs,
    async () => {
      let total = 0;
      for (const name of names) {
        const answer = await ask(queryUrl, `sum(count_over_time({__name__=${JSON.stringify(name)}}[${window}]))`, { time });
        if (answer.kind === 'error') throw new Error(`counting the samples failed: ${answer.errorType}: ${answer.message}`);
        if (answer.kind === 'vector') total += Number(answer.samples[0]?.v ?? 0);
      }
      return total;
    },
    (n) => n === samples,
  );
}
