/** Label matcher evaluation shared by every backend that matches label sets in memory. */
import { compileRegex, RegexError, type Regex } from '../common/regex.js';
import type { Labels } from '../model/types.js';
import type { LabelMatcher, LineFilter } from './reader.js';

export type CompiledMatcher = (labels: Labels) => boolean;

/**
 * Compiles matchers with Prometheus semantics: regexes are fully anchored, and a missing
 * label has the value "" (so `{a=""}` matches sets without `a`, and `{a!=""}` requires it).
 * Regexes are RE2 (common/regex.ts). Throws a SyntaxError naming the matcher when a regex
 * does not compile.
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

function anchored(m: LabelMatcher): Regex {
  try {
    return compileRegex(m.value, { anchored: true, dotAll: true });
  } catch (error) {
    if (!(error instanceof RegexError)) throw error;
    throw new SyntaxError(`invalid regular expression in matcher ${m.name}${m.op}${JSON.stringify(m.value)}: ${error.reason}`);
  }
}

/** Whether a matcher's regex matches the empty string (a missing label). */
export function regexMatchesEmpty(value: string): boolean {
  return compileRegex(value, { anchored: true, dotAll: true }).test('');
}

function lineRegex(f: LineFilter): Regex {
  try {
    return compileRegex(f.value, { anchored: false });
  } catch (error) {
    if (!(error instanceof RegexError)) throw error;
    throw new SyntaxError(`invalid regular expression in line filter ${f.op} ${JSON.stringify(f.value)}: ${error.reason}`);
  }
}

/** LogQL line filters: `|=`/`!=` are case-sensitive substring tests, `|~`/`!~` unanchored RE2 regexes. */
export function compileLineFilters(filters: readonly LineFilter[]): (line: string) => boolean {
  const tests = filters.map((f): ((line: string) => boolean) => {
    switch (f.op) {
      case '|=':
        return (line) => line.includes(f.value);
      case '!=':
        return (line) => !line.includes(f.value);
      case '|~': {
        const re = lineRegex(f);
        return (line) => re.test(line);
      }
      case '!~': {
        const re = lineRegex(f);
        return (line) => !re.test(line);
      }
    }
  });
  return (line) => tests.every((t) => t(line));
}
