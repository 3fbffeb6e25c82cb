import test from 'ava';
import { silentLogger } from '../../common/log.js';
import { QueryError } from '../promql/errors.js';
import { FakeReader } from '../promql/fake-reader.js';
import { DEFAULT_QUERY_LIMITS, resolveQueryLimits } from './config.js';
import { inProcessEngine, workerEngine } from './engine.js';

const S = 1000;

/** One series of `n` samples, 1 s apart, and a query whose evaluation takes far longer than any test. */
function heavy(n: number): { reader: FakeReader; query: string } {
  const samples: [number, number][] = [];
  for (let i = 0; i < n; i++) samples.push([i * S, i]);
  const reader = new FakeReader().addSeries({ __name__: 'x' }, samples);
  // 20 selectors × 11,000 steps × n samples per window.
  const query = Array.from({ length: 20 }, () => 'max_over_time(x[100y])').join(' + ');
  return { reader, query };
}

test('a query past its deadline is stopped in its worker and answers 503 timeout; the engine goes on', async (t) => {
  const { reader, query } = heavy(100_000);
  const engine = workerEngine(reader, { ...DEFAULT_QUERY_LIMITS, timeoutMs: 60_000 }, silentLogger());
  t.teardown(() => engine.close());
  const error = await t.throwsAsync(engine.run('promqlRange', { query, startMs: 0, endMs: 11_000 * S, stepMs: S }, 500), {
    instanceOf: QueryError,
  });
  t.is(error?.type, 'timeout');
  t.is(error?.status, 503);
  t.regex(error?.message ?? '', /query timed out/);
  const after = await engine.run('promqlInstant', { query: 'max_over_time(x[1m])', timeMs: 60 * S });
  t.is(after.resultType, 'vector');
});

test('while one query burns CPU in a worker, another query on the same engine answers', async (t) => {
  const { reader, query } = heavy(100_000);
  const engine = workerEngine(reader, { ...DEFAULT_QUERY_LIMITS, maxConcurrency: 2 }, silentLogger());
  let slowSettled = false;
  const slow = engine.run('promqlRange', { query, startMs: 0, endMs: 11_000 * S, stepMs: S }).finally(() => (slowSettled = true));
  slow.catch(() => undefined);
  const quick = await engine.run('promqlInstant', { query: '1 + 1', timeMs: 0 });
  t.deepEqual(quick, { resultType: 'scalar', t: 0, value: 2 });
  t.false(slowSettled, 'the heavy query is still evaluating');
  await engine.close();
  const error = await t.throwsAsync(slow, { instanceOf: QueryError });
  t.is(error?.type, 'unavailable');
});

test('beyond maxConcurrency queries queue, and a queued query past its deadline times out without running', async (t) => {
  const { reader, query } = heavy(100_000);
  const engine = workerEngine(reader, { ...DEFAULT_QUERY_LIMITS, maxConcurrency: 1 }, silentLogger());
  t.teardown(() => engine.close());
  const slow = engine.run('promqlRange', { query, startMs: 0, endMs: 11_000 * S, stepMs: S });
  slow.catch(() => undefined);
  const queued = await t.throwsAsync(engine.run('promqlInstant', { query: '1', timeMs: 0 }, 300), { instanceOf: QueryError });
  t.is(queued?.type, 'timeout');
});

test('max samples: more samples loaded than the limit answers 422 execution', async (t) => {
  const { reader } = heavy(1000);
  for (const engine of [
    workerEngine(reader, { ...DEFAULT_QUERY_LIMITS, maxSamples: 999 }, silentLogger()),
    inProcessEngine(reader, { ...DEFAULT_QUERY_LIMITS, maxSamples: 999 }),
  ]) {
    t.teardown(() => engine.close());
    const error = await t.throwsAsync(engine.run('promqlInstant', { query: 'count_over_time(x[100y])', timeMs: 1000 * S }), {
      instanceOf: QueryError,
    });
    t.is(error?.type, 'execution');
    t.is(error?.status, 422);
    t.regex(error?.message ?? '', /too many samples/);
    const ok = await engine.run('promqlInstant', { query: 'count_over_time(x[100s])', timeMs: 1000 * S });
    t.is(ok.resultType, 'vector');
  }
});

test('errors keep their type across the thread boundary; LogQL jobs run in workers too', async (t) => {
  const reader = new FakeReader().addLog({ app: 'r' }, 1_000_000_000n, 'a'.repeat(34) + '!');
  const engine = workerEngine(reader, DEFAULT_QUERY_LIMITS, silentLogger());
  t.teardown(() => engine.close());
  const bad = await t.throwsAsync(engine.run('promqlInstant', { query: 'nosuchfn(x)', timeMs: 0 }), { instanceOf: QueryError });
  t.is(bad?.type, 'bad_data');
  const streams = await engine.run('logStreams', {
    query: '{app="r"} |~ "(a+)+b"',
    options: { startNs: 0n, endNs: 10_000_000_000n, limit: 10, direction: 'forward' },
  });
  t.deepEqual(streams, []);
  const counted = await engine.run('logqlInstant', {
    query: 'count_over_time({app="r"} |~ "(a+)+!" [1m])',
    timeNs: 2_000_000_000n,
    limits: {},
  });
  t.is(counted.resultType, 'vector');
  const patterns = await engine.run('logPatterns', {
    query: '{app="r"}',
    options: { startNs: 0n, endNs: 10_000_000_000n, stepNs: 1_000_000_000n, lineLimit: 10, limit: 10 },
  });
  t.deepEqual(patterns, [{ pattern: 'a'.repeat(34) + '!', samples: [[1, 1]] }]);
});

test('Drilldown jobs (detected fields and values, volumes) run in workers with the same answers as in process', async (t) => {
  const reader = new FakeReader();
  for (let i = 0; i < 20; i++) {
    reader.addLog({ service_name: i % 2 ? 'api' : 'db' }, BigInt(i + 1) * 1_000_000_000n, `status=${200 + (i % 3)} msg="m${i}"`);
  }
  const worker = workerEngine(reader, DEFAULT_QUERY_LIMITS, silentLogger());
  t.teardown(() => worker.close());
  const local = inProcessEngine(reader);
  const options = { startNs: 0n, endNs: 30_000_000_000n, lineLimit: 100 };
  const fields = await worker.run('detectedFields', { query: '{service_name="api"}', options, limit: 10 });
  t.deepEqual(
    fields.map((f) => [f.label, f.type, f.cardinality]),
    [
      ['msg', 'string', 10],
      ['status', 'int', 3],
    ],
  );
  t.deepEqual(fields, await local.run('detectedFields', { query: '{service_name="api"}', options, limit: 10 }));
  const values = await worker.run('detectedFieldValues', { query: '{service_name=~".+"}', options, name: 'status', limit: 2 });
  t.deepEqual(values, ['200', '201']);
  const volume = { matchers: [{ name: 'service_name', op: '=~' as const, value: '.+' }], grouping: ['service_name'] };
  const total = await worker.run('logVolume', { ...volume, startNs: 0n, endNs: 30_000_000_000n, limit: 1 });
  t.like(total, { resultType: 'vector', samples: [{ metric: { service_name: 'db' } }] });
  t.is(total.resultType === 'vector' ? total.samples.length : -1, 1, 'limit: the largest group only');
  const steps = await worker.run('logVolumeRange', {
    ...volume,
    startNs: 10_000_000_000n,
    endNs: 20_000_000_000n,
    stepNs: 10_000_000_000n,
  });
  t.deepEqual(
    steps,
    await local.run('logVolumeRange', { ...volume, startNs: 10_000_000_000n, endNs: 20_000_000_000n, stepNs: 10_000_000_000n }),
  );
});

test('a Drilldown job past its deadline answers 503 timeout, as queries do', async (t) => {
  // A store read that never answers stands for one far slower than the deadline.
  const reader = new FakeReader();
  const stuck = { ...reader, selectLogs: () => new Promise<never>(() => undefined) } as unknown as FakeReader;
  const engine = workerEngine(stuck, DEFAULT_QUERY_LIMITS, silentLogger());
  t.teardown(() => engine.close());
  const options = { startNs: 0n, endNs: 1_000_000_000n, lineLimit: 10 };
  for (const run of [
    () => engine.run('detectedFields', { query: '{a="b"}', options, limit: 10 }, 300),
    () => engine.run('logVolume', { matchers: [{ name: 'a', op: '=' as const, value: 'b' }], grouping: ['a'], ...options, limit: 5 }, 300),
  ]) {
    const error = await t.throwsAsync(run(), { instanceOf: QueryError });
    t.is(error?.type, 'timeout');
  }
});

test('limits config: defaults, overrides and errors with their path', (t) => {
  const errors: string[] = [];
  t.deepEqual(resolveQueryLimits(undefined, 'query', errors), DEFAULT_QUERY_LIMITS);
  t.deepEqual(resolveQueryLimits({ timeout: '5s', maxSamples: 10, maxConcurrency: 2 }, 'query', errors), {
    timeoutMs: 5000,
    maxSamples: 10,
    maxConcurrency: 2,
  });
  t.deepEqual(errors, []);
  resolveQueryLimits({ timeout: 'soon', maxSamples: 0, maxConcurrency: 1.5 }, 'query', errors);
  t.deepEqual(errors, [
    'query.timeout: invalid duration "soon", expected e.g. 30s or 2m',
    'query.maxSamples: must be a positive integer, got 0',
    'query.maxConcurrency: must be a positive integer, got 1.5',
  ]);
});

test('with a thread reader, each worker reads on its own connection; the main-thread reader is never asked', async (t) => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { SqliteStore } = await import('../../storage/sqlite/store.js');
  const { siblingModule } = await import('../../common/sibling-module.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-thread-reader-'));
  const writer = new SqliteStore({ dataDir: dir, sync: 'normal' });
  writer.writeSamples([{ name: 'x', labels: { k: 'v' }, timestampMs: 10 * S, value: 7 }]);
  const refuse = () => Promise.reject(new Error('the main-thread reader must not be asked'));
  const mainThread = { ...new FakeReader(), selectSamples: refuse, selectLogs: refuse } as unknown as FakeReader;
  const engine = workerEngine(mainThread, DEFAULT_QUERY_LIMITS, silentLogger(), undefined, {
    module: siblingModule(import.meta.url, '../../storage/sqlite/thread-reader'),
    options: { dataDir: dir },
  });
  t.teardown(() => engine.close());
  const first = await engine.run('promqlInstant', { query: 'x', timeMs: 20 * S });
  t.like(first, { resultType: 'vector', samples: [{ metric: { __name__: 'x', k: 'v' }, value: 7 }] });
  // Written after the worker opened its connection: seen by the next query.
  writer.writeSamples([{ name: 'x', labels: { k: 'w' }, timestampMs: 15 * S, value: 8 }]);
  const second = await engine.run('promqlInstant', { query: 'sum(x)', timeMs: 20 * S });
  t.like(second, { resultType: 'vector', samples: [{ value: 15 }] });
  // The store stops at maxSamples in the worker; the answer is Prometheus' 422.
  const limited = workerEngine(mainThread, { ...DEFAULT_QUERY_LIMITS, maxSamples: 1 }, silentLogger(), undefined, {
    module: siblingModule(import.meta.url, '../../storage/sqlite/thread-reader'),
    options: { dataDir: dir },
  });
  t.teardown(() => limited.close());
  const error = await t.throwsAsync(limited.run('promqlInstant', { query: 'sum(x)', timeMs: 20 * S }), { instanceOf: QueryError });
  t.is(error?.type, 'execution');
  t.regex(error?.message ?? '', /too many samples/);
});

test('a thread reader that cannot open fails the query with its reason; the engine goes on', async (t) => {
  const engine = workerEngine(new FakeReader(), DEFAULT_QUERY_LIMITS, silentLogger(), undefined, {
    module: new URL('./no-such-module.js', import.meta.url).href,
    options: {},
  });
  t.teardown(() => engine.close());
  await t.throwsAsync(engine.run('promqlInstant', { query: 'x', timeMs: 0 }), { message: /no-such-module/ });
  await t.throwsAsync(engine.run('promqlInstant', { query: 'x', timeMs: 0 }), { message: /no-such-module/ });
});
