/** `sextant agent`: the node agent (DaemonSet): flags, env vars, config errors, graceful shutdown. */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startAgent } from '../../../agent-daemonset/src/agent.js';
import { ConfigError, loadAgentConfig } from '../../../agent-daemonset/src/config.js';
import { createPodInformer, type PodInformer } from '../../../agent-daemonset/src/kube/pods.js';
import { loadRoutesFile } from '../../../agent-daemonset/src/routes-file.js';
import { createLogger } from '../common/log.js';

export const AGENT_HELP = `Usage: sextant agent [options]

Tails container logs under the pods log folder, ships them in batches to the ingestion
endpoints of the routes in the config file (checkpointed, spooled, retried), and reports
node metrics from /proc and /sys.

Options:
  -c, --config <file>      YAML/JSON with routes, multiline rules, batch, queue, retry, tail,
                           labelsFromPod, nodeMetrics (env SEXTANT_AGENT_CONFIG; see
                           agent-daemonset/README.md). Without routes nothing is shipped.
      --routes <file>      routes file rendered by the operator (\`routes: [...]\`, same route
                           format; env SEXTANT_AGENT_ROUTES): appended to the config file's
                           routes and re-read every routesFile.pollInterval; a rejected
                           version keeps the routes in force
      --root <dir>         pods log folder (env SEXTANT_AGENT_ROOT, default /var/log/pods)
      --state-dir <dir>    checkpoints and spool (env SEXTANT_AGENT_STATE_DIR,
                           default /var/lib/sextant-agent)
      --node-name <name>   this node (env NODE_NAME, default the host name)
      --kube <mode>        auto (default: in-cluster when KUBERNETES_SERVICE_HOST is set,
                           or --kubeconfig), on: the same but required, off: no pod labels
                           (env SEXTANT_AGENT_KUBE)
      --kubeconfig <file>  kubeconfig for the pod watch (env KUBECONFIG)
      --host-proc <dir>    the host's /proc (env SEXTANT_AGENT_HOST_PROC, default /proc)
      --host-sys <dir>     the host's /sys (env SEXTANT_AGENT_HOST_SYS, default /sys)
      --host-root <dir>    the host's / for filesystem metrics (env SEXTANT_AGENT_HOST_ROOT, default /)
  -p, --port <n>           HTTP port for /healthz, /readyz, /metrics (env SEXTANT_PORT, default 8080)
      --host <addr>        address to bind (env SEXTANT_HOST, default 127.0.0.1; the DaemonSet
                           binds 0.0.0.0: the agent serves only health and metrics)
  -h, --help               show this help

Environment:
  SEXTANT_LOG_LEVEL        trace, debug, info (default), warn, error
`;

export async function runAgent(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        routes: { type: 'string' },
        root: { type: 'string' },
        'state-dir': { type: 'string' },
        'node-name': { type: 'string' },
        kube: { type: 'string' },
        kubeconfig: { type: 'string' },
        'host-proc': { type: 'string' },
        'host-sys': { type: 'string' },
        'host-root': { type: 'string' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`sextant agent: ${(error as Error).message}\n\n${AGENT_HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(AGENT_HELP);
    return 0;
  }
  const env = process.env;
  const portText = values.port ?? env.SEXTANT_PORT ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`sextant agent: invalid --port "${portText}": expected 0-65535\n`);
    return 2;
  }
  const kubeMode = values.kube ?? env.SEXTANT_AGENT_KUBE ?? 'auto';
  if (kubeMode !== 'auto' && kubeMode !== 'on' && kubeMode !== 'off') {
    process.stderr.write(`sextant agent: invalid --kube "${kubeMode}": expected auto, on or off\n`);
    return 2;
  }
  let config;
  let routesFile;
  const configFile = values.config ?? env.SEXTANT_AGENT_CONFIG;
  const routesPath = values.routes ?? env.SEXTANT_AGENT_ROUTES;
  let routesMissing = false;
  try {
    config = loadAgentConfig(configFile, env);
    if (routesPath) {
      const configSource = configFile ?? '(defaults)';
      const loaded = loadRoutesFile(path.resolve(routesPath), config, configSource, env);
      routesFile = { path: path.resolve(routesPath), routes: loaded.routes, configSource };
      routesMissing = loaded.missing;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sextant agent: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const log = createLogger('sextant-agent');
  if (routesMissing) log.warn({ file: routesFile!.path }, 'routes file missing: no routes from it until it appears');
  const nodeName = values['node-name'] ?? env.NODE_NAME ?? os.hostname();
  const kubeconfig = values.kubeconfig ?? env.KUBECONFIG;
  let informer: PodInformer | undefined;
  if (kubeMode === 'on' && !env.KUBERNETES_SERVICE_HOST && !kubeconfig) {
    process.stderr.write('sextant agent: --kube on needs --kubeconfig (or KUBECONFIG) outside a cluster\n');
    return 2;
  }
  if (kubeMode !== 'off' && (env.KUBERNETES_SERVICE_HOST || kubeconfig)) {
    try {
      informer = await createPodInformer(nodeName, kubeconfig);
    } catch (error) {
      process.stderr.write(`sextant agent: cannot set up the Kubernetes pod watch: ${(error as Error).message}\n`);
      return 1;
    }
  }
  if (!informer && [...config.routes, ...(routesFile?.routes ?? [])].some((r) => r.match.usesLabels)) {
    log.warn('a route selects pods by label but there is no Kubernetes connection: such routes match no pod');
  }
  let agent;
  try {
    agent = await startAgent({
      root: path.resolve(values.root ?? env.SEXTANT_AGENT_ROOT ?? '/var/log/pods'),
      stateDir: path.resolve(values['state-dir'] ?? env.SEXTANT_AGENT_STATE_DIR ?? '/var/lib/sextant-agent'),
      nodeName,
      host: values.host ?? env.SEXTANT_HOST ?? '127.0.0.1',
      port,
      config,
      hostPaths: {
        proc: values['host-proc'] ?? env.SEXTANT_AGENT_HOST_PROC ?? '/proc',
        sys: values['host-sys'] ?? env.SEXTANT_AGENT_HOST_SYS ?? '/sys',
        rootfs: values['host-root'] ?? env.SEXTANT_AGENT_HOST_ROOT ?? '/',
      },
      informer,
      routesFile,
      log,
    });
  } catch (error) {
    process.stderr.write(`sextant agent: cannot start: ${(error as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`sextant agent is up on port ${agent.port} (node ${nodeName})\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down: finishing the request in flight and writing checkpoints');
      const force = setTimeout(() => {
        log.warn('graceful shutdown took over 25s; exiting');
        process.exit(1);
      }, 25_000);
      force.unref();
      void agent.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
