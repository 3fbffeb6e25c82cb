/**
 * What every component serves (docs/architecture.md §2): /healthz, /readyz, /metrics, request metrics,
 * and JSON errors for unknown routes and unexpected failures.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, sendError } from './http-error.js';
import type { Logger } from './log.js';
import type { RuntimeMetrics } from './metrics.js';

export interface Readiness {
  /** Names of the dependencies that are down; empty when ready. */
  notReady(): string[];
}

export function baseApp(metrics: RuntimeMetrics, readiness: Readiness): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use((req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      // The matched route pattern, not the raw path, keeps the label cardinality bounded.
      const route = routeLabel(req);
      stop({ route });
      metrics.httpRequests.inc({ route, method: req.method, code: String(res.statusCode) });
    });
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const down = readiness.notReady();
    if (down.length === 0) res.type('text/plain').send('ready\n');
    else
      res
        .status(503)
        .type('text/plain')
        .send(`not ready: ${down.join(', ')}\n`);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return app;
}

/** Appended after every router: JSON 404s and a last-resort 500 that keeps the process up. */
export function finishApp(app: express.Express, log: Logger): void {
  app.use((req: Request, res: Response) => {
    sendError(res, new HttpError(404, 'not_found', `no such endpoint: ${req.method} ${req.path}`));
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendError(res, new HttpError(status, 'bad_request', (error as Error).message));
      return;
    }
    log.error({ err: error, path: req.path }, 'unhandled error while serving a request');
    if (!res.headersSent) sendError(res, new HttpError(500, 'internal', 'internal error'));
  });
}

function routeLabel(req: Request): string {
  const route = (req.route as { path?: string } | undefined)?.path;
  if (route) return `${req.baseUrl}${route}`;
  return ['/healthz', '/readyz', '/metrics'].includes(req.path) ? req.path : 'other';
}

export function listen(app: express.Express, port: number, host: string): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function boundPort(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}
