import test from 'ava';
import type { Client } from '@opensearch-project/opensearch';
import { STALE_NAN, isStaleNaN } from '../../model/stale.js';
import type { Sample } from '../../model/types.js';
import { evaluateInstant } from '../../query/promql/evaluate.js';
import { parsePromQL } from '../../query/promql/parse.js';
import { sampleDocument } from './documents.js';
import { OpenSearchReader } from './reader.js';

/**
 * A client that answers every search with the documents the sink writes for `samples`, in
 * the order the reader asks for (series, then time), as one page: enough to read samples
 * back without a cluster. The reader re-checks matchers and the range in process.
 */
function clientOf(samples: Sample[]): Client {
  const docs = samples
    .map((s) => sampleDocument('p', s).doc as { series: string; '@timestamp': number })
    .sort((a, b) => (a.series < b.series ? -1 : a.series > b.series ? 1 : a['@timestamp'] - b['@timestamp']));
  const hits = docs.map((doc, i) => ({ _id: String(i), _source: doc, sort: [doc.series, doc['@timestamp']] }));
  return { search: async () => ({ body: { hits: { hits } } }) } as unknown as Client;
}

test('samples: a document with special "StaleNaN" is a marker, named in staleTimestampsMs; PromQL ends the series there', async (t) => {
  const g = (s: number, value: number, labels = {}): Sample => ({ name: 'g', labels, timestampMs: s * 1000, value });
  const reader = new OpenSearchReader({
    client: clientOf([g(1, 1), g(2, NaN), g(3, STALE_NAN), g(4, 4), g(1, 1, { job: 'b' })]),
    indexPrefix: 'p',
  });
  const series = await reader.selectSamples({ matchers: [{ name: '__name__', op: '=', value: 'g' }], startMs: 0, endMs: 10_000 });
  const a = series.find((s) => s.labels.job === undefined)!;
  const b = series.find((s) => s.labels.job === 'b')!;
  t.deepEqual(a.timestampsMs, [1000, 2000, 3000, 4000]);
  t.deepEqual(a.staleTimestampsMs, [3000]);
  t.true(isStaleNaN(a.values[2]!));
  t.false(isStaleNaN(a.values[1]!), 'an ordinary NaN is not a marker');
  t.false('staleTimestampsMs' in b, 'no markers, no list');
  t.false('fp' in a, 'the grouping key stays inside');
  const at = async (s: number) => {
    const r = await evaluateInstant(parsePromQL('g{job=""}'), reader, s * 1000);
    return r.resultType === 'vector' ? r.samples.map((x) => x.value) : r;
  };
  t.deepEqual(await at(2.5), [NaN]);
  t.deepEqual(await at(3.5), [], 'ended by the marker, well within the lookback');
  t.deepEqual(await at(4.5), [4]);
});
