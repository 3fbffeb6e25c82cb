/**
 * kubectl and helm against the test control plane (infra `kube`), and the polling and
 * namespace helpers every cluster test needs. Failures carry the command and its stderr, so a
 * failing test names what the API server refused.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { infraVar } from '../integration/helpers/infra-env.js';

const kubeEnv = () => ({ ...process.env, KUBECONFIG: infraVar('KUBECONFIG') });

function run(tool: 'KUBECTL' | 'HELM_BIN', args: string[], input?: string): string {
  return execFileSync(infraVar(tool), args, {
    env: kubeEnv(),
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
}

/** The error names the command; it keeps stdout and stderr (a partly failed apply still lists what it did). */
function failure(name: string, args: string[], error: unknown): Error & { stdout?: string; stderr?: string } {
  const e = error as { stdout?: string; stderr?: string; message: string };
  return Object.assign(new Error(`${name} ${args.join(' ')}: ${e.stderr || e.message}`), { stdout: e.stdout, stderr: e.stderr });
}

export function kubectl(args: string[], input?: string): string {
  try {
    return run('KUBECTL', args, input);
  } catch (error) {
    throw failure('kubectl', args, error);
  }
}

/** Runs kubectl expecting failure; returns its stderr (throws if it succeeded). */
export function kubectlFails(args: string[], input?: string): string {
  try {
    run('KUBECTL', args, input);
  } catch (error) {
    return String((error as { stderr?: string }).stderr);
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded`);
}

export function helm(args: string[]): string {
  try {
    return run('HELM_BIN', args);
  } catch (error) {
    throw failure('helm', args, error);
  }
}

export function getJson<T = Record<string, unknown>>(args: string[]): T {
  return JSON.parse(kubectl([...args, '-o', 'json'])) as T;
}

/** Polls probe until it returns a value other than undefined; the last error or value is in the timeout message. */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(3).toString('hex')}`;
}

export function createNamespaces(...namespaces: string[]): void {
  for (const namespace of namespaces) kubectl(['create', 'namespace', namespace]);
}

export function deleteNamespace(namespace: string): void {
  // Sinks in use carry the operator's finalizer; the tests stop their operator before they
  // clean up, so nobody would remove it and the namespace would stay Terminating.
  try {
    for (const sink of kubectl(['-n', namespace, 'get', 'sinks.sextant.dev', '-o', 'name']).split('\n').filter(Boolean))
      kubectl(['-n', namespace, 'patch', sink, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  } catch {
    // best effort (no Sink CRD, or no such namespace)
  }
  try {
    kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
  } catch {
    // best effort: a leftover namespace does not change the outcome of other tests
  }
}

/** A pod bound to `node` (kwok: no scheduler, no kubelet); `metadata` adds labels/annotations. */
export function createKwokPod(
  namespace: string,
  name: string,
  node: string,
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> },
): void {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, ...metadata },
    spec: {
      nodeName: node,
      tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
      containers: [{ name: 'app', image: 'registry.invalid/app:1' }],
    },
  };
  kubectl(['apply', '-f', '-'], JSON.stringify(pod));
}
