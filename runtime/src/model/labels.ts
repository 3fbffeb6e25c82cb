/** Prometheus naming rules, shared by log stream labels and metric series labels. */
import type { Labels } from './types.js';
import type { Limits } from './limits.js';

/** A Prometheus label name as regex source, unanchored, for patterns that embed one. */
export const LABEL_NAME_SYNTAX = '[a-zA-Z_][a-zA-Z0-9_]*';
/** The one label-name check of the runtime, the query engines and the CRD schema. */
export const LABEL_NAME = new RegExp(`^${LABEL_NAME_SYNTAX}$`);
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Checks a label set against the naming rules and limits. Returns one message per problem,
 * each prefixed with `path` (e.g. `entries[3].labels`).
 */
export function checkLabels(labels: Labels, limits: Limits, path: string, errors: string[]): void {
  let count = 0;
  for (const name in labels) {
    count++;
    if (count > limits.maxLabels) continue;
    const value = labels[name]!;
    if (name.length > limits.maxLabelNameLength) {
      errors.push(
        `${path}: label name "${name.slice(0, 40)}..." is ${name.length} characters, over the limit of ${limits.maxLabelNameLength}`,
      );
    } else if (!LABEL_NAME.test(name)) {
      errors.push(`${path}.${name}: invalid label name "${name}": must match ${LABEL_NAME.source}`);
    } else if (name.startsWith('__')) {
      errors.push(`${path}.${name}: label names starting with "__" are reserved`);
    }
    if (value.length > limits.maxLabelValueLength) {
      errors.push(`${path}.${name}: label value is ${value.length} characters, over the limit of ${limits.maxLabelValueLength}`);
    }
  }
  if (count > limits.maxLabels) {
    errors.push(`${path}: ${count} labels, over the limit of ${limits.maxLabels}`);
  }
}

/** Canonical text of a label set: names sorted, so equal sets give equal text. */
export function canonicalLabels(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let text = '';
  for (const name of names) text += `${name}\u0000${labels[name]}\u0001`;
  return text;
}

/** A copy with the names in sorted order (stable JSON for storage and replies). */
export function sortedLabels(labels: Labels): Labels {
  const out: Labels = {};
  for (const name of Object.keys(labels).sort()) out[name] = labels[name]!;
  return out;
}
