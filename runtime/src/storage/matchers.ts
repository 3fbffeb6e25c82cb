/** Label matcher evaluation shared by every backend that matches label sets in memory. */
import type { Labels } from '../model/types.js';
import type { LabelMatcher, LineFilter } from './reader.js';

export type CompiledMatcher = (labels: Labels) => boolean;

/**
 * Compiles matchers with Prometheus semantics: regexes are fully anchored, and a missing
 * label has the value "" (so `{a=""}` matches sets without `a`, and `{a!=""}` requires it).
 * Throws a SyntaxError naming the matcher when a regex does not compile.
 */
export function compileMatchers(matchers: readonly LabelMatcher[]): CompiledMatcher {
  const tests = matchers.map((m): CompiledMatcher => {
    switch (m.op) {
      case '=':
        return (labels) => (labels[m.name] ?? '') === m.value;
      case '!=':
        return (labels) => (labels[m.name] ?? '') !== m.value;
      case '=~': {
        const re = anchored(m);
        return (labels) => re.test(labels[m.name] ?? '');
      }
      case '!~': {
        const re = anchored(m);
        return (labels) => !re.test(labels[m.name] ?? '');
      }
    }
  });
  return (labels) => tests.every((test) => test(labels));
}

function anchored(m: LabelMatcher): RegExp {
  try {
    return new RegExp(`^(?:${m.value})$`, 's');
  } catch (error) {
    throw new SyntaxError(`invalid regular expression in matcher ${m.name}${m.op}"${m.value}": ${(error as Error).message}`);
  }
}

/** LogQL line filters: `|=`/`!=` are case-sensitive substring tests, `|~`/`!~` unanchored regexes. */
export function compileLineFilters(filters: readonly LineFilter[]): (line: string) => boolean {
  const tests = filters.map((f): ((line: string) => boolean) => {
    switch (f.op) {
      case '|=':
        return (line) => line.includes(f.value);
      case '!=':
        return (line) => !line.includes(f.value);
      case '|~': {
        const re = new RegExp(f.value);
        return (line) => re.test(line);
      }
      case '!~': {
        const re = new RegExp(f.value);
        return (line) => !re.test(line);
      }
    }
  });
  return (line) => tests.every((t) => t(line));
}
