/**
 * A Sextant process under test over HTTP: push the data set through the ingestion API, wait
 * until every sample is readable, and ask the Prometheus API.
 */
import { postJson, waitFor } from '../support/distributed.js';
import type { Evaluation } from './corpus.js';
import { type Answer, fromPrometheusApi } from './compare.js';
import type { DataSeries } from './data.js';

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
  // Ingestion is asynchronous: wait until every sample can be read back, counted per metric
  // name (count_over_time drops the name, so one query over all names could collide).
  const names = [...new Set(series.map((s) => s.labels.__name__!))];
  const times = series.flatMap((s) => [s.samples[0]?.[0] ?? Infinity, s.samples[s.samples.length - 1]?.[0] ?? -Infinity]);
  const [first, last] = [Math.min(...times), Math.max(...times)];
  const time = last + 1000;
  const window = `${Math.ceil((time - first) / 1000) + 60}s`;
  await waitFor(
    `${samples.length} samples readable`,
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
    (n) => n === samples.length,
  );
}
