/**
 * A Sextant process under test over HTTP: push the data set through the ingestion API, wait
 * until every sample is readable, and ask the Prometheus API.
 */
import { postJson, waitFor } from '../support/distributed.js';
import type { Evaluation } from './corpus.js';
import { type Answer, fromPrometheusApi } from './compare.js';
import { SPAN_MS, T0, type DataSeries } from './data.js';

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
  // Ingestion is asynchronous: wait until every sample can be read back.
  const query = `{__name__=~".+"}[${SPAN_MS / 1000 + 600}s]`;
  await waitFor(
    `${samples.length} samples readable`,
    timeoutMs,
    async () => {
      const answer = await ask(queryUrl, query, { time: T0 + SPAN_MS + 60_000 });
      if (answer.kind === 'error') throw new Error(`counting the samples failed: ${answer.errorType}: ${answer.message}`);
      return answer.kind === 'matrix' ? answer.series.reduce((n, s) => n + s.points.length, 0) : -1;
    },
    (n) => n === samples.length,
  );
}
