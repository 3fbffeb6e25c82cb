/**
 * `sextant operator`: reconciles Pipeline, Sink and RetentionPolicy resources into running
 * runtimes (docs/architecture.md §6). Exit 2 on usage errors, 1 when it cannot start or lost leadership,
 * 0 after a graceful SIGTERM/SIGINT (informers stopped, reconciles in flight finished,
 * leader lease released).
 */
import { parseArgs } from 'node:util';
import { startOperator, type RunningOperator } from '../../../operator/src/operator.js';
import { createLogger } from '../common/log.js';
import { VERSION } from '../common/version.js';
import { retentionSeconds } from '../../../operator/src/api/duration.js';

export const OPERATOR_HELP = `Usage: sextant operator [options]

Watches Pipelines, Sinks and RetentionPolicies (sextant.dev/v1alpha1) and the Secrets they
reference, and renders each Pipeline into a ConfigMap, Deployments, Services,
PodDisruptionBudgets and HPAs (server-side apply), Kafka topics, status conditions and the
node agent's routes. Only the replica holding the leader Lease reconciles.

Options:
      --kubeconfig <file>     kubeconfig (env KUBECONFIG; default: in-cluster service account)
  -n, --namespace <ns>        the operator's namespace: leader Lease and agent routes
                              (env POD_NAMESPACE or SEXTANT_OPERATOR_NAMESPACE, default sextant-system)
      --image <ref>           runtime image of the rendered Deployments
                              (env SEXTANT_OPERATOR_IMAGE, default ghcr.io/sextant-dev/sextant:${VERSION})
      --image-pull-policy <p> Always, IfNotPresent or Never (env SEXTANT_OPERATOR_IMAGE_PULL_POLICY)
      --allow-cross-namespace-collection
                              let a Pipeline's sources.kubernetes.namespaces name other namespaces
                              (env SEXTANT_OPERATOR_ALLOW_CROSS_NAMESPACE_COLLECTION=true; default off:
                              such a Pipeline turns Degraded with reason NamespaceNotAllowed)
      --leader-elect <bool>   take part in leader election (env SEXTANT_OPERATOR_LEADER_ELECT, default true)
      --lease-name <name>     the Lease (env SEXTANT_OPERATOR_LEASE_NAME, default sextant-operator)
      --host <addr>           address for /healthz, /readyz, /metrics (env SEXTANT_OPERATOR_HOST,
                              default 127.0.0.1; the chart binds 0.0.0.0)
  -p, --port <n>              port (env SEXTANT_OPERATOR_PORT, default 8080)
      --resync <duration>     periodic full resync, e.g. 10m, 30s, 1h30m; units y w d h m s, no ms (env SEXTANT_OPERATOR_RESYNC, default 10m; 0 disables)
      --workers <n>           concurrent Pipeline reconciles (env SEXTANT_OPERATOR_WORKERS, default 2)
  -h, --help                  show this help

Environment:
  SEXTANT_LOG_LEVEL           trace, debug, info (default), warn, error
  POD_NAME                    used in the leader identity (default: the host name)
`;

/**
 * 10m, 30s, 1h30m, 0 → milliseconds; undefined when malformed. The grammar is the custom
 * resources' (operator/src/api/duration.ts: Prometheus' without ms), so whoever installs the
 * operator writes every duration (chart values, Pipelines, RetentionPolicies) the same way;
 * the chart's values.schema.json pattern for operator.resync is the same grammar
 * (runtime/src/cli/operator.test.ts compares them).
 */
export function parseResync(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const seconds = retentionSeconds(trimmed);
  return seconds === undefined ? undefined : seconds * 1000;
}

export async function runOperator(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        image: { type: 'string' },
        'image-pull-policy': { type: 'string' },
        'allow-cross-namespace-collection': { type: 'boolean' },
        'leader-elect': { type: 'string' },
        'lease-name': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        resync: { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`sextant operator: ${(error as Error).message}\n\n${OPERATOR_HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(OPERATOR_HELP);
    return 0;
  }
  const env = process.env;
  const fail = (message: string) => {
    process.stderr.write(`sextant operator: ${message}\n`);
    return 2;
  };
  const portText = values.port ?? env.SEXTANT_OPERATOR_PORT ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) return fail(`invalid --port "${portText}": expected 0-65535`);
  const workersText = values.workers ?? env.SEXTANT_OPERATOR_WORKERS ?? '2';
  const workers = Number(workersText);
  if (!/^\d+$/.test(workersText) || workers < 1 || workers > 64) return fail(`invalid --workers "${workersText}": expected 1-64`);
  const resyncText = values.resync ?? env.SEXTANT_OPERATOR_RESYNC ?? '10m';
  const resyncMs = parseResync(resyncText);
  if (resyncMs === undefined)
    return fail(`invalid --resync "${resyncText}": expected a duration such as 10m, 30s or 1h30m (units y, w, d, h, m, s; no ms), or 0`);
  const electText = (values['leader-elect'] ?? env.SEXTANT_OPERATOR_LEADER_ELECT ?? 'true').toLowerCase();
  if (electText !== 'true' && electText !== 'false') return fail(`invalid --leader-elect "${electText}": expected true or false`);
  const pullPolicy = values['image-pull-policy'] ?? env.SEXTANT_OPERATOR_IMAGE_PULL_POLICY;
  if (pullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(pullPolicy))
    return fail(`invalid --image-pull-policy "${pullPolicy}": expected Always, IfNotPresent or Never`);
  const namespace = values.namespace ?? env.POD_NAMESPACE ?? env.SEXTANT_OPERATOR_NAMESPACE ?? 'sextant-system';
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) return fail(`invalid --namespace "${namespace}": expected a DNS-1123 label`);
  const crossText = (env.SEXTANT_OPERATOR_ALLOW_CROSS_NAMESPACE_COLLECTION ?? 'false').toLowerCase();
  if (crossText !== 'true' && crossText !== 'false')
    return fail(`invalid SEXTANT_OPERATOR_ALLOW_CROSS_NAMESPACE_COLLECTION "${crossText}": expected true or false`);
  const allowCrossNamespaceCollection = values['allow-cross-namespace-collection'] === true || crossText === 'true';
  const leaseName = values['lease-name'] ?? env.SEXTANT_OPERATOR_LEASE_NAME ?? 'sextant-operator';

  const log = createLogger('sextant-operator');
  let operator: RunningOperator;
  let lostLeadership = false;
  let stop: ((signal: string) => void) | undefined;
  try {
    operator = await startOperator({
      kubeconfig: values.kubeconfig ?? env.KUBECONFIG,
      namespace,
      image: values.image ?? env.SEXTANT_OPERATOR_IMAGE ?? `ghcr.io/sextant-dev/sextant:${VERSION}`,
      ...(pullPolicy ? { imagePullPolicy: pullPolicy } : {}),
      allowCrossNamespaceCollection,
      leaderElect: electText === 'true',
      leaseName,
      host: values.host ?? env.SEXTANT_OPERATOR_HOST ?? '127.0.0.1',
      port,
      resyncMs,
      workers,
      log,
      onLostLeadership: () => {
        lostLeadership = true;
        stop?.('lost leadership');
      },
    });
  } catch (error) {
    process.stderr.write(`sextant operator: cannot start: ${(error as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`sextant operator is up on ${operator.url} (identity ${operator.identity}, namespace ${namespace})\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ why }, 'shutting down: stopping informers, finishing reconciles in flight, releasing the lease');
      const force = setTimeout(() => {
        log.warn('graceful shutdown took over 25s; exiting');
        process.exit(1);
      }, 25_000);
      force.unref();
      void operator.close().then(resolve);
    };
    process.once('SIGTERM', () => stop!('SIGTERM'));
    process.once('SIGINT', () => stop!('SIGINT'));
  });
  return lostLeadership ? 1 : 0;
}
