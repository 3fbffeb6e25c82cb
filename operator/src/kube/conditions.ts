/**
 * metav1.Condition bookkeeping (docs/architecture.md §6): lastTransitionTime changes only when a
 * condition's status changes; reason, message and observedGeneration follow the latest
 * reconcile. The transitions are returned so the controller can emit one Event for each.
 */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export type DesiredCondition = Omit<Condition, 'lastTransitionTime'>;

export interface Transition {
  type: string;
  from: ConditionStatus | undefined;
  to: ConditionStatus;
  reason: string;
  message: string;
}

/** The k8s wire format of a time: RFC 3339 with second precision. */
export function conditionTime(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function mergeConditions(
  existing: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  now: Date,
): { conditions: Condition[]; transitions: Transition[] } {
  const previous = new Map((existing ?? []).map((c) => [c.type, c]));
  const transitions: Transition[] = [];
  const conditions = desired.map((d): Condition => {
    const old = previous.get(d.type);
    if (old && old.status === d.status) return { ...d, lastTransitionTime: old.lastTransitionTime };
    transitions.push({ type: d.type, from: old?.status, to: d.status, reason: d.reason, message: d.message });
    return { ...d, lastTransitionTime: conditionTime(now) };
  });
  return { conditions, transitions };
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
