/**
 * `sextant ingestion|processor|query --config <file>`: one distributed runtime against
 * Kafka/OpenSearch (docs/architecture.md §1). Exit 2 on usage or configuration errors (every one named,
 * with its path), 1 when it cannot start, 0 after a graceful SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../common/log.js';
import { ConfigError } from '../common/config-error.js';
import { startIngestion, type RunningComponent } from '../platform/ingestion.js';
import { startProcessor } from '../platform/processor.js';
import { loadRuntimeConfig, requireFor, type RuntimeConfig } from '../platform/runtime-config.js';
import { listenAddress } from './listen-flags.js';

export type Component = 'ingestion' | 'processor' | 'query';

const WHAT: Record<Component, string> = {
  ingestion:
    'Serves the ingestion API (POST /api/v1/logs, /api/v1/metrics) and publishes to Kafka;\na 2xx means Kafka acknowledged (acks=all). 503 + Retry-After while Kafka is down.',
  processor:
    'Consumes the pipeline topics (one consumer group per sink), runs the processor stages\nand writes to OpenSearch; offsets are committed only after the sink acknowledged.',
  query:
    'Serves the native, Prometheus and Loki query APIs over OpenSearch (the hot window,\nquery.hotWindow) and S3 (older data, when sinks.s3 is set). 503 while a store is down.',
};

export function runtimeHelp(component: Component): string {
  return `Usage: sextant ${component} --config <file> [options]

${WHAT[component]}

Options:
  -c, --config <file>   runtime configuration, JSON (as the operator renders it) or YAML
                        (env SEXTANT_CONFIG); see examples/runtime/runtime-config.yaml
  -p, --port <n>        HTTP port (env SEXTANT_PORT; over the file's http.port, default 8080)
      --host <addr>     address to bind (env SEXTANT_HOST; over the file's http.host)
      --check           validate the configuration and its secrets, then exit
  -h, --help            show this help

Environment:
  SEXTANT_LOG_LEVEL     trace, debug, info (default), warn, error
  secrets               as referenced by the configuration ({env: NAME} or {file: PATH});
                        API keys default to SEXTANT_API_KEYS (comma-separated)

Endpoints: /healthz, /readyz (false while a dependency is down), /metrics.
`;
}

export async function runRuntime(component: Component, argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        check: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`sextant ${component}: ${(error as Error).message}\n\n${runtimeHelp(component)}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(runtimeHelp(component));
    return 0;
  }
  const file = values.config ?? process.env.SEXTANT_CONFIG;
  if (!file) {
    process.stderr.write(`sextant ${component}: --config <file> is required\n\n${runtimeHelp(component)}`);
    return 2;
  }
  let config: RuntimeConfig;
  try {
    config = loadRuntimeConfig(file);
    requireFor(config, component);
    const address = listenAddress(values, process.env, config.http);
    if ('error' in address) throw new ConfigError(file, [address.error]);
    config = { ...config, http: { ...config.http, ...address } };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sextant ${component}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (values.check) {
    process.stdout.write(`${file}: valid configuration for pipeline ${config.pipeline.namespace}/${config.pipeline.name}\n`);
    return 0;
  }
  const log = createLogger(`sextant-${component}`);
  let running: RunningComponent;
  try {
    running =
      component === 'ingestion'
        ? await startIngestion(config, log)
        : component === 'processor'
          ? await startProcessor(config, log)
          : await (await import('../platform/query.js')).startQuery(config, log);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sextant ${component}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`sextant ${component}: cannot start: ${(error as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`sextant ${component} is up on ${running.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, `shutting down: finishing in-flight work`);
      const force = setTimeout(() => {
        log.warn('graceful shutdown took over 30s; exiting');
        process.exit(1);
      }, 30_000);
      force.unref();
      void running.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
