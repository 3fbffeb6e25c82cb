/**
 * Two operator replicas on the real control plane: exactly one holds the Lease and
 * reconciles; when it is SIGKILLed the other takes over after the lease expires and
 * reconciles; a graceful stop releases the Lease at once.
 */
import test from 'ava';
import { infraVar } from '../integration/helpers/infra-env.js';
import {
  applyCrds,
  applyDocs,
  exampleDocs,
  pipeline,
  startOperator,
  untilReady,
  type OperatorProcess,
} from '../support/operator-process.js';
import { createNamespaces, deleteNamespace, getJson, kubectl, uniqueName, until } from '../support/kube.js';

const operatorNs = uniqueName('sxop-le');
const ns = uniqueName('sx-le');
const leaseName = uniqueName('sextant-operator-le');
const replicas: OperatorProcess[] = [];

const args = () => ['--kubeconfig', infraVar('KUBECONFIG'), '--namespace', operatorNs, '--lease-name', leaseName, '--resync', '1m'];

function holder(): string {
  return getJson<{ spec: { holderIdentity?: string } }>(['-n', operatorNs, 'get', 'lease', leaseName]).spec.holderIdentity ?? '';
}

test.before(() => {
  applyCrds();
  createNamespaces(operatorNs, ns);
});

test.after.always(async () => {
  for (const r of replicas) await r.kill();
  deleteNamespace(ns);
  deleteNamespace(operatorNs);
});

test('two replicas elect one leader; SIGKILL of the leader hands over to the other, which reconciles', async (t) => {
  replicas.push(await startOperator(args()), await startOperator(args()));
  const leader = await until('exactly one leader', async () => {
    const flags = await Promise.all(replicas.map((r) => r.metric('sextant_operator_leader')));
    if (flags.filter((f) => f === 1).length !== 1 || flags.filter((f) => f === 0).length !== 1) return undefined;
    return replicas[flags.indexOf(1)]!;
  });
  const follower = replicas.find((r) => r !== leader)!;
  t.is(holder(), leader.identity);

  applyDocs(ns, [
    ...exampleDocs('secrets.yaml'),
    ...exampleDocs('sinks.yaml'),
    ...exampleDocs('retention-policy.yaml'),
    ...exampleDocs('pipeline.yaml'),
  ]);
  const ready = await untilReady(ns, 'api');
  t.true(((await leader.metric('sextant_operator_reconciles_total', { kind: 'Pipeline', result: 'success' })) ?? 0) >= 1);
  t.is(
    await follower.metric('sextant_operator_reconciles_total', { kind: 'Pipeline', result: 'success' }),
    undefined,
    'the follower reconciles nothing',
  );
  t.is(await follower.metric('sextant_operator_leader'), 0);

  const killedAt = Date.now();
  await leader.kill();
  await until(
    'the follower to take over the lease',
    async () => ((await follower.metric('sextant_operator_leader')) === 1 ? true : undefined),
    60_000,
  );
  t.log(`failover after SIGKILL of the leader: ${((Date.now() - killedAt) / 1000).toFixed(1)} s (lease duration 15 s)`);
  t.is(holder(), follower.identity);
  const lease = getJson<{ spec: { leaseTransitions?: number } }>(['-n', operatorNs, 'get', 'lease', leaseName]);
  t.true((lease.spec.leaseTransitions ?? 0) >= 1);

  // The new leader reconciles: an edit rolls out.
  kubectl(['-n', ns, 'patch', 'pipeline', 'api', '--type', 'json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/processors/1' }])]);
  const after = await until('the edit to be reconciled by the new leader', () => {
    const p = pipeline(ns, 'api');
    return p.status?.observedGeneration === p.metadata.generation && p.status.configHash !== ready.status!.configHash ? p : undefined;
  });
  t.is(after.metadata.generation, ready.metadata.generation + 1);
  t.true(((await follower.metric('sextant_operator_reconciles_total', { kind: 'Pipeline', result: 'success' })) ?? 0) >= 1);

  // A graceful stop releases the lease at once (no waiting for expiry).
  t.is(await follower.stop(), 0);
  t.is(holder(), '');
});

test('a leader that finds another holder on its Lease stops leading and exits 1', async (t) => {
  const lease = uniqueName('sextant-operator-steal');
  const op = await startOperator(['--kubeconfig', infraVar('KUBECONFIG'), '--namespace', operatorNs, '--lease-name', lease]);
  replicas.push(op);
  await until('it to lead', async () => ((await op.metric('sextant_operator_leader')) === 1 ? true : undefined));
  const exited = new Promise<number | null>((resolve) => op.child.once('exit', (code) => resolve(code)));
  // Another candidate wins the Lease (as after a network partition): a fresh renewTime, a long duration.
  const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  kubectl([
    '-n',
    operatorNs,
    'patch',
    'lease',
    lease,
    '--type',
    'merge',
    '-p',
    JSON.stringify({ spec: { holderIdentity: 'intruder', renewTime: now, acquireTime: now, leaseDurationSeconds: 300 } }),
  ]);
  t.is(await exited, 1);
  t.regex(op.output(), /lost leadership: another replica holds the lease/);
  t.is(
    getJson<{ spec: { holderIdentity: string } }>(['-n', operatorNs, 'get', 'lease', lease]).spec.holderIdentity,
    'intruder',
    'it did not release a Lease it no longer holds',
  );
});
