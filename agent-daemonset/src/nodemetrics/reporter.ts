/**
 * Collects node metrics every interval and sends them to the routes that asked for them
 * (`nodeMetrics: true`) at POST /api/v1/metrics, each sample labelled with the node. A
 * delivery is retried within the interval (backoff with full jitter, Retry-After honoured);
 * metrics are not spooled — a gap in a gauge is better than a backlog of stale samples.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Logger } from '../../../runtime/src/common/index.js';
import type { AgentConfig, RouteConfig } from '../config.js';
import type { AgentMetrics } from '../metrics.js';
import { postMetrics, retryDelayMs } from '../shipper/http.js';
import { collectNodeMetrics, type HostPaths } from './collect.js';
import { sleep } from '../../../runtime/src/common/index.js';

const gzip = promisify(zlib.gzip);

export class NodeMetricsReporter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private routes: RouteConfig[];

  constructor(
    private readonly o: {
      routes: RouteConfig[];
      paths: HostPaths;
      nodeName: string;
      config: AgentConfig;
      metrics: AgentMetrics;
      log: Logger;
    },
  ) {
    this.routes = o.routes;
  }

  /** The routes with `nodeMetrics: true` changed (routes file reloaded); from the next collection on. */
  setRoutes(routes: RouteConfig[]): void {
    const idle = this.routes.length === 0;
    this.routes = routes;
    if (idle && routes.length > 0 && this.timer === undefined && this.running === undefined) this.start();
  }

  start(): void {
    if (this.routes.length === 0) return;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.once().finally(() => {
        this.running = undefined;
        this.timer = undefined;
        // Without routes the timer stops; setRoutes starts it again.
        if (!this.stopped && this.routes.length > 0) this.timer = setTimeout(tick, this.o.config.nodeMetrics.intervalMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One collection, delivered to every metrics route. */
  async once(): Promise<void> {
    const routes = this.routes;
    if (routes.length === 0) return;
    const now = Date.now();
    const { samples, errors } = await collectNodeMetrics(this.o.paths, now);
    for (const e of errors) {
      this.o.metrics.nodeMetricErrors.inc({ stage: 'collect' });
      this.o.log.warn({ error: e }, 'node metrics collector failed');
    }
    const body = await gzip(
      JSON.stringify({
        samples: samples.map((s) => ({ name: s.name, labels: { ...s.labels, node: this.o.nodeName }, timestamp: now, value: s.value })),
      }),
    );
    const deadline = now + this.o.config.nodeMetrics.intervalMs;
    await Promise.all(
      routes.map(async (route) => {
        for (let attempt = 0; !this.stopped; attempt++) {
          const outcome = await postMetrics(route, body, this.o.config.retry.requestTimeoutMs);
          if (outcome.kind === 'ok') {
            this.o.metrics.samplesShipped.inc({ route: route.name }, samples.length);
            return;
          }
          this.o.metrics.failures.inc({ route: route.name, reason: outcome.reason });
          const delay = retryDelayMs(outcome, attempt, this.o.config.retry);
          if (delay < 0 || Date.now() + delay >= deadline) {
            this.o.metrics.nodeMetricErrors.inc({ stage: 'ship' });
            this.o.log.warn(
              { route: route.name, reason: outcome.reason, detail: outcome.detail },
              'node metrics not delivered this interval',
            );
            return;
          }
          this.o.metrics.retries.inc({ route: route.name });
          await sleep(delay);
        }
      }),
    );
  }
}
