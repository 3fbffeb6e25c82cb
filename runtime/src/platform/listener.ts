/** The HTTP(S) listener of a distributed runtime: plain HTTP, or TLS with cert/key files. */
import type express from 'express';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { listen } from '../common/server.js';
import type { SecretReader } from '../common/secrets.js';
import type { RuntimeConfig } from './runtime-config.js';

export interface Listener {
  server: http.Server | https.Server;
  url: string;
  close(): Promise<void>;
}

export async function startListener(app: express.Express, config: RuntimeConfig, secrets: SecretReader): Promise<Listener> {
  const { host, port, tls } = config.http;
  let server: http.Server | https.Server;
  if (tls) {
    const cert = secrets.readFile(tls.certFile, 'http.tls.certFile');
    const key = secrets.readFile(tls.keyFile, 'http.tls.keyFile');
    secrets.check(config.source);
    server = await new Promise<https.Server>((resolve, reject) => {
      const s = https.createServer({ cert, key }, app);
      s.once('error', reject);
      s.listen(port, host, () => resolve(s));
    });
  } else {
    server = await listen(app, port, host);
  }
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `${tls ? 'https' : 'http'}://${shownHost}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
