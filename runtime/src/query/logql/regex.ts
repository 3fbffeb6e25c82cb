/**
 * The one place LogQL builds a regular expression (line filters, regexp parser, label
 * filters, drop/keep matchers, template functions, label_replace). Go's RE2 syntax is mapped
 * onto JavaScript's: `(?P<name>…)` groups, and leading `(?i)`/`(?s)`/`(?m)` flags. Another
 * change brings a real RE2 engine; it replaces this function's body only.
 */
import { badData } from '../promql/errors.js';

export interface RegexOptions {
  /** Match the whole string (label matchers), not a substring (line filters). */
  anchored?: boolean;
  /** Global flag, for replace-all functions. */
  global?: boolean;
}

const LEADING_FLAGS = /^\(\?([imsU]+)\)/;

export function compileRegex(pattern: string, options: RegexOptions = {}): RegExp {
  let source = pattern;
  let flags = options.global ? 'g' : '';
  const leading = LEADING_FLAGS.exec(source);
  if (leading) {
    for (const f of leading[1]!) {
      if (f === 'U') throw badData(`unsupported regular expression flag (?U) in ${JSON.stringify(pattern)}`);
      if (!flags.includes(f)) flags += f;
    }
    source = source.slice(leading[0].length);
  }
  if (/\(\?[imsU-]+[:)]/.test(source)) {
    throw badData(
      `unsupported regular expression: flags inside the pattern in ${JSON.stringify(pattern)}; put them at the start, e.g. (?i)`,
    );
  }
  source = source
    .replace(/\(\?P</g, '(?<')
    .replace(/\\z/g, '(?![\\s\\S])')
    .replace(/\\A/g, '(?<![\\s\\S])');
  if (options.anchored) source = `^(?:${source})$`;
  try {
    return new RegExp(source, flags + 'u');
  } catch {
    try {
      return new RegExp(source, flags);
    } catch (error) {
      throw badData(`invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`);
    }
  }
}
