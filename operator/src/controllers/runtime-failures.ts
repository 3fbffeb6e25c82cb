/**
 * Why a runtime's pods are not ready, from what the kubelet and the scheduler wrote in their
 * status, so a Pipeline says `ImageNotFound` or `ConfigError: couldn't find key …` instead of
 * a bare `RuntimesNotReady`. Each rule reads one pod; the first rule that recognises a pod
 * names the failure. Pods only waiting to start or to become ready match no rule.
 *
 * The runtimes exit with code 2 on a configuration they refuse (runtime/src/cli/runtime.ts),
 * and their containers use terminationMessagePolicy FallbackToLogsOnError, so the last
 * thing they wrote (the refused keys) is the terminated state's message.
 */
import type * as k8s from '@kubernetes/client-node';

export type RuntimeFailureReason = 'ImageNotFound' | 'ConfigError' | 'RuntimeCrashLoop' | 'Unschedulable';

export interface RuntimeFailure {
  reason: RuntimeFailureReason;
  /** What the pod says, for the condition message (without the component). */
  message: string;
}

/** The exit code of a runtime that refused its configuration. */
export const CONFIG_ERROR_EXIT_CODE = 2;
/** Condition messages stay readable: the status of 50 Pipelines is listed at once. */
const MAX_MESSAGE = 600;

type Rule = (pod: k8s.V1Pod, container: k8s.V1ContainerStatus | undefined) => RuntimeFailure | undefined;

const IMAGE_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG_WAITING = new Set(['CreateContainerConfigError', 'CreateContainerError']);

function waiting(container: k8s.V1ContainerStatus | undefined): k8s.V1ContainerStateWaiting | undefined {
  return container?.state?.waiting;
}

/**
 * The failed exit of a container that is not ready: its current state or, waiting in back-off
 * or started again but not ready yet, the last one (so the reason holds through a crash
 * loop's restarts instead of flapping). A container ready again is not failing.
 */
function lastExit(container: k8s.V1ContainerStatus | undefined): k8s.V1ContainerStateTerminated | undefined {
  if (!container || container.ready) return undefined;
  const exit = container.state?.terminated ?? container.lastState?.terminated;
  return exit && exit.exitCode !== 0 ? exit : undefined;
}

function exitText(exit: k8s.V1ContainerStateTerminated): string {
  return (exit.message ?? '').trim() || exit.reason || 'no message';
}

const RULES: Rule[] = [
  (pod) => {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    return scheduled?.status === 'False' && scheduled.reason === 'Unschedulable'
      ? { reason: 'Unschedulable', message: scheduled.message ?? 'no node fits the pod' }
      : undefined;
  },
  (pod, container) => {
    const w = waiting(container);
    return w?.reason && IMAGE_WAITING.has(w.reason)
      ? { reason: 'ImageNotFound', message: `${w.reason} ${container?.image ?? ''}: ${w.message ?? ''}`.trim() }
      : undefined;
  },
  (pod, container) => {
    const w = waiting(container);
    return w?.reason && CONFIG_WAITING.has(w.reason) ? { reason: 'ConfigError', message: `${w.reason}: ${w.message ?? ''}` } : undefined;
  },
  (pod, container) => {
    const exit = lastExit(container);
    return exit?.exitCode === CONFIG_ERROR_EXIT_CODE ? { reason: 'ConfigError', message: exitText(exit) } : undefined;
  },
  (pod, container) => {
    const exit = lastExit(container);
    if (!exit) return undefined;
    return {
      reason: 'RuntimeCrashLoop',
      message: `exit code ${exit.exitCode} after ${container?.restartCount ?? 0} restarts: ${exitText(exit)}`,
    };
  },
];

function clip(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`;
}

/** The failure of the first pod (in name order, so the answer is stable) that a rule recognises. */
export function diagnosePods(pods: readonly k8s.V1Pod[], containerName: string): RuntimeFailure | undefined {
  const sorted = [...pods].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const pod of sorted) {
    if (pod.metadata?.deletionTimestamp) continue;
    const container = pod.status?.containerStatuses?.find((c) => c.name === containerName);
    for (const rule of RULES) {
      const failure = rule(pod, container);
      if (failure) return { reason: failure.reason, message: clip(`pod ${pod.metadata?.name}: ${failure.message}`) };
    }
  }
  return undefined;
}
