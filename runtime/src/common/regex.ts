/**
 * The one place a user's regular expression is compiled: PromQL and LogQL matchers and line
 * filters, the processor's conditions, parse and redact stages, and the agent's selectors.
 *
 * Prometheus and Loki evaluate regexes with Go's RE2, so Sextant uses re2js (a port of RE2/J):
 * the same syntax (`(?i)`, `[[:digit:]]`, `\p{Han}`, `\Q…\E`, `(?P<name>…)`) and matching in
 * time linear in the input, so no pattern can stall the process the way `(a+)+b` stalls
 * JavaScript's backtracking engine. Backreferences and lookarounds are refused, as RE2 does.
 */
import { RE2JS, RE2JSException } from 're2js';

export interface RegexOptions {
  /** True: the whole input must match (Prometheus label matchers). False: any substring (line filters). */
  anchored: boolean;
  /** `.` also matches `\n` (Prometheus 3 label matchers compile with `(?s)`). */
  dotAll?: boolean;
}

export interface Regex {
  readonly source: string;
  /** Whether the input matches: all of it when anchored, any part of it otherwise. */
  test(text: string): boolean;
  /** Named groups of the first (unanchored) match, or undefined when nothing matches. */
  groups(text: string): Record<string, string | undefined> | undefined;
  /** The names of the named capture groups, in pattern order. */
  readonly groupNames: readonly string[];
  /**
   * Replaces every non-overlapping match with the value of `replace(match, groups)`; `groups()`
   * gives that match's capture groups (for Go's `$1`/`${name}` templates, see `expand`).
   */
  replaceAll(text: string, replace: (match: string, groups: () => WholeMatch) => string): string;
  /** How many non-overlapping matches the input holds. */
  count(text: string): number;
  /** The groups of a match of the whole input (index 0 is the input), or undefined (label_replace). */
  matchWhole(text: string): WholeMatch | undefined;
}

export interface WholeMatch {
  indexed: (string | undefined)[];
  named: Record<string, string | undefined>;
}

/** A pattern that is not valid RE2 syntax; the message names the pattern. */
export class RegexError extends SyntaxError {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`invalid regular expression ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'RegexError';
  }
}

const HINT = 'RE2 syntax; backreferences and lookaround assertions are unsupported';

export function compileRegex(pattern: string, options: RegexOptions): Regex {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, options.dotAll ? RE2JS.DOTALL : 0);
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    // RE2 quotes the offending part; drop it when that is the whole pattern, already named.
    const reason = error.message.replace(/^error parsing regexp: /, '').replace(`: \`${pattern}\``, '');
    throw new RegexError(pattern, `${reason} (${HINT})`);
  }
  const names = Object.entries(re.namedGroups())
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name);
  return {
    source: pattern,
    test: literalTest(pattern, options.anchored) ?? (options.anchored ? (text) => re.matches(text) : (text) => re.test(text)),
    groupNames: names,
    groups(text) {
      const m = re.matcher(text);
      if (!m.find()) return undefined;
      const out: Record<string, string | undefined> = {};
      for (const name of names) out[name] = m.group(name) ?? undefined;
      return out;
    },
    matchWhole(text) {
      const m = re.matcher(text);
      return m.matches() ? groupsOf(m, names) : undefined;
    },
    replaceAll(text, replace) {
      const m = re.matcher(text);
      const groups = (): WholeMatch => groupsOf(m, names);
      let out = '';
      let pos = 0;
      while (m.find()) {
        out += text.slice(pos, m.start()) + replace(text.slice(m.start(), m.end()), groups);
        pos = m.end();
      }
      return pos === 0 && out === '' ? text : out + text.slice(pos);
    },
    count(text) {
      const m = re.matcher(text);
      let n = 0;
      while (m.find()) n++;
      return n;
    },
  };
}

type Matcher = ReturnType<RE2JS['matcher']>;

function groupsOf(m: Matcher, names: readonly string[]): WholeMatch {
  const indexed: (string | undefined)[] = [];
  for (let i = 0; i <= m.groupCount(); i++) indexed.push(m.group(i) ?? undefined);
  const named: Record<string, string | undefined> = {};
  for (const name of names) named[name] = m.group(name) ?? undefined;
  return { indexed, named };
}

/**
 * Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}` take a group's text (empty when it did
 * not take part or does not exist), `$$` is a dollar; a `$` not followed by a name is kept.
 * Prometheus' label_replace and Loki's label_replace and regexReplaceAll use it.
 */
export function expand(template: string, match: WholeMatch): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '$' || i === template.length - 1) {
      out += c;
      continue;
    }
    const next = template[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    let end: number;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close < 0 || !/^[A-Za-z0-9_]+$/.test(inner)) {
        out += c;
        continue;
      }
      name = inner;
      end = close;
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (!m) {
        out += c;
        continue;
      }
      name = m[0];
      end = i + m[0].length;
    }
    if (/^\d+$/.test(name)) out += match.indexed[Number(name)] ?? '';
    else out += match.named[name] ?? '';
    i = end;
  }
  return out;
}

/** Characters that mean themselves in RE2 (no metacharacter, no case folding flag). */
const LITERAL_ALTERNATIVES = /^\(?(?:[A-Za-z0-9_ :/,=@%'"-]+)(?:\|[A-Za-z0-9_ :/,=@%'"-]+)*\)?$/;

/**
 * Like Prometheus' FastRegexMatcher: an alternation of plain literals (`a|b|c`, or `(a|b|c)`
 * as Grafana writes a multi-value variable) is a set lookup or substring tests, not an
 * automaton run. Same answers; the bench (test/bench/regex.ts) shows the difference.
 */
function literalTest(pattern: string, anchored: boolean): ((text: string) => boolean) | undefined {
  if (!LITERAL_ALTERNATIVES.test(pattern)) return undefined;
  const open = pattern.startsWith('(');
  if (open !== pattern.endsWith(')')) return undefined;
  const words = (open ? pattern.slice(1, -1) : pattern).split('|');
  if (anchored) {
    const set = new Set(words);
    return (text) => set.has(text);
  }
  return (text) => words.some((w) => text.includes(w));
}

/** Why `pattern` is not a valid RE2 regex, or undefined (for config validation). */
export function regexProblem(pattern: string): string | undefined {
  try {
    compileRegex(pattern, { anchored: false });
    return undefined;
  } catch (error) {
    if (error instanceof RegexError) return error.message;
    throw error;
  }
}
