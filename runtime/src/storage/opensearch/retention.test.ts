import test from 'ava';
import client from 'prom-client';
import { silentLogger } from '../../common/log.js';
import { createRetentionMetrics } from '../retention-metrics.js';
import { indexPeriod, OpenSearchRetention, type IndexAdmin, type IndexInfo } from './retention.js';

const NOW = Date.parse('2026-11-27T03:20:00Z');

class FakeAdmin implements IndexAdmin {
  readonly deleted: string[] = [];
  failDelete = new Set<string>();
  failList = false;
  constructor(public indices: IndexInfo[]) {}
  async list(pattern: string): Promise<IndexInfo[]> {
    if (this.failList) throw new Error('connection refused');
    const start = pattern.slice(0, -1);
    return this.indices.filter((i) => i.index.startsWith(start));
  }
  async delete(index: string): Promise<'deleted' | 'missing'> {
    if (this.failDelete.has(index)) throw new Error('cluster_block_exception');
    const before = this.indices.length;
    this.indices = this.indices.filter((i) => i.index !== index);
    if (this.indices.length === before) return 'missing';
    this.deleted.push(index);
    return 'deleted';
  }
}

async function metricValues(registry: client.Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return {};
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) out[Object.values(v.labels).join(',')] = v.value;
  return out;
}

function setup(indices: IndexInfo[]) {
  const registry = new client.Registry();
  const admin = new FakeAdmin(indices);
  const retention = new OpenSearchRetention(admin, 'team-a', createRetentionMetrics(registry), silentLogger());
  return { registry, admin, retention };
}

test('indexPeriod: daily and hourly names of exactly this prefix and signal; nothing else', (t) => {
  t.deepEqual(indexPeriod('team-a', 'logs', 'team-a-logs-2026.11.26'), {
    startMs: Date.parse('2026-11-26T00:00:00Z'),
    endMs: Date.parse('2026-11-27T00:00:00Z'),
  });
  t.deepEqual(indexPeriod('team-a', 'logs', 'team-a-logs-2026.11.26.23'), {
    startMs: Date.parse('2026-11-26T23:00:00Z'),
    endMs: Date.parse('2026-11-27T00:00:00Z'),
  });
  for (const name of [
    'team-a-metrics-2026.11.26',
    'team-a-logs-logs-2026.11.26', // a pipeline whose prefix is "team-a-logs"
    'team-a-logs-2026.02.30',
    'team-a-logs-2026.11.26.24',
    'team-a-logs-2026.11.26-restored',
    'team-a-logs-current',
  ]) {
    t.is(indexPeriod('team-a', 'logs', name), undefined, name);
  }
});

test('deletes exactly the indices whose newest possible timestamp is older than now − hot, never the current one', async (t) => {
  const { registry, admin, retention } = setup([
    { index: 'team-a-logs-2026.11.24', docs: 10, bytes: 1000 },
    { index: 'team-a-logs-2026.11.25', docs: 20, bytes: 2000 },
    { index: 'team-a-logs-2026.11.26', docs: 30, bytes: 3000 }, // ended 3h20m ago
    { index: 'team-a-logs-2026.11.27', docs: 40, bytes: 4000 }, // current
    { index: 'team-a-logs-2026.11.28', docs: 1, bytes: 100 }, // future skew
    { index: 'team-a-logs-logs-2026.11.01', docs: 5, bytes: 500 }, // another pipeline's
    { index: 'team-a-metrics-2026.11.01', docs: 5, bytes: 500 },
  ]);
  // hot = 3h30m: the 26th ended 3h20m ago, so it stays one more pass or so.
  const r = await retention.enforce('logs', 3.5 * 3_600_000, NOW);
  t.deepEqual(admin.deleted, ['team-a-logs-2026.11.24', 'team-a-logs-2026.11.25']);
  t.deepEqual(r, { indices: 2, documents: 30, bytes: 3000, errors: 0 });
  t.deepEqual(await metricValues(registry, 'sextant_retention_deleted_total'), {
    'hot,logs,indices': 2,
    'hot,logs,records': 30,
    'hot,logs,bytes': 3000,
  });
  // 90 s: the 26th goes too; today's index never does, however short the policy.
  await retention.enforce('logs', 90_000, NOW);
  t.deepEqual(admin.deleted, ['team-a-logs-2026.11.24', 'team-a-logs-2026.11.25', 'team-a-logs-2026.11.26']);
  await retention.enforce('logs', 1, NOW);
  t.deepEqual(
    admin.indices.map((i) => i.index),
    ['team-a-logs-2026.11.27', 'team-a-logs-2026.11.28', 'team-a-logs-logs-2026.11.01', 'team-a-metrics-2026.11.01'],
  );
});

test('hourly indices are deleted hour by hour', async (t) => {
  const { admin, retention } = setup([
    { index: 'team-a-metrics-2026.11.27.00' },
    { index: 'team-a-metrics-2026.11.27.01' },
    { index: 'team-a-metrics-2026.11.27.02' },
    { index: 'team-a-metrics-2026.11.27.03' },
  ]);
  // cutoff 01:50: only hour 00 ended by then.
  const r = await retention.enforce('metrics', 90 * 60_000, NOW);
  t.deepEqual(admin.deleted, ['team-a-metrics-2026.11.27.00']);
  t.deepEqual(r, { indices: 1, documents: 0, bytes: 0, errors: 0 }, 'a closed index without stats counts as an index only');
});

test('hot 0 keeps forever; an index another replica deleted first is not counted; failures are counted and the rest continues', async (t) => {
  const { registry, admin, retention } = setup([
    { index: 'team-a-logs-2026.11.01', docs: 1, bytes: 10 },
    { index: 'team-a-logs-2026.11.02', docs: 2, bytes: 20 },
    { index: 'team-a-logs-2026.11.03', docs: 3, bytes: 30 },
  ]);
  t.deepEqual(await retention.enforce('logs', 0, NOW), { indices: 0, documents: 0, bytes: 0, errors: 0 });
  admin.failDelete.add('team-a-logs-2026.11.01');
  // Another replica deletes the 2nd between our listing and our delete.
  const list = admin.list.bind(admin);
  admin.list = async (p) => {
    const listed = await list(p);
    admin.indices = admin.indices.filter((i) => i.index !== 'team-a-logs-2026.11.02');
    return listed;
  };
  const r = await retention.enforce('logs', 86_400_000, NOW);
  t.deepEqual(r, { indices: 1, documents: 3, bytes: 30, errors: 1 });
  t.deepEqual(admin.deleted, ['team-a-logs-2026.11.03']);
  admin.failList = true;
  t.is((await retention.enforce('logs', 86_400_000, NOW)).errors, 1);
  t.deepEqual(await metricValues(registry, 'sextant_retention_errors_total'), { 'hot,logs,delete': 1, 'hot,logs,list': 1 });
});
