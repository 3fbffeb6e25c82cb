/**
 * `sextant agent` wiring: one shipper per route (each with its own queue, spool and sender,
 * so one dead pipeline does not stop the others), the tailer, the pod watch, node metrics,
 * and /healthz /readyz /metrics.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import type { Logger } from '../../runtime/src/common/log.js';
import { baseApp, boundPort, finishApp, listen } from '../../runtime/src/common/server.js';
import type { AgentConfig } from './config.js';
import { PodCache, type PodInformer } from './kube/pods.js';
import { AgentMetrics } from './metrics.js';
import type { HostPaths } from './nodemetrics/collect.js';
import { NodeMetricsReporter } from './nodemetrics/reporter.js';
import { RouteShipper } from './shipper/route.js';
import { Tailer, type PodMetadata } from './tail/tailer.js';

export interface AgentOptions {
  /** The pods log folder (/var/log/pods). */
  root: string;
  /** Checkpoints and the spool. */
  stateDir: string;
  nodeName: string;
  host: string;
  port: number;
  config: AgentConfig;
  hostPaths: HostPaths;
  /** The pod informer; undefined runs without Kubernetes (routing by namespace/pod/container only). */
  informer: PodInformer | undefined;
  log: Logger;
}

export interface Agent {
  port: number;
  metrics: AgentMetrics;
  tailer: Tailer;
  shippers: RouteShipper[];
  close(): Promise<void>;
}

const NO_PODS: PodMetadata = { enabled: false, labels: () => ({}) };

export async function startAgent(o: AgentOptions): Promise<Agent> {
  fs.mkdirSync(o.stateDir, { recursive: true });
  const metrics = new AgentMetrics();
  const log = o.log;
  const shippers = o.config.routes
    .filter((r) => r.logs)
    .map(
      (route) =>
        new RouteShipper({
          route,
          queue: o.config.queue,
          retry: o.config.retry,
          spoolDir: path.join(o.stateDir, 'spool', route.name),
          metrics,
          log,
          ackStored: (mark) => tailer.ackStored(mark), // called only after start (below)
        }),
    );
  const marks = shippers.flatMap((s) => s.loadSpool());

  let pods: PodCache | undefined;
  if (o.informer) {
    pods = new PodCache(o.informer, log);
    // Not awaited: the cache retries by itself; files wait for their pod's labels.
    pods.start().then(
      () => log.info({ pods: pods!.size, node: o.nodeName }, 'pod watch synced'),
      () => {},
    );
  }
  const tailer: Tailer = new Tailer({
    root: o.root,
    stateDir: o.stateDir,
    nodeName: o.nodeName,
    config: o.config,
    shippers,
    pods: pods ?? NO_PODS,
    metrics,
    log,
  });
  if (pods) pods.onChange = () => tailer.requestScan();
  tailer.start(marks);
  // Spooled batches of the last run are sent once their files are known (their
  // acknowledgements then land on open files).
  const started = tailer.firstScan.then(() => shippers.forEach((s) => s.start()));

  const reporter = new NodeMetricsReporter({
    routes: o.config.routes.filter((r) => r.nodeMetrics),
    paths: o.hostPaths,
    nodeName: o.nodeName,
    config: o.config,
    metrics,
    log,
  });
  reporter.start();

  const app = baseApp(metrics, {
    notReady: () => {
      const down: string[] = [];
      if (!tailer.scanned) down.push('tail (first scan of the pods log folder)');
      if (pods && !pods.ready) down.push('kubernetes (pod watch not synced)');
      return down;
    },
  });
  finishApp(app, log);
  const server: http.Server = await listen(app, o.port, o.host);
  log.info({ port: boundPort(server), root: o.root, routes: shippers.map((s) => s.name), node: o.nodeName }, 'agent started');

  return {
    port: boundPort(server),
    metrics,
    tailer,
    shippers,
    async close() {
      await tailer.stop();
      await started;
      await Promise.all(shippers.map((s) => s.close()));
      await reporter.stop();
      await tailer.close();
      await pods?.stop().catch(() => {});
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
