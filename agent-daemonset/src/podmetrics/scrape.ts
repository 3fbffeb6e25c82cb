/**
 * Scrapes the pods of this node annotated `prometheus.io/scrape: "true"` (the common
 * kubernetes_sd convention: `prometheus.io/port`, `prometheus.io/path` (default /metrics),
 * `prometheus.io/scheme` (default http)) every `podMetrics.interval`, parses the text format
 * with parse-prometheus-text-format and sends the samples to the first route with
 * `podMetrics: true` whose selector matches the pod (so a team's pod metrics go to that
 * team's pipeline). Every sample gets `namespace`, `pod` and `node`; a scraped label of the
 * same name is kept as `exported_<name>` (Prometheus' honor_labels: false). Each target also
 * yields `up` (1 scraped, 0 failed) and `scrape_samples_scraped`. Like node metrics, a failed
 * delivery is retried within the interval and not spooled.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Logger } from '../../../runtime/src/common/index.js';
import { ThrottledLog } from '../../../runtime/src/common/index.js';
import type { AgentConfig, RouteConfig } from '../config.js';
import type { PodInfo } from '../kube/pods.js';
import type { AgentMetrics } from '../metrics.js';
import { postMetrics, request, retryDelayMs } from '../shipper/http.js';
import { sleep } from '../../../runtime/src/common/index.js';

const gzip = promisify(zlib.gzip);

/** Samples per request: well under the ingestion's body limit. */
const SAMPLES_PER_REQUEST = 5000;

export interface Sample {
  name: string;
  labels: Record<string, string>;
  /** A number, or "NaN" / "+Inf" / "-Inf" as the ingestion accepts them. */
  value: number | string;
  timestamp: number;
}

export interface ScrapeTarget {
  pod: PodInfo;
  url: string;
}

/** The scrape targets among `pods`, and why annotated pods are not one (no IP yet, bad port…). */
export function scrapeTargets(pods: PodInfo[]): { targets: ScrapeTarget[]; skipped: Array<{ pod: string; reason: string }> } {
  const targets: ScrapeTarget[] = [];
  const skipped: Array<{ pod: string; reason: string }> = [];
  for (const pod of pods) {
    const a = pod.annotations;
    if (a['prometheus.io/scrape'] !== 'true') continue;
    const name = `${pod.namespace}/${pod.name}`;
    if (pod.phase !== 'Running' || !pod.ip) {
      skipped.push({ pod: name, reason: `not running with an IP (phase ${pod.phase ?? 'unknown'})` });
      continue;
    }
    const portText = a['prometheus.io/port'];
    const port = portText !== undefined ? Number(portText) : pod.ports[0];
    if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
      skipped.push({
        pod: name,
        reason:
          portText !== undefined ? `prometheus.io/port: not a port: "${portText}"` : 'no prometheus.io/port and no declared container port',
      });
      continue;
    }
    const scheme = a['prometheus.io/scheme'] ?? 'http';
    if (scheme !== 'http' && scheme !== 'https') {
      skipped.push({ pod: name, reason: `prometheus.io/scheme: expected http or https, got "${scheme}"` });
      continue;
    }
    let metricsPath = a['prometheus.io/path'] ?? '/metrics';
    if (!metricsPath.startsWith('/')) metricsPath = `/${metricsPath}`;
    const host = pod.ip.includes(':') ? `[${pod.ip}]` : pod.ip;
    targets.push({ pod, url: `${scheme}://${host}:${port}${metricsPath}` });
  }
  return { targets, skipped };
}

function sampleValue(text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined;
  if (text === 'NaN' || text === '+Inf' || text === '-Inf') return text;
  if (text === 'Inf' || text === '+inf') return '+Inf';
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Text format → samples with `target` labels (scraped labels of the same names become exported_<name>). */
export function parseScrape(
  text: string,
  target: Record<string, string>,
  now: number,
  maxSamples: number,
): { samples: Sample[]; truncated: boolean } {
  const samples: Sample[] = [];
  let truncated = false;
  const push = (name: string, scraped: Record<string, string> | undefined, value: string | undefined, timestamp?: string) => {
    const v = sampleValue(value);
    if (v === undefined) return;
    if (samples.length >= maxSamples) {
      truncated = true;
      return;
    }
    const labels: Record<string, string> = {};
    for (const [k, val] of Object.entries(scraped ?? {})) labels[k in target ? `exported_${k}` : k] = val;
    Object.assign(labels, target);
    const ts = timestamp !== undefined ? Number(timestamp) : now;
    samples.push({ name, labels, value: v, timestamp: Number.isFinite(ts) ? ts : now });
  };
  for (const family of parsePrometheusTextFormat(text)) {
    for (const m of family.metrics) {
      if (family.type === 'HISTOGRAM') {
        for (const [le, count] of Object.entries(m.buckets ?? {}))
          push(`${family.name}_bucket`, { ...m.labels, le }, count, m.timestamp_ms);
        push(`${family.name}_sum`, m.labels, m.sum, m.timestamp_ms);
        push(`${family.name}_count`, m.labels, m.count, m.timestamp_ms);
      } else if (family.type === 'SUMMARY') {
        for (const [quantile, value] of Object.entries(m.quantiles ?? {}))
          push(family.name, { ...m.labels, quantile }, value, m.timestamp_ms);
        push(`${family.name}_sum`, m.labels, m.sum, m.timestamp_ms);
        push(`${family.name}_count`, m.labels, m.count, m.timestamp_ms);
      } else {
        push(family.name, m.labels, m.value, m.timestamp_ms);
      }
    }
  }
  return { samples, truncated };
}

export interface PodScraperOptions {
  pods: () => PodInfo[];
  /** The routes with podMetrics: true, in route order (read at every scrape: routes reload). */
  routes: () => RouteConfig[];
  nodeName: string;
  config: AgentConfig;
  metrics: AgentMetrics;
  log: Logger;
}

export class PodScraper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly throttled = new ThrottledLog(60_000);

  constructor(private readonly o: PodScraperOptions) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.once()
        .catch((error: unknown) => this.o.log.error({ err: error }, 'pod scrape round failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.o.config.podMetrics.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round: scrape every target that a route takes, deliver per route. */
  async once(): Promise<void> {
    const routes = this.o.routes();
    if (routes.length === 0) return;
    const { targets, skipped } = scrapeTargets(this.o.pods());
    for (const s of skipped) {
      this.o.metrics.scrapes.inc({ result: 'skipped' });
      this.throttled.record(`skip:${s.pod}`, 1, () => this.o.log.warn(s, 'annotated pod not scraped'));
    }
    const now = Date.now();
    const byRoute = new Map<RouteConfig, Sample[]>();
    await Promise.all(
      targets.map(async (target) => {
        const pod = target.pod;
        const route = routes.find((r) =>
          r.match.matches({ namespace: pod.namespace, pod: pod.name, container: undefined, labels: pod.labels }),
        );
        if (!route) return; // no pipeline wants this pod's metrics
        const samples = await this.scrape(target, now);
        const list = byRoute.get(route) ?? [];
        byRoute.set(route, list);
        for (const s of samples) list.push(s);
      }),
    );
    await Promise.all([...byRoute].map(([route, samples]) => this.deliver(route, samples, now)));
  }

  /** Scrapes one target; always returns at least its `up` sample. */
  private async scrape(target: ScrapeTarget, now: number): Promise<Sample[]> {
    const pod = target.pod;
    const labels = { namespace: pod.namespace, pod: pod.name, node: this.o.nodeName };
    const up = (value: number): Sample => ({ name: 'up', labels, value, timestamp: now });
    const m = this.o.metrics;
    let text: string;
    try {
      const res = await request({
        url: target.url,
        method: 'GET',
        headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' },
        timeoutMs: this.o.config.podMetrics.timeoutMs,
      });
      text = res.body;
      if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
    } catch (error) {
      m.scrapes.inc({ result: 'error' });
      this.throttled.record(`fail:${target.url}`, 1, (count) =>
        this.o.log.warn({ pod: `${pod.namespace}/${pod.name}`, url: target.url, err: error, failures: count }, 'pod scrape failed'),
      );
      return [up(0)];
    }
    let parsed: { samples: Sample[]; truncated: boolean };
    try {
      parsed = parseScrape(text, labels, now, this.o.config.podMetrics.maxSamples);
    } catch (error) {
      m.scrapes.inc({ result: 'error' });
      this.throttled.record(`parse:${target.url}`, 1, () =>
        this.o.log.warn({ pod: `${pod.namespace}/${pod.name}`, url: target.url, err: error }, 'pod metrics are not valid text format'),
      );
      return [up(0)];
    }
    if (parsed.truncated) {
      m.scrapes.inc({ result: 'truncated' });
      this.throttled.record(`cut:${target.url}`, 1, () =>
        this.o.log.warn(
          { pod: `${pod.namespace}/${pod.name}`, url: target.url, maxSamples: this.o.config.podMetrics.maxSamples },
          'pod exposes more samples than podMetrics.maxSamples: the rest is not sent',
        ),
      );
    } else m.scrapes.inc({ result: 'ok' });
    return [...parsed.samples, up(1), { name: 'scrape_samples_scraped', labels, value: parsed.samples.length, timestamp: now }];
  }

  private async deliver(route: RouteConfig, samples: Sample[], started: number): Promise<void> {
    const deadline = started + this.o.config.podMetrics.intervalMs;
    const m = this.o.metrics;
    for (let i = 0; i < samples.length && !this.stopped; i += SAMPLES_PER_REQUEST) {
      const part = samples.slice(i, i + SAMPLES_PER_REQUEST);
      const body = await gzip(JSON.stringify({ samples: part }));
      for (let attempt = 0; ; attempt++) {
        const outcome = await postMetrics(route, body, this.o.config.retry.requestTimeoutMs);
        if (outcome.kind === 'ok') {
          m.podSamplesShipped.inc({ route: route.name }, part.length);
          break;
        }
        m.failures.inc({ route: route.name, reason: outcome.reason });
        const delay = retryDelayMs(outcome, attempt, this.o.config.retry);
        if (delay < 0 || Date.now() + delay >= deadline || this.stopped) {
          m.podSamplesDropped.inc({ route: route.name, reason: outcome.reason }, part.length);
          this.throttled.record(`ship:${route.name}:${outcome.reason}`, part.length, (count) =>
            this.o.log.warn(
              { route: route.name, reason: outcome.reason, detail: outcome.detail, samples: count },
              'pod metrics not delivered this interval',
            ),
          );
          break;
        }
        m.retries.inc({ route: route.name });
        await sleep(delay);
      }
    }
  }
}
