/**
 * The real sender: an OpenTelemetry Collector (built from the Go module proxy with its
 * builder, test/infra/otelcol/build-otelcol.sh) into a real `sextant up`. A `filelog`
 * receiver tails two files the test writes (lines written before the collector starts, lines
 * appended while it runs, more after it restarted) and a `hostmetrics` receiver scrapes
 * cpu, memory and load every second; logs and metrics go out with `otlphttp` (Bearer key,
 * gzip protobuf, to /v1/logs and /v1/metrics) and the metrics also with
 * `prometheusremotewrite` (Basic auth with the key as password, to /api/v1/write). Once
 * more with otlphttp's JSON encoding and remote write 2.0 (behind a feature gate in v0.160).
 *
 * Read back through Sextant's Loki and Prometheus APIs once the collector has exited (so
 * nothing is still on its way): every line exactly once with its content, labels and
 * fields as the OTLP logs mapping gives them, and the hostmetrics series under the names the
 * OTel → Prometheus translation gives them — from the OTLP path (Sextant's translator) and
 * from the remote-write path (the collector's own translator) alike, with the same samples.
 *
 * The restart re-reads nothing: filelog keeps its file offsets in the `file_storage`
 * extension (without it, `start_at: beginning` reads both files again from the start: 900
 * lines instead of 500). Once into `sextant up`, once into `sextant ingestion` → Kafka →
 * `sextant processor` → OpenSearch, read back through `sextant query`.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { infraVar } from './helpers/infra-env.js';
import { OTELCOL_BUILD_TIMEOUT_MS, otelcolBinary, startOtelcol, type OtelcolProcess } from '../support/otelcol-process.js';
import { startRuntime, type RuntimeProcess } from '../support/runtime-process.js';
import { startSextant, tempDataDir } from '../support/sextant-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KEY = 'otelcol-it-key';
const SERVICE = 'otelcol-it';
/** The external label the remote-write exporter adds, to tell its series from the OTLP ones. */
const VIA_RW = 'prometheusremotewrite';
const RUN = randomBytes(4).toString('hex');

/** The hostmetrics series the OTel → Prometheus naming gives (system.cpu.time in s, a monotonic sum; …). */
const HOST_METRICS = ['system_cpu_time_seconds_total', 'system_memory_usage_bytes', 'system_cpu_load_average_1m'];

let binary = '';

test.before(async (t) => {
  // A cold build (module downloads and compiling contrib) takes many minutes.
  t.timeout(OTELCOL_BUILD_TIMEOUT_MS);
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  binary = await otelcolBinary();
});

/**
 * What the exporters send: otlphttp protobuf (its default) or OTLP's JSON mapping, gzip
 * either way; remote write 1.0 (the default) or 2.0 (behind a feature gate in v0.160).
 */
interface Wire {
  encoding: 'proto' | 'json';
  remoteWrite: '1.0' | '2.0';
}
const RW2_GATE = 'exporter.prometheusremotewritexporter.enableSendingRW2';

/** Component types as v0.160 names them (`filelog`, `otlphttp`, … are deprecated aliases there). */
function collectorConfig(sextant: string, logDir: string, storageDir: string, wire: Wire): string {
  const basic = Buffer.from(`otelcol:${KEY}`).toString('base64');
  return `extensions:
  file_storage:
    directory: ${storageDir}
receivers:
  file_log:
    include: [${logDir}/*.log]
    start_at: beginning
    poll_interval: 100ms
    storage: file_storage
    operators:
      # A severity from the lines that carry one (the others pass unparsed, quietly).
      - type: regex_parser
        regex: 'level=(?P<level>[a-z]+)'
        on_error: send_quiet
        severity: { parse_from: attributes.level }
      - type: add
        field: resource["service.name"]
        value: ${SERVICE}
  host_metrics:
    collection_interval: 1s
    initial_delay: 0s
    scrapers:
      cpu: {}
      memory: {}
      load: {}
processors:
  batch:
    timeout: 200ms
exporters:
  otlp_http:
    endpoint: ${sextant}
    encoding: ${wire.encoding}
    headers: { Authorization: "Bearer ${KEY}" }
    retry_on_failure: { initial_interval: 100ms, max_interval: 1s }
  prometheus_remote_write:
    endpoint: ${sextant}/api/v1/write
    protobuf_message: ${wire.remoteWrite === '2.0' ? 'io.prometheus.write.v2.Request' : 'prometheus.WriteRequest'}
    headers: { Authorization: "Basic ${basic}" }
    external_labels: { sender: ${VIA_RW} }
    retry_on_failure: { initial_interval: 100ms, max_interval: 1s }
service:
  extensions: [file_storage]
  telemetry:
    metrics: { level: none }
  pipelines:
    logs:
      receivers: [file_log]
      processors: [batch]
      exporters: [otlp_http]
    metrics:
      receivers: [host_metrics]
      processors: [batch]
      exporters: [otlp_http, prometheus_remote_write]
`;
}

/** `count` lines for `file`, numbered from `from`: ASCII, quotes, a tab, non-ASCII, a JSON-looking one. */
function lines(file: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const extra = ['plain', 'say "hi"\tand tab', 'naïve café ✓ 日本', '{"level":"warn","n":1}', 'level=warn a=b'][i % 5];
    return `${RUN} ${file} line ${String(i).padStart(4, '0')} ${extra}`;
  });
}

function append(dir: string, file: string, text: string[]): void {
  fs.appendFileSync(path.join(dir, file), text.map((l) => `${l}\n`).join(''));
}

interface LogLine {
  ts: string;
  line: string;
  stream: Record<string, string>;
  metadata: Record<string, string>;
}

async function get<T>(base: string, route: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`${base}${route}?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${KEY}`, ...headers } });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${route} ${JSON.stringify(params)}: ${res.status} ${body.error}`);
  return body.data;
}

/** Every stored line of the service, paged forward by time as Grafana pages, with its structured metadata. */
async function storedLines(base: string, fromNs: bigint): Promise<LogLine[]> {
  const out: LogLine[] = [];
  let start = fromNs;
  const end = BigInt(Date.now() + 60_000) * 1_000_000n;
  for (;;) {
    const data = await get<{
      result: Array<{ stream: Record<string, string>; values: Array<[string, string, { structuredMetadata?: Record<string, string> }?]> }>;
    }>(
      base,
      '/loki/api/v1/query_range',
      { query: `{service_name="${SERVICE}"}`, start: start.toString(), end: end.toString(), limit: '1000', direction: 'forward' },
      { 'x-loki-response-encoding-flags': 'categorize-labels' },
    );
    const page = data.result.flatMap((s) =>
      s.values.map(([ts, line, meta]) => ({ ts, line, stream: s.stream, metadata: meta?.structuredMetadata ?? {} })),
    );
    page.sort((a, b) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : BigInt(a.ts) > BigInt(b.ts) ? 1 : 0));
    out.push(...page);
    if (page.length < 1000) return out;
    // The next page starts after the last timestamp; a page never ends inside one (ns times).
    start = BigInt(page[page.length - 1]!.ts) + 1n;
  }
}

interface Series {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

const promQuery = (base: string, query: string, time = Date.now() / 1000) =>
  get<{ result: Series[] }>(base, '/api/v1/query', { query, time: String(time) }).then((d) => d.result);

async function waitFor(what: string, check: () => Promise<boolean>, deadlineMs = 90_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A series' labels without the ones only one path writes, as a sortable key. */
function identity(metric: Record<string, string>, drop: string[]): string {
  return JSON.stringify(
    Object.entries(metric)
      .filter(([k]) => !drop.includes(k))
      .sort(),
  );
}

/** Where the collector sends, where the queries go, and how to stop it all. */
interface Target {
  writeUrl: string;
  queryUrl: string;
  /** The ingestion side's /metrics (Prometheus text). */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

async function embedded(): Promise<Target> {
  const sextant = await startSextant({ dataDir: tempDataDir('sextant-otelcol-'), apiKey: KEY, args: ['--sync', 'normal'] });
  return {
    writeUrl: sextant.url,
    queryUrl: sextant.url,
    metrics: async () => (await fetch(`${sextant.url}/metrics`)).text(),
    stop: async () => void (await sextant.stop()),
  };
}

async function distributed(): Promise<Target> {
  const id = `otelcol${Date.now().toString(36)}`;
  const file = path.join(tempDataDir('sextant-otelcol-dist-'), 'runtime.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      pipeline: { namespace: 'otelcol', name: id },
      http: { port: 0 },
      kafka: {
        brokers: infraVar('KAFKA_BROKERS').split(','),
        clientId: id,
        topics: { partitions: 2, replicationFactor: 1 },
        consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
      },
      sinks: { opensearch: { endpoints: [infraVar('OPENSEARCH_URL')], indexPrefix: id } },
    }),
  );
  const started: RuntimeProcess[] = [];
  try {
    for (const component of ['ingestion', 'processor', 'query'] as const)
      started.push(await startRuntime(component, file, { SEXTANT_API_KEYS: KEY }));
  } catch (error) {
    await Promise.all(started.map((p) => p.stop()));
    throw error;
  }
  const [ingestion, , query] = started;
  await waitFor('ingestion ready', async () => (await fetch(`${ingestion!.url}/readyz`)).status === 200);
  return {
    writeUrl: ingestion!.url,
    queryUrl: query!.url,
    metrics: async () => (await fetch(`${ingestion!.url}/metrics`)).text(),
    stop: async () => void (await Promise.all(started.map((p) => p.stop()))),
  };
}

async function collectorInto(t: ExecutionContext, target: Target, wire: Wire = { encoding: 'proto', remoteWrite: '1.0' }): Promise<void> {
  const dir = tempDataDir('otelcol-it-');
  const logDir = path.join(dir, 'logs');
  const storageDir = path.join(dir, 'storage');
  fs.mkdirSync(logDir);
  fs.mkdirSync(storageDir);
  const config = collectorConfig(target.writeUrl, logDir, storageDir, wire);
  const featureGates = wire.remoteWrite === '2.0' ? [RW2_GATE] : [];
  const sextant = { url: target.queryUrl };
  let collector: OtelcolProcess | undefined;
  t.teardown(async () => {
    await collector?.stop();
    await target.stop();
  });
  const startNs = BigInt(Date.now() - 60_000) * 1_000_000n;
  const count = async (n: number) => (await storedLines(sextant.url, startNs)).length >= n;

  // Before the collector starts: 200 + 100 lines, read from the beginning.
  const expected = { 'a.log': lines('a.log', 0, 200), 'b.log': lines('b.log', 0, 100) };
  append(logDir, 'a.log', expected['a.log']);
  append(logDir, 'b.log', expected['b.log']);
  collector = await startOtelcol(binary, { dir, config, featureGates });
  await waitFor('the first 300 lines', () => count(300));

  // While it runs: 100 more lines appended to b.log.
  const bMore = lines('b.log', 100, 100);
  expected['b.log'].push(...bMore);
  append(logDir, 'b.log', bMore);
  await waitFor('400 lines', () => count(400));
  const hostSeries = async (extra: string) => {
    for (const name of HOST_METRICS) if ((await promQuery(sextant.url, `${name}{${extra}}`)).length === 0) return false;
    return true;
  };
  await waitFor(
    'hostmetrics by OTLP and by remote write',
    async () => (await hostSeries(`sender=""`)) && (await hostSeries(`sender="${VIA_RW}"`)),
  );

  // Restart: filelog resumes from its saved offsets, hostmetrics goes on.
  t.is(await collector.stop(), 0, `the collector exits cleanly:\n${collector.output().slice(-2000)}`);
  const firstOutput = collector.output();
  const restartedMs = Date.now();
  collector = await startOtelcol(binary, { dir, config, featureGates });
  const aMore = lines('a.log', 200, 100);
  expected['a.log'].push(...aMore);
  append(logDir, 'a.log', aMore);
  await waitFor('500 lines', () => count(500));
  await waitFor('hostmetrics after the restart', async () => {
    for (const sender of ['', VIA_RW]) {
      const latest = await promQuery(sextant.url, `timestamp(system_cpu_load_average_1m{sender="${sender}"})`);
      if (latest.length === 0 || Number(latest[0]!.value![1]) * 1000 < restartedMs + 3000) return false;
    }
    return true;
  });
  // Once the collector has exited (draining its batches and queues), nothing more is on its way.
  t.is(await collector.stop(), 0, `the collector exits cleanly:\n${collector.output().slice(-2000)}`);
  const output = firstOutput + collector.output();
  collector = undefined;
  // The console log's level column: a failed or dropped export is logged as an error.
  t.notRegex(output, /\terror\t/, 'the collector logged no error');

  // Logs: each line exactly once, with its file as a field and the service as the label.
  const stored = await storedLines(sextant.url, startNs);
  // The file is a log attribute; a parsed severity adds its attribute and the severity. Every
  // line gets a detected_level: the severity, else a level word in the line (the JSON-looking
  // one says warn), else unknown (log discovery, as Loki's).
  const metadataOf = (file: string, line: string) => {
    const level = /level=([a-z]+)/.exec(line)?.[1];
    const severity = level ? { level, severity_text: level, severity_number: '13' } : {};
    const detected = level ?? (/\bwarn\b/.test(line) ? 'warn' : 'unknown');
    return JSON.stringify(Object.entries({ log_file_name: file, detected_level: detected, ...severity }).sort());
  };
  const want = Object.entries(expected).flatMap(([file, text]) => text.map((line) => `${line} ${metadataOf(file, line)}`));
  const got = stored.map((e) => `${e.line} ${JSON.stringify(Object.entries(e.metadata).sort())}`);
  t.is(stored.length, 500, 'no line lost, none doubled by the restart');
  t.deepEqual([...got].sort(), [...want].sort(), 'every line with its content and fields');
  for (const file of Object.keys(expected)) {
    const inOrder = stored.filter((e) => e.metadata.log_file_name === file).map((e) => e.line);
    t.deepEqual(inOrder, expected[file as keyof typeof expected], `${file} in file order (observed timestamps)`);
  }
  t.deepEqual(
    [...new Set(stored.map((e) => JSON.stringify(e.stream)))],
    [JSON.stringify({ service_name: SERVICE })],
    'service.name is the only label',
  );

  // Metrics: the same series by both paths (Sextant's translator and the collector's own give
  // the same names and labels, scope labels included; remote write adds its external
  // label), with the same samples.
  const at = Date.now() / 1000;
  const window = `${Math.ceil(at - Number(startNs / 1_000_000_000n)) + 60}s`;
  const otlp = await promQuery(sextant.url, `{__name__=~"system_.+", sender=""}[${window}]`, at);
  const rw = await promQuery(sextant.url, `{__name__=~"system_.+", sender="${VIA_RW}"}[${window}]`, at);
  const names = new Set(otlp.map((s) => s.metric.__name__));
  for (const name of HOST_METRICS) t.true(names.has(name), `${name} by OTLP (of ${[...names].sort().join(', ')})`);
  for (const s of otlp) t.regex(s.metric.otel_scope_name ?? '', /hostmetricsreceiver/, `${s.metric.__name__}: the scraper's scope`);
  const byOtlp = new Map(otlp.map((s) => [identity(s.metric, []), s.values]));
  const byRw = new Map(rw.map((s) => [identity(s.metric, ['sender']), s.values]));
  t.deepEqual([...byOtlp.keys()].sort(), [...byRw.keys()].sort(), 'the same series by both paths');
  for (const [key, values] of byOtlp) t.deepEqual(byRw.get(key), values, `${key}: the same samples by both paths`);
  // Metadata: each family's type, the scraper's description as help, and the unit as the
  // name's suffix spells it (from the OTLP path; remote write may add its own variant).
  const families: Array<[string, string, string]> = [
    ['system_cpu_time_seconds_total', 'counter', 'seconds'],
    ['system_memory_usage_bytes', 'gauge', 'bytes'],
    ['system_cpu_load_average_1m', 'gauge', ''],
  ];
  for (const [name, type, unit] of families) {
    const metadata = await get<Record<string, Array<{ type: string; help: string; unit: string }>>>(sextant.url, '/api/v1/metadata', {
      metric: name,
    });
    t.true(
      (metadata[name] ?? []).some((m) => m.type === type && m.unit === unit && m.help.length > 0),
      `${name}: ${JSON.stringify(metadata[name])}`,
    );
  }
  const metrics = await target.metrics();
  t.notRegex(metrics, /sextant_ingest_requests_rejected_total\{/, 'no request was rejected');
}

test.serial(
  'OpenTelemetry Collector (filelog, hostmetrics → otlphttp, prometheusremotewrite) into sextant up: exact logs, the same metrics by both paths',
  async (t) => collectorInto(t, await embedded()),
);

test.serial('OpenTelemetry Collector, otlphttp with encoding: json and remote write 2.0, into sextant up: the same', async (t) =>
  collectorInto(t, await embedded(), { encoding: 'json', remoteWrite: '2.0' }),
);

test.serial('OpenTelemetry Collector into sextant ingestion → Kafka → processor → OpenSearch: the same from sextant query', async (t) =>
  collectorInto(t, await distributed()),
);
