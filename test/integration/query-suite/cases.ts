/**
 * The shared query suite: one list of HTTP query cases (native search and metrics, Loki
 * query/query_range/labels/values/series/stats and the Drilldown endpoints, Prometheus
 * query/query_range/labels/values/series) over the fixed dataset. runSuite() sends them to
 * any deployment — `sextant up` or `sextant query` — and returns the answers normalised only
 * where the APIs leave an order undefined (instant vectors, series lists) or the value is
 * opaque (cursors), so the two modes can be compared for equality.
 */
import { HOUR_MS, type Dataset } from './dataset.js';

export interface QueryCase {
  name: string;
  path: string;
  params: Record<string, string>;
  /** Follow native nextCursor pages up to this many (the cursor itself is opaque). */
  pages?: number;
  /** Request headers beyond the API key (e.g. Grafana's categorize-labels flag). */
  headers?: Record<string, string>;
}

const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
const sec = (ms: number) => String(ms / 1000);

export function suiteCases(data: Dataset): QueryCase[] {
  const end = data.baseMs;
  const start = end - 3 * HOUR_MS;
  return [
    // native
    {
      name: 'native search: stream + line filter, backward',
      path: '/api/v1/logs/search',
      params: { query: '{service="api"} |= "status=500"', start: ns(start), end: ns(end), limit: '1000' },
    },
    {
      name: 'native search: regex selector, forward, pages of 70 through cursors',
      path: '/api/v1/logs/search',
      params: { query: '{service=~"web|db", level!="error"} != "POST"', start: ns(start), end: ns(end), limit: '70', direction: 'forward' },
      pages: 20,
    },
    {
      name: 'native search: full-text q',
      path: '/api/v1/logs/search',
      params: { query: '{service=~".+"}', q: 'café', start: ns(start), end: ns(end), limit: '500' },
    },
    {
      name: 'native metrics: max by service',
      path: '/api/v1/metrics/query',
      params: { query: 'http_requests_total{code="200"}', start: ns(start), end: ns(end), step: '600s', aggregation: 'max', by: 'service' },
    },
    // Loki
    {
      name: 'loki query_range: log query, backward',
      path: '/loki/api/v1/query_range',
      params: { query: '{service="api"} |= "status=404"', start: ns(start), end: ns(end), limit: '1000' },
    },
    {
      name: 'loki query_range: log query, forward with limit',
      path: '/loki/api/v1/query_range',
      params: { query: '{level="error"} |~ "took=[0-9]{3}ms"', start: ns(start), end: ns(end), limit: '30', direction: 'forward' },
    },
    {
      name: 'loki query_range: sum by count_over_time',
      path: '/loki/api/v1/query_range',
      params: { query: 'sum by (service) (count_over_time({service=~".+"}[10m]))', start: ns(start), end: ns(end), step: '600' },
    },
    {
      name: 'loki query_range: rate with a line filter',
      path: '/loki/api/v1/query_range',
      params: { query: 'rate({service="api"} |= "GET" [15m])', start: ns(start + 900_000), end: ns(end), step: '900' },
    },
    {
      name: 'loki query: instant count over the whole dataset',
      path: '/loki/api/v1/query',
      params: { query: 'sum(count_over_time({service=~".+"}[3h]))', time: ns(end) },
    },
    // Loki pipelines: parsers, label filters, formatters, unwrap (evaluated in memory over
    // what each store returns, so both modes must agree).
    {
      name: 'loki query_range: logfmt and a numeric label filter',
      path: '/loki/api/v1/query_range',
      params: { query: '{service="api"} | logfmt | status >= 500', start: ns(start), end: ns(end), limit: '1000' },
    },
    {
      name: 'loki query_range: pattern, string filter, line_format',
      path: '/loki/api/v1/query_range',
      params: {
        query:
          '{service=~"api|web"} | pattern "<method> <path> status=<status> took=<took>ms<_>" | status="404" | line_format "{{.method}} {{.path | ToUpper}} {{.took}}"',
        start: ns(start),
        end: ns(end),
        limit: '1000',
        direction: 'forward',
      },
    },
    {
      name: 'loki query_range: regexp, duration filter, label_format, or-chain, keep',
      path: '/loki/api/v1/query_range',
      params: {
        query:
          '{service="db"} |= "GET" or "café" | regexp `took=(?P<took>\\d+ms)` | took > 900ms | label_format ms=took | keep service, ms',
        start: ns(start),
        end: ns(end),
        limit: '1000',
      },
    },
    {
      name: 'loki query_range: sum_over_time of an unwrapped duration by service',
      path: '/loki/api/v1/query_range',
      params: {
        query: 'sum by (service) (sum_over_time({service=~".+"} | logfmt | unwrap duration(took) | __error__="" [30m]))',
        start: ns(start + 1_800_000),
        end: ns(end),
        step: '1800',
      },
    },
    {
      name: 'loki query: quantile_over_time by service and topk over a parsed label',
      path: '/loki/api/v1/query',
      params: {
        query:
          'quantile_over_time(0.9, {service=~"api|web"} | logfmt | unwrap duration(took) [3h]) by (service) or topk(2, sum by (status) (count_over_time({service=~".+"} | logfmt [3h])))',
        time: ns(end),
      },
    },
    // Structured metadata (the entries' fields) and Grafana's Explore / Logs Drilldown
    // endpoints, which read the stores through other paths than query_range.
    {
      name: 'loki query_range: a label filter on structured metadata, categorize-labels',
      path: '/loki/api/v1/query_range',
      params: { query: '{service="api"} | user="u3" | logfmt | status != "404"', start: ns(start), end: ns(end), limit: '1000' },
      headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' },
    },
    {
      name: 'loki query_range: json on lines that are not JSON sets __error__',
      path: '/loki/api/v1/query_range',
      params: { query: '{service="db"} |= "café" | json | __error__="JSONParserErr"', start: ns(start), end: ns(end), limit: '1000' },
    },
    {
      name: 'loki query: count by a structured-metadata field',
      path: '/loki/api/v1/query',
      params: { query: 'sum by (user) (count_over_time({service="web"} | user=~"u1[0-2]" [3h]))', time: ns(end) },
    },
    {
      name: 'loki detected_labels',
      path: '/loki/api/v1/detected_labels',
      params: { query: '{service=~".+"}', start: ns(start), end: ns(end) },
    },
    {
      name: 'loki detected_fields',
      path: '/loki/api/v1/detected_fields',
      params: { query: '{service="api"}', start: ns(start), end: ns(end) },
    },
    {
      name: 'loki detected_field values of a structured-metadata field',
      path: '/loki/api/v1/detected_field/user/values',
      params: { query: '{service="db"}', start: ns(start), end: ns(end) },
    },
    {
      name: 'loki index/volume by service_name',
      path: '/loki/api/v1/index/volume',
      params: { query: '{service_name=~".+"}', start: ns(start), end: ns(end), limit: '100' },
    },
    {
      name: 'loki index/volume_range by level',
      path: '/loki/api/v1/index/volume_range',
      params: { query: '{service=~"api|web"}', targetLabels: 'level', start: ns(start), end: ns(end), step: '1800' },
    },
    {
      name: 'loki patterns',
      path: '/loki/api/v1/patterns',
      params: { query: '{service="web"}', start: ns(start), end: ns(end), step: '1800' },
    },
    { name: 'loki labels', path: '/loki/api/v1/labels', params: { start: ns(start), end: ns(end) } },
    { name: 'loki label values', path: '/loki/api/v1/label/service/values', params: { start: ns(start), end: ns(end) } },
    { name: 'loki series', path: '/loki/api/v1/series', params: { 'match[]': '{service="api"}', start: ns(start), end: ns(end) } },
    {
      name: 'loki index stats',
      path: '/loki/api/v1/index/stats',
      params: { query: '{service=~"api|batch"}', start: ns(start), end: ns(end) },
    },
    // Prometheus
    {
      name: 'prometheus query_range: sum by (service) (rate)',
      path: '/api/v1/query_range',
      params: {
        query: 'sum by (service) (rate(http_requests_total[5m]))',
        start: sec(start + 600_000),
        end: sec(end - 60_000),
        step: '300',
      },
    },
    {
      name: 'prometheus query_range: raw series',
      path: '/api/v1/query_range',
      params: { query: 'http_requests_total{service="web"}', start: sec(start), end: sec(end), step: '900' },
    },
    {
      name: 'prometheus query: instant gauge and count',
      path: '/api/v1/query',
      params: { query: 'queue_depth or count(http_requests_total)', time: sec(end - 60_000) },
    },
    {
      name: 'prometheus query: increase over 3h',
      path: '/api/v1/query',
      params: { query: 'sum by (code) (increase(http_requests_total[3h]))', time: sec(end) },
    },
    { name: 'prometheus labels', path: '/api/v1/labels', params: { start: sec(start), end: sec(end) } },
    { name: 'prometheus label values', path: '/api/v1/label/__name__/values', params: { start: sec(start), end: sec(end) } },
    {
      name: 'prometheus series',
      path: '/api/v1/series',
      params: { 'match[]': 'http_requests_total{code="500"}', start: sec(start), end: sec(end) },
    },
  ];
}

export type SuiteResults = Record<string, unknown>;

/** Runs every case; a non-200 answer fails the suite with the case's name and the body. */
export async function runSuite(baseUrl: string, apiKey: string, cases: QueryCase[]): Promise<SuiteResults> {
  const out: SuiteResults = {};
  for (const c of cases) out[c.name] = await runCase(baseUrl, apiKey, c);
  return out;
}

async function get(
  baseUrl: string,
  apiKey: string,
  path: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const res = await fetch(`${baseUrl}${path}?${new URLSearchParams(params)}`, {
    headers: { ...headers, authorization: `Bearer ${apiKey}` },
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path} ${JSON.stringify(params)} → ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function runCase(baseUrl: string, apiKey: string, c: QueryCase): Promise<unknown> {
  if (c.pages !== undefined) {
    const pages: unknown[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < c.pages; i++) {
      const body = await get(baseUrl, apiKey, c.path, { ...c.params, ...(cursor ? { cursor } : {}) });
      cursor = body.nextCursor as string | undefined;
      pages.push({ entries: body.entries, more: cursor !== undefined });
      if (!cursor) break;
    }
    return pages;
  }
  const body = await get(baseUrl, apiKey, c.path, c.params, c.headers);
  delete body.nextCursor;
  return normalise(body);
}

/**
 * Sorts what the APIs return in no defined order: instant vectors, series lists, and the
 * groups of the native metrics API (they follow the store's series order).
 */
function normalise(body: Record<string, unknown>): unknown {
  const data = body.data as { resultType?: string; result?: unknown[] } | unknown[] | undefined;
  const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
  if (Array.isArray(body.series)) return { ...body, series: [...(body.series as unknown[])].sort(byJson) };
  if (Array.isArray(data) && data.length > 0 && typeof data[0] === 'object') return { ...body, data: [...data].sort(byJson) };
  if (data && !Array.isArray(data) && data.resultType === 'vector' && Array.isArray(data.result)) {
    return { ...body, data: { ...data, result: [...data.result].sort(byJson) } };
  }
  return body;
}
