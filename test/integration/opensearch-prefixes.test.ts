/**
 * Index prefixes where one extends another past a `-`, on the real OpenSearch: the operator
 * renders `<indexPrefix>.<namespace>.<pipeline>`, so Pipelines `api` and `api-logs` (and
 * `api-logs-2024`) of one namespace sharing a Sink write `….api-logs-*` and
 * `….api-logs-logs-*`. Each sink must install its templates (OpenSearch refuses two
 * overlapping templates of one priority), each index must get its own prefix's template, and
 * each reader must see only its own pipeline's logs and samples.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../runtime/src/common/log.js';
import { SecretReader } from '../../runtime/src/common/secrets.js';
import type { OpenSearchSinkSettings } from '../../runtime/src/storage/opensearch/config.js';
import { OpenSearchReader } from '../../runtime/src/storage/opensearch/reader.js';
import { createOpenSearchClient, OpenSearchSink } from '../../runtime/src/storage/opensearch/sink.js';
import { infraVar } from './helpers/infra-env.js';

const base = `pfx-${randomBytes(3).toString('hex')}.team`;
const PIPELINES = ['api', 'api-logs', 'api-logs-2024', 'api-metrics'];
const NOW_MS = Date.now();

function settings(indexPrefix: string, indexPartition: 'daily' | 'hourly'): OpenSearchSinkSettings {
  return {
    endpoints: [infraVar('OPENSEARCH_URL')],
    indexPrefix,
    indexPartition,
    insecureSkipVerify: false,
    requestTimeoutMs: 30_000,
    bulk: { maxDocs: 1000, maxBytes: 5_000_000 },
  } as OpenSearchSinkSettings;
}

const client = () => createOpenSearchClient(settings(base, 'daily'), new SecretReader());

test.before(async () => {
  const log = createLogger('test', 'warn');
  // Alternate partitions: hourly names (`….2026.01.02.07`) must be excluded from a shorter
  // prefix's reads as well as daily ones.
  for (const [i, pipeline] of PIPELINES.entries()) {
    const sink = new OpenSearchSink(client(), settings(`${base}.${pipeline}`, i % 2 === 0 ? 'daily' : 'hourly'), log);
    await sink.start();
    const rejected = await sink.write([
      {
        kind: 'log',
        entry: { timestampNs: BigInt(NOW_MS) * 1_000_000n, labels: { service: 'web' }, message: `from ${pipeline}`, fields: {} },
      },
      { kind: 'sample', sample: { name: 'requests_total', labels: { pipeline }, timestampMs: NOW_MS, value: i } },
    ]);
    if (rejected.length > 0) throw new Error(`rejected: ${rejected[0]!.reason}`);
  }
  await client().indices.refresh({ index: `${base}.*` });
});

test.after.always(async () => {
  const c = client();
  await c.indices.delete({ index: `${base}.*` }).catch(() => undefined);
  for (const pipeline of PIPELINES)
    for (const signal of ['logs', 'metrics'])
      await c.indices.deleteIndexTemplate({ name: `${base}.${pipeline}-${signal}` }).catch(() => undefined);
});

test('every index was made from its own prefix template, though shorter prefixes match its name too', async (t) => {
  const { body } = await client().indices.getMapping({ index: `${base}.*` });
  const madeBy = Object.entries(body as Record<string, { mappings: { _meta?: Record<string, string> } }>).map(([index, m]) => [
    index,
    m.mappings._meta?.['sextant.dev/index-prefix'],
  ]);
  t.is(madeBy.length, PIPELINES.length * 2);
  for (const [index, prefix] of madeBy)
    t.true(prefix !== undefined && /^-(logs|metrics)-[0-9.]+$/.test(index!.slice(prefix.length)), `${index} ← ${prefix}`);
});

test('each reader sees only its own pipeline, though its read pattern also matches longer prefixes', async (t) => {
  for (const [i, pipeline] of PIPELINES.entries()) {
    const reader = new OpenSearchReader({ client: client(), indexPrefix: `${base}.${pipeline}` });
    const page = await reader.selectLogs({
      matchers: [{ name: 'service', op: '=', value: 'web' }],
      startNs: BigInt(NOW_MS - 3_600_000) * 1_000_000n,
      endNs: BigInt(NOW_MS + 60_000) * 1_000_000n,
      direction: 'forward',
      limit: 100,
    });
    t.deepEqual(
      page.entries.map((e) => e.message),
      [`from ${pipeline}`],
      pipeline,
    );
    const series = await reader.selectSamples({
      matchers: [{ name: '__name__', op: '=', value: 'requests_total' }],
      startMs: NOW_MS - 3_600_000,
      endMs: NOW_MS + 60_000,
    });
    t.deepEqual(
      series.map((s) => [s.labels['pipeline'], s.values]),
      [[pipeline, [i]]],
      pipeline,
    );
  }
});
