/**
 * LogQL's regexes (line filters, the regexp parser, label filters, drop/keep matchers,
 * template functions, label_replace) are RE2, as in Loki: common/regex.ts. A pattern RE2
 * refuses is a bad_data error that names the pattern and the construct it sits in (`where`,
 * e.g. `line filter |~`), so a user with a long query sees which regex is wrong.
 */
import { compileRegex as compileRe2, RegexError, type Regex } from '../../common/regex.js';
import { badData } from '../promql/errors.js';

export function compileRegex(pattern: string, options: { anchored: boolean; where: string }): Regex {
  try {
    return compileRe2(pattern, options);
  } catch (error) {
    if (error instanceof RegexError)
      throw badData(`invalid regular expression in ${options.where} ${JSON.stringify(pattern)}: ${error.reason}`);
    throw error;
  }
}
