/**
 * Which pods a route or a multiline rule applies to: namespaces, pod names and a
 * Kubernetes label selector (matchLabels + matchExpressions, the semantics of
 * metav1.LabelSelector: every requirement must hold).
 */
import { compileRegex, type Regex } from '../../runtime/src/common/index.js';
import * as t from 'io-ts';

export const LabelSelectorConfig = t.exact(
  t.partial({
    matchLabels: t.record(t.string, t.string),
    matchExpressions: t.array(
      t.exact(
        t.intersection([
          t.type({ key: t.string, operator: t.keyof({ In: null, NotIn: null, Exists: null, DoesNotExist: null }) }),
          t.partial({ values: t.array(t.string) }),
        ]),
      ),
    ),
  }),
  'LabelSelector',
);
export type LabelSelectorConfig = t.TypeOf<typeof LabelSelectorConfig>;

/** The selector fields shared by routes and multiline rules (all optional; empty = every pod). */
export const PodMatchConfig = {
  /** Namespaces; empty or absent means all. */
  namespaces: t.array(t.string),
  /** Pod name patterns (anchored regular expressions); absent means all. */
  pods: t.array(t.string),
  podSelector: LabelSelectorConfig,
  /** Container names; absent means all. */
  containers: t.array(t.string),
};

export interface PodRef {
  namespace: string;
  pod: string;
  /** Undefined for what belongs to the whole pod (its scraped metrics): a container list then does not restrict. */
  container: string | undefined;
  labels: Record<string, string>;
}

export interface PodMatcher {
  matches(ref: PodRef): boolean;
  /** True when the match depends on pod labels (so it needs the Kubernetes watch). */
  readonly usesLabels: boolean;
}

export function compilePodMatch(
  spec: { namespaces?: string[]; pods?: string[]; podSelector?: LabelSelectorConfig; containers?: string[] },
  path: string,
  errors: string[],
): PodMatcher {
  const namespaces = spec.namespaces && spec.namespaces.length > 0 ? new Set(spec.namespaces) : undefined;
  const containers = spec.containers && spec.containers.length > 0 ? new Set(spec.containers) : undefined;
  const pods: Regex[] = [];
  (spec.pods ?? []).forEach((pattern, i) => {
    try {
      pods.push(compileRegex(pattern, { anchored: true })); // RE2, fully anchored
    } catch (error) {
      errors.push(`${path}.pods[${i}]: ${(error as Error).message}`);
    }
  });
  const selector = spec.podSelector;
  (selector?.matchExpressions ?? []).forEach((e, i) => {
    const n = e.values?.length ?? 0;
    if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) {
      errors.push(`${path}.podSelector.matchExpressions[${i}].values: must be non-empty for ${e.operator}`);
    }
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) {
      errors.push(`${path}.podSelector.matchExpressions[${i}].values: must be empty for ${e.operator}`);
    }
  });
  const usesLabels = Object.keys(selector?.matchLabels ?? {}).length > 0 || (selector?.matchExpressions ?? []).length > 0;
  return {
    usesLabels,
    matches(ref) {
      if (namespaces && !namespaces.has(ref.namespace)) return false;
      if (containers && ref.container !== undefined && !containers.has(ref.container)) return false;
      if (pods.length > 0 && !pods.some((re) => re.test(ref.pod))) return false;
      return selector ? matchesSelector(selector, ref.labels) : true;
    },
  };
}

export function matchesSelector(selector: LabelSelectorConfig, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(value!)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(value!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}
