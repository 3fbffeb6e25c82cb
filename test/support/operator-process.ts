/**
 * Starts `sextant operator` (the built CLI in dist/) as a local child process against the
 * test control plane — there is no container runtime here, so the operator runs beside the
 * API server instead of in a pod — and reads its /metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { infraVar } from '../integration/helpers/infra-env.js';
import { getJson, kubectl, until } from './kube.js';
import { CLI } from './sextant-process.js';

// helm.test.ts imports until from here.
export { until } from './kube.js';

export interface OperatorProcess {
  url: string;
  identity: string;
  child: ChildProcess;
  output(): string;
  /** The value of one sample of /metrics, e.g. metric('sextant_operator_leader'); undefined when absent. */
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export async function startOperator(args: string[], env: Record<string, string> = {}): Promise<OperatorProcess> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "make build" first`);
  const child = spawn(process.execPath, [CLI, 'operator', '--port', '0', ...args], {
    env: { ...process.env, SEXTANT_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const [url, identity] = await new Promise<[string, string]>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`sextant operator did not start within 60s:\n${output}`)), 60_000);
    const check = () => {
      const match = /sextant operator is up on (http:\/\/\S+) \(identity (\S+),/.exec(output);
      if (match) {
        clearTimeout(deadline);
        resolve([match[1]!, match[2]!]);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`sextant operator exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    identity,
    child,
    output: () => output,
    metric: async (name, labels = {}) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
      }
      return undefined;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------
// kubectl and the examples, for the cluster tests of the operator.

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The OpenSearch and S3 URLs the examples are pointed at. The operator never connects to
 * them (only the runtimes would), so the cluster tier needs only kube and kafka running;
 * when the other servers run, their real URLs are used.
 */
export function sinkEndpoint(name: 'OPENSEARCH_URL' | 'S3_ENDPOINT'): string {
  try {
    return infraVar(name);
  } catch {
    return name === 'OPENSEARCH_URL' ? 'http://127.0.0.1:19200' : 'http://127.0.0.1:19000';
  }
}

/** The documents of examples/<file>, with the endpoints pointed at the test servers. */
export function exampleDocs(file: string): Record<string, unknown>[] {
  const text = fs.readFileSync(path.join(REPO, 'examples', file), 'utf8');
  const docs = YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d !== null);
  for (const doc of docs) {
    const spec = doc.spec as Record<string, Record<string, unknown>> | undefined;
    if (doc.kind === 'Pipeline' && spec?.kafka) spec.kafka.brokers = infraVar('KAFKA_BROKERS').split(',');
    if (doc.kind === 'Sink' && spec?.opensearch) {
      spec.opensearch.endpoints = [sinkEndpoint('OPENSEARCH_URL')];
      // The test OpenSearch is plain http: no CA to trust.
      delete spec.opensearch.tls;
    }
    if (doc.kind === 'Sink' && spec?.s3) spec.s3.endpoint = sinkEndpoint('S3_ENDPOINT');
  }
  return docs;
}

export function applyDocs(namespace: string, docs: unknown[]): void {
  kubectl(['-n', namespace, 'apply', '-f', '-'], docs.map((d) => YAML.stringify(d)).join('---\n'));
}

export function applyCrds(): void {
  kubectl(['apply', '--server-side', '--force-conflicts', '-f', path.join(REPO, 'crds')]);
  for (const plural of ['pipelines', 'sinks', 'retentionpolicies'])
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${plural}.sextant.dev`]);
}

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface PipelineObject {
  metadata: { name: string; namespace: string; generation: number; resourceVersion: string; uid: string };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    conditions?: Cond[];
    configHash?: string;
    runtimes?: Record<string, { ready: number; desired: number }>;
    endpoints?: Record<string, string>;
  };
}

export function pipeline(namespace: string, name: string): PipelineObject {
  return getJson<PipelineObject>(['-n', namespace, 'get', 'pipeline', name]);
}

export function condition(p: PipelineObject, type: string): Cond | undefined {
  return p.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the Pipeline's status is for its current generation and Ready has this status (and reason, when given). */
export function untilReady(
  namespace: string,
  name: string,
  status: 'True' | 'False' = 'True',
  reason?: string,
  timeoutMs = 120_000,
): Promise<PipelineObject> {
  return until(
    `Pipeline ${namespace}/${name} Ready=${status}${reason ? ` (${reason})` : ''}`,
    () => {
      const p = pipeline(namespace, name);
      const ready = condition(p, 'Ready');
      if (p.status?.observedGeneration !== p.metadata.generation) return undefined;
      if (ready?.status !== status || (reason !== undefined && ready.reason !== reason))
        throw new Error(`Ready is ${JSON.stringify(ready)}`);
      return p;
    },
    timeoutMs,
  );
}
