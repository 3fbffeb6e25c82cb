/** `sextant up`: flags, env vars, API keys, startup errors, graceful shutdown. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../common/log.js';
import { loadApiKeys } from '../platform/api-keys.js';
import { ConfigError } from '../common/config-error.js';
import { loadEmbeddedConfig } from '../platform/embedded-config.js';
import { startEmbedded } from '../platform/embedded.js';
import { listenAddress } from './listen-flags.js';

export const UP_HELP = `Usage: sextant up [options]

Runs ingestion, processor and query in one process with embedded SQLite storage.

Options:
  -p, --port <n>        HTTP port (env SEXTANT_PORT, default 8080)
      --host <addr>     address to bind (env SEXTANT_HOST, default 127.0.0.1)
  -d, --data-dir <dir>  where data and the generated API key live (env SEXTANT_DATA_DIR, default ./data)
  -c, --config <file>   YAML/JSON file with processors, limits, rateLimit, maxBodyBytes,
                        logDiscovery, query, retention (env SEXTANT_CONFIG)
      --sync <mode>     full (default: fsync every commit, survives power loss) or normal
                        (survives a process crash only; faster) (env SEXTANT_SYNC)
  -h, --help            show this help

Environment:
  SEXTANT_API_KEYS      comma-separated API keys; if unset, one is generated on first start,
                        stored in <data-dir>/api-key and printed once
  SEXTANT_LOG_LEVEL     trace, debug, info (default), warn, error

Endpoints (all on the one port): POST /api/v1/logs, POST /api/v1/metrics,
GET /api/v1/logs/search, GET /api/v1/metrics/query, the Prometheus API under /api/v1,
the Loki API under /loki/api/v1, and /healthz, /readyz, /metrics.
`;

export async function runUp(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'data-dir': { type: 'string', short: 'd' },
        config: { type: 'string', short: 'c' },
        sync: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`sextant up: ${(error as Error).message}\n\n${UP_HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(UP_HELP);
    return 0;
  }
  const env = process.env;
  const address = listenAddress(values, env, { host: '127.0.0.1', port: 8080 });
  if ('error' in address) {
    process.stderr.write(`sextant up: ${address.error}\n`);
    return 2;
  }
  const { host, port } = address;
  const sync = values.sync ?? env.SEXTANT_SYNC ?? 'full';
  if (sync !== 'full' && sync !== 'normal') {
    process.stderr.write(`sextant up: invalid --sync "${sync}": expected full or normal\n`);
    return 2;
  }
  const dataDir = path.resolve(values['data-dir'] ?? env.SEXTANT_DATA_DIR ?? './data');
  const log = createLogger('sextant');

  let config;
  try {
    config = loadEmbeddedConfig(values.config ?? env.SEXTANT_CONFIG);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sextant up: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const keys = loadApiKeys(dataDir, env.SEXTANT_API_KEYS);
  let platform;
  try {
    platform = await startEmbedded({ host, port, dataDir, sync, apiKeys: keys.keys, config, log });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sextant up: invalid configuration in ${error.source}:\n  ${error.errors.join('\n  ')}\n`);
      return 2;
    }
    process.stderr.write(`sextant up: cannot start: ${(error as Error).message}\n`);
    return 1;
  }
  if (keys.generated) {
    // Shown once, on the terminal only: the key is never written to the logs.
    process.stderr.write(
      `\nGenerated an API key (stored in ${path.join(dataDir, 'api-key')}; set SEXTANT_API_KEYS to use your own):\n\n    ${keys.generated}\n\n`,
    );
  }
  process.stderr.write(`sextant is up on http://${host}:${platform.port} (data in ${dataDir})\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down: finishing in-flight requests');
      const force = setTimeout(() => {
        log.warn('graceful shutdown took over 10s; exiting');
        process.exit(1);
      }, 10_000);
      force.unref();
      void platform.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
