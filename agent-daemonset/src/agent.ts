/**
 * `sextant agent` wiring: one shipper per route (each with its own queue, spool and sender,
 * so one dead pipeline does not stop the others), the tailer, the pod watch, node metrics,
 * the routes file (reloaded while running), and /healthz /readyz /metrics.
 *
 * Routes reload: the routes file's routes come after the config file's. A new route starts
 * (its spool of an earlier run, if any, is sent); a changed one keeps its queue and spool
 * and uses its new settings from the next request (RouteShipper.reconfigure); a removed
 * one takes no more entries and delivers what it holds for up to `routesFile.drainTimeout`
 * (the rest is dropped and counted), then its files are routed again. Open files keep
 * their route otherwise; files that had none are matched again.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import type { Logger } from '../../runtime/src/common/index.js';
import { baseApp, boundPort, finishApp, listen } from '../../runtime/src/common/index.js';
import type { AgentConfig, RouteConfig } from './config.js';
import { PodCache, type PodInformer } from './kube/pods.js';
import { AgentMetrics } from './metrics.js';
import type { HostPaths } from './nodemetrics/collect.js';
import { NodeMetricsReporter } from './nodemetrics/reporter.js';
import { PodScraper } from './podmetrics/scrape.js';
import { RoutesFileWatcher } from './routes-file.js';
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
  /** The operator's routes file and its routes as loaded at start (see loadRoutesFile); polled for changes. */
  routesFile?: { path: string; routes: RouteConfig[]; configSource: string };
  log: Logger;
}

export interface Agent {
  port: number;
  metrics: AgentMetrics;
  tailer: Tailer;
  /** The shippers of the routes in force, in route order. */
  readonly shippers: RouteShipper[];
  /** Reads the routes file now (tests; the watcher polls it every routesFile.pollInterval). */
  reloadRoutes(): Promise<void>;
  close(): Promise<void>;
}

const NO_PODS: PodMetadata = { enabled: false, labels: () => ({}) };

export async function startAgent(o: AgentOptions): Promise<Agent> {
  fs.mkdirSync(o.stateDir, { recursive: true });
  const metrics = new AgentMetrics();
  const log = o.log;
  const makeShipper = (route: RouteConfig): RouteShipper =>
    new RouteShipper({
      route,
      queue: o.config.queue,
      retry: o.config.retry,
      spoolDir: path.join(o.stateDir, 'spool', route.name),
      metrics,
      log,
      ackStored: (mark) => tailer.ackStored(mark), // called only after start (below)
    });
  const configRoutes = o.config.routes;
  const initialRoutes = [...configRoutes, ...(o.routesFile?.routes ?? [])];
  /** Shippers of the routes in force, by name, in route order. */
  let active = new Map(initialRoutes.filter((r) => r.logs).map((r) => [r.name, makeShipper(r)]));
  /** Removed routes still delivering what they hold. */
  const retiring = new Map<string, { shipper: RouteShipper; done: Promise<void> }>();
  const marks = [...active.values()].flatMap((s) => s.loadSpool());
  warnOrphanSpools(o.stateDir, initialRoutes, log);

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
    shippers: [...active.values()],
    pods: pods ?? NO_PODS,
    metrics,
    log,
  });
  if (pods) pods.onChange = (uid) => tailer.podChanged(uid);
  tailer.start(marks);
  // Spooled batches of the last run are sent once their files are known (their
  // acknowledgements then land on open files).
  let sending = false;
  const started = tailer.firstScan.then(() => {
    sending = true;
    active.forEach((s) => s.start());
  });

  const reporter = new NodeMetricsReporter({
    routes: initialRoutes.filter((r) => r.nodeMetrics),
    paths: o.hostPaths,
    nodeName: o.nodeName,
    config: o.config,
    metrics,
    log,
  });
  reporter.start();

  // Pod scraping needs the pod watch (IPs and annotations); it runs while a route asks for it.
  let podMetricRoutes = initialRoutes.filter((r) => r.podMetrics);
  if (!pods && podMetricRoutes.length > 0)
    log.warn('a route has podMetrics: true but there is no Kubernetes connection: no pod is scraped');
  const scraper = pods
    ? new PodScraper({
        pods: () => pods.list(),
        routes: () => podMetricRoutes,
        nodeName: o.nodeName,
        config: o.config,
        metrics,
        log,
      })
    : undefined;
  scraper?.start();

  const countRoutes = (fileRoutes: RouteConfig[]) => {
    metrics.routes.set({ source: 'config' }, configRoutes.length);
    metrics.routes.set({ source: 'routes_file' }, fileRoutes.length);
  };
  countRoutes(o.routesFile?.routes ?? []);

  const retire = (s: RouteShipper): Promise<void> =>
    s.retire(o.config.routesFile.drainTimeoutMs).then(
      (abandoned) => {
        tailer.unpark(s);
        retiring.delete(s.name);
        if (abandoned > 0) log.warn({ route: s.name, entries: abandoned }, 'removed route: entries not delivered in time were dropped');
        else log.info({ route: s.name }, 'removed route delivered everything it held; stopped');
      },
      (error: unknown) => {
        tailer.unpark(s);
        retiring.delete(s.name);
        log.error({ err: error, route: s.name }, 'removed route failed while delivering what it held');
      },
    );

  const applyRoutes = async (fileRoutes: RouteConfig[]): Promise<void> => {
    const all = [...configRoutes, ...fileRoutes];
    const wanted = all.filter((r) => r.logs);
    const names = new Set(wanted.map((r) => r.name));
    // Removed first, so no new file is routed to them while the others are set up.
    for (const [name, s] of active) {
      if (names.has(name)) continue;
      active.delete(name);
      tailer.park(s);
      retiring.set(name, { shipper: s, done: retire(s) });
      log.info({ route: name }, 'route removed: delivering what it holds, then stopping');
    }
    tailer.setShippers([...active.values()]);
    const next = new Map<string, RouteShipper>();
    for (const r of wanted) {
      let s = active.get(r.name);
      if (!s) {
        // Removed and added again: the old one finishes with its spool folder first.
        await retiring.get(r.name)?.done;
        s = makeShipper(r);
        s.loadSpool();
        if (sending) s.start();
        log.info({ route: r.name, endpoint: r.endpoint }, 'route added');
      } else if (s.config.signature !== r.signature) {
        s.reconfigure(r);
        log.info({ route: r.name, endpoint: r.endpoint }, 'route changed: its queue and spool are sent with the new settings');
      }
      next.set(r.name, s);
    }
    active = next;
    tailer.setShippers([...active.values()]);
    reporter.setRoutes(all.filter((r) => r.nodeMetrics));
    podMetricRoutes = all.filter((r) => r.podMetrics);
    countRoutes(fileRoutes);
  };

  const watcher = o.routesFile
    ? new RoutesFileWatcher({
        file: o.routesFile.path,
        base: o.config,
        baseSource: o.routesFile.configSource,
        initial: o.routesFile.routes,
        metrics,
        log,
        apply: applyRoutes,
      })
    : undefined;
  watcher?.start();

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
  log.info(
    { port: boundPort(server), root: o.root, routes: [...active.keys()], routesFile: o.routesFile?.path, node: o.nodeName },
    'agent started',
  );

  return {
    port: boundPort(server),
    metrics,
    tailer,
    get shippers() {
      return [...active.values()];
    },
    reloadRoutes: async () => watcher?.check(),
    async close() {
      // A removed route's drain stops with the agent: what it still holds is dropped (counted).
      const draining = [...retiring.values()];
      await Promise.all(draining.map((r) => r.shipper.close()));
      await Promise.all(draining.map((r) => r.done));
      await watcher?.stop();
      await tailer.stop();
      await started;
      await Promise.all([...active.values()].map((s) => s.close()));
      await reporter.stop();
      await scraper?.stop();
      await tailer.close();
      await pods?.stop().catch(() => {});
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Spool folders of routes not configured now are kept (sent when the route comes back) and named in the log. */
function warnOrphanSpools(stateDir: string, routes: RouteConfig[], log: Logger): void {
  const known = new Set(routes.filter((r) => r.logs).map((r) => r.name));
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(stateDir, 'spool'));
  } catch {
    return;
  }
  const orphans = names.filter((n) => !known.has(n));
  if (orphans.length > 0) log.warn({ routes: orphans }, 'spool folders of routes not in the configuration: kept until the route returns');
}
