/**
 * Bad input over HTTP (the Loki router on a fake reader): malformed LogQL is a 400 with the
 * position, hostile templates, patterns and lines are a 400 or an __error__ label, never a
 * 5xx or a stall. Time limits here are generous bounds against a hang, not speed checks.
 */
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import test from 'ava';
import express from 'express';
import { silentLogger } from '../../common/log.js';
import { FakeReader } from '../promql/fake-reader.js';
import { createLokiRouter } from '../api/loki.js';

const NS = 1_000_000_000n;
const NOW = 100n * NS;

const BIG_JSON = JSON.stringify({ status: 503, blob: 'x'.repeat(256 * 1024), nested: { a: { b: { c: 1 } } } });
const DEEP_JSON = '['.repeat(200_000) + ']'.repeat(200_000);
const CAPTURES = 300;
const WIDE_LINE = Array.from({ length: CAPTURES }, (_, i) => `v${i}`).join(' ');

function reader(): FakeReader {
  return new FakeReader()
    .addLog({ app: 'big' }, 10n * NS, BIG_JSON)
    .addLog({ app: 'big' }, 11n * NS, DEEP_JSON)
    .addLog({ app: 'wide' }, 12n * NS, WIDE_LINE)
    .addLog({ app: 'api' }, 13n * NS, 'status=abc msg=hello');
}

let server: http.Server;
let base: string;

test.before(async () => {
  const app = express();
  app.use('/loki/api/v1', createLokiRouter({ reader: reader(), log: silentLogger(), now: () => NOW }));
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/loki/api/v1`;
});

test.after.always(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function range(query: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}/query_range?${new URLSearchParams({ query, start: '0', end: String(NOW), limit: '100' })}`);
  return { status: res.status, body: await res.text() };
}

async function streams(query: string): Promise<{ stream: Record<string, string>; values: [string, string][] }[]> {
  const res = await range(query);
  if (res.status !== 200) throw new Error(`${res.status}: ${res.body}`);
  return (JSON.parse(res.body) as { data: { result: { stream: Record<string, string>; values: [string, string][] }[] } }).data.result;
}

test('malformed LogQL: 400 with line:column of the error', async (t) => {
  for (const [query, position] of [
    ['{app="api"} | json |', '1:21'],
    ['{app="api"} | logfmt --bogus', '1:24'],
    ['sum(rate({app="api"}[1m])', '1:26'],
    ['{app="api"}\n| line_format', '2:14'],
  ] as const) {
    const res = await range(query);
    t.is(res.status, 400, query);
    t.true(res.body.startsWith(`invalid parameter "query": ${position}: parse error`), `${query}: ${res.body}`);
  }
  const regex = await range('{app="api"} | regexp "(?P<a>["');
  t.is(regex.status, 400);
  t.regex(regex.body, /invalid regular expression/);
});

test('templates cannot loop or blow up: range is a 400, huge repeat is TemplateFormatErr', async (t) => {
  const loop = await range('{app="api"} | line_format "{{ range $i := . }}{{ end }}"');
  t.is(loop.status, 400);
  const [s] = await streams('{app="api"} | line_format `{{ repeat 100000000 "x" }}`');
  t.is(s!.stream.__error__, 'TemplateFormatErr');
  t.is(s!.values[0]![1], 'status=abc msg=hello', 'the line is left as it was');
  const [p] = await streams('{app="api"} | line_format `{{ printf "%99999999d" 1 }}`');
  t.is(p!.stream.__error__, 'TemplateFormatErr');
});

test('json over a 256 KiB line and a 200,000-deep array: parsed or JSONParserErr, no stack overflow', async (t) => {
  const result = await streams('{app="big"} | json | drop blob');
  const labels = result.map((r) => r.stream);
  t.true(labels.some((l) => l.status === '503' && l.nested_a_b_c === '1'));
  t.true(labels.some((l) => l.__error__ === 'JSONParserErr' && /nesting deeper than/.test(l.__error_details__ ?? '')));
  const one = await streams('{app="big"} | json s="status", c="nested.a.b.c" | __error__=""');
  t.deepEqual(one[0]!.stream, { app: 'big', s: '503', c: '1' });
});

test(`a pattern with ${CAPTURES} captures parses a line with as many fields`, async (t) => {
  const pattern = Array.from({ length: CAPTURES }, (_, i) => `<f${i}>`).join(' ');
  const [s] = await streams(`{app="wide"} | pattern "${pattern}"`);
  t.is(s!.stream.f0, 'v0');
  t.is(s!.stream[`f${CAPTURES - 1}`], `v${CAPTURES - 1}`);
  const many = await range(`{app="wide"} | regexp "${Array.from({ length: CAPTURES }, (_, i) => `(?P<g${i}>\\\\S+)`).join(' ')}"`);
  t.is(many.status, 200);
});

test('unwrap of a non-numeric value and a numeric filter on text answer as Loki does', async (t) => {
  const res = await fetch(
    `${base}/query?${new URLSearchParams({ query: 'sum_over_time({app="api"} | logfmt | unwrap status [1m])', time: '20' })}`,
  );
  t.is(res.status, 400);
  t.regex(await res.text(), /^pipeline error: 'SampleExtractionErr'/);
  const [s] = await streams('{app="api"} | logfmt | status > 200');
  t.is(s!.stream.__error__, 'LabelFilterErr');
});
