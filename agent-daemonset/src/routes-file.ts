/**
 * The routes file the operator renders (ConfigMap `sextant-agent-routes`, key `routes.yaml`,
 * API keys in files from the Secret `sextant-agent-route-keys`): read at start, then polled.
 *
 * Polled, not watched: a ConfigMap volume changes by an atomic swap of its `..data` symlink,
 * which fs.watch on the file misses (the watched inode never changes) and which may keep
 * the mtime of the new file in the past. So every poll reads the file and the key files it
 * names and compares what they resolve to with what is applied; a rotated key in the
 * Secret is a change too. A file that fails to resolve keeps the routes in force, is logged
 * with every error and its path, and counted once per distinct content
 * (`sextant_agent_config_reloads_total{result="error"}`).
 */
import fs from 'node:fs';
import type { Logger } from '../../runtime/src/common/index.js';
import { ConfigError, resolveRoutesFile, type AgentConfig, type RouteConfig } from './config.js';
import type { AgentMetrics } from './metrics.js';

/**
 * The routes of the routes file at start. A missing file gives no routes (the operator may
 * not have rendered it yet; the volume is optional) and is read again at every poll; an
 * invalid one is a ConfigError, as for the config file.
 */
export function loadRoutesFile(
  file: string,
  base: AgentConfig,
  baseSource: string,
  env: NodeJS.ProcessEnv = process.env,
): { routes: RouteConfig[]; missing: boolean } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { routes: [], missing: true };
    throw new ConfigError(file, [`cannot read file: ${(error as Error).message}`]);
  }
  return { routes: resolveRoutesFile(text, file, base, baseSource, env), missing: false };
}

/** What a set of routes resolves to; equal signatures mean nothing to apply. */
export function routesSignature(routes: RouteConfig[]): string {
  return JSON.stringify(routes.map((r) => r.signature));
}

export interface RoutesFileWatcherOptions {
  file: string;
  base: AgentConfig;
  baseSource: string;
  /** The routes in force, from the load at start. */
  initial: RouteConfig[];
  env?: NodeJS.ProcessEnv;
  metrics: AgentMetrics;
  log: Logger;
  /** Applies the routes file's new routes (the agent appends them to the config file's). */
  apply: (routes: RouteConfig[]) => Promise<void>;
}

export class RoutesFileWatcher {
  private applied: string;
  /** The last outcome seen (applied signature or error text), so one bad file is counted once. */
  private lastSeen: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Checks run one at a time (the poll and an explicit reloadRoutes may meet). */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: RoutesFileWatcherOptions) {
    this.applied = routesSignature(o.initial);
    this.lastSeen = this.applied;
    o.metrics.configLastReloadOk.set(1);
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.check()
        .catch((error: unknown) => this.o.log.error({ err: error, file: this.o.file }, 'routes file reload failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.o.base.routesFile.pollIntervalMs);
        });
    };
    this.timer = setTimeout(tick, this.o.base.routesFile.pollIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One poll: read and resolve the file; apply it when it resolves to other routes. */
  check(): Promise<void> {
    const next = this.chain.then(() => this.checkOnce());
    this.chain = next.catch(() => {});
    return next;
  }

  private async checkOnce(): Promise<void> {
    const o = this.o;
    let routes: RouteConfig[];
    try {
      const text = await fs.promises.readFile(o.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new ConfigError(o.file, [`cannot read file: ${error.code ?? error.message}`]);
      });
      routes = resolveRoutesFile(text, o.file, o.base, o.baseSource, o.env ?? process.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const seen = `error:${error.message}`;
      if (seen === this.lastSeen) return;
      this.lastSeen = seen;
      o.metrics.configReloads.inc({ result: 'error' });
      o.metrics.configLastReloadOk.set(0);
      o.log.error({ file: o.file, errors: error.errors }, 'routes file rejected: keeping the routes in force');
      return;
    }
    const signature = routesSignature(routes);
    this.lastSeen = signature;
    if (signature === this.applied) {
      o.metrics.configLastReloadOk.set(1); // back to what is applied after a bad version
      return;
    }
    await o.apply(routes);
    this.applied = signature;
    o.metrics.configReloads.inc({ result: 'ok' });
    o.metrics.configLastReloadOk.set(1);
    o.log.info({ file: o.file, routes: routes.map((r) => r.name) }, 'routes file reloaded');
  }
}
