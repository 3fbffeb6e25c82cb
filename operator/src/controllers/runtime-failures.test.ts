import test from 'ava';
import type * as k8s from '@kubernetes/client-node';
import { CONFIG_ERROR_EXIT_CODE, diagnosePods } from './runtime-failures.js';

function pod(name: string, container: Partial<k8s.V1ContainerStatus> | undefined, conditions: k8s.V1PodCondition[] = []): k8s.V1Pod {
  return {
    metadata: { name },
    status: {
      conditions,
      containerStatuses: container
        ? [{ name: 'processor', image: 'sextant:dev', imageID: '', ready: false, restartCount: 0, ...container }]
        : undefined,
    },
  };
}

test('a missing Secret key (the kubelet cannot build the container) is a ConfigError naming it', (t) => {
  const message = "couldn't find key api-keys in Secret team-a/ingest-keys";
  t.deepEqual(diagnosePods([pod('p-1', { state: { waiting: { reason: 'CreateContainerConfigError', message } } })], 'processor'), {
    reason: 'ConfigError',
    message: `pod p-1: CreateContainerConfigError: ${message}`,
  });
});

test('an image that cannot be pulled is ImageNotFound, in both pull phases', (t) => {
  for (const reason of ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']) {
    const failure = diagnosePods(
      [pod('p-1', { image: 'sextant:nope', state: { waiting: { reason, message: 'not found' } } })],
      'processor',
    );
    t.is(failure?.reason, 'ImageNotFound', reason);
    t.regex(failure!.message, /sextant:nope: not found/);
  }
});

test('a runtime refusing its config (exit 2) is a ConfigError carrying its last words; other exits are RuntimeCrashLoop', (t) => {
  const refused = {
    restartCount: 3,
    state: { waiting: { reason: 'CrashLoopBackOff' } },
    lastState: {
      terminated: { exitCode: CONFIG_ERROR_EXIT_CODE, message: 'sextant processor: config.yaml: sinks.opensearch.endpoints: required\n' },
    },
  };
  t.deepEqual(diagnosePods([pod('p-1', refused)], 'processor'), {
    reason: 'ConfigError',
    message: 'pod p-1: sextant processor: config.yaml: sinks.opensearch.endpoints: required',
  });
  const crashed = {
    restartCount: 4,
    state: { waiting: { reason: 'CrashLoopBackOff' } },
    lastState: { terminated: { exitCode: 1, reason: 'Error' } },
  };
  t.deepEqual(diagnosePods([pod('p-1', crashed)], 'processor'), {
    reason: 'RuntimeCrashLoop',
    message: 'pod p-1: exit code 1 after 4 restarts: Error',
  });
  // Started again after the crash, not ready yet: still the crash, so the status does not flap each restart.
  const restarted = { restartCount: 4, state: { running: {} }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } };
  t.is(diagnosePods([pod('p-1', restarted)], 'processor')?.reason, 'RuntimeCrashLoop');
  // Just exited, not yet restarted.
  t.is(
    diagnosePods([pod('p-1', { state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } })], 'processor')?.reason,
    'RuntimeCrashLoop',
  );
});

test('an unschedulable pod says why the scheduler refused it', (t) => {
  const condition = {
    type: 'PodScheduled',
    status: 'False',
    reason: 'Unschedulable',
    message: '0/3 nodes are available: 3 Insufficient memory.',
  };
  t.deepEqual(diagnosePods([pod('p-1', undefined, [condition])], 'processor'), {
    reason: 'Unschedulable',
    message: 'pod p-1: 0/3 nodes are available: 3 Insufficient memory.',
  });
});

test('pods starting, running again after a failure, or being deleted are no failure', (t) => {
  const starting = pod('a', { state: { waiting: { reason: 'ContainerCreating' } } });
  const recovered = pod('b', {
    restartCount: 1,
    ready: true,
    state: { running: {} },
    lastState: { terminated: { exitCode: 2, message: 'old' } },
  });
  const clean = pod('c', { state: { terminated: { exitCode: 0, reason: 'Completed' } } });
  const going = {
    ...pod('d', { state: { waiting: { reason: 'ImagePullBackOff' } } }),
    metadata: { name: 'd', deletionTimestamp: new Date() },
  };
  const otherContainer = pod('e', { name: 'sidecar', state: { waiting: { reason: 'ImagePullBackOff' } } });
  t.is(diagnosePods([starting, recovered, clean, going, otherContainer], 'processor'), undefined);
  t.is(diagnosePods([], 'processor'), undefined);
});

test('the first failing pod by name is reported, so the status does not flap between pods; long messages are cut', (t) => {
  const crash = (name: string, message: string) =>
    pod(name, { state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, message } } });
  t.regex(diagnosePods([crash('p-b', 'second'), crash('p-a', 'first')], 'processor')!.message, /^pod p-a: .*first$/);
  const long = diagnosePods([crash('p-a', 'x'.repeat(5000))], 'processor')!.message;
  t.true(long.length <= 600);
  t.true(long.endsWith('…'));
});
