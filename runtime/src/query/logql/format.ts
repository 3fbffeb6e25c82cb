/**
 * `format_query`: a LogQL query with canonical spacing, rebuilt from the lezer tree's tokens
 * (the package's own formatLokiQuery is declared but not shipped in its build). Tokens are
 * joined by one space, except inside brackets, before commas, and around the operators of
 * label matchers (`app="api"`).
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@grafana/lezer-logql';

const GROUPING_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const TIGHT_PARENTS = new Set(['Matcher', 'Range', 'ConvOp', 'LabelFormatMatcher', 'LabelExtractionExpression']);

export function formatLogQL(query: string): string {
  const tokens: { text: string; parent: string; at: number }[] = [];
  const walk = (node: SyntaxNode): void => {
    if (!node.firstChild) {
      if (node.to > node.from)
        tokens.push({ text: query.slice(node.from, node.to), parent: node.parent?.name ?? '', at: node.parent?.from ?? -1 });
      return;
    }
    let prev = node.from;
    for (let c: SyntaxNode | null = node.firstChild; c; c = c.nextSibling) {
      // Punctuation is not in the tree: keep what lies between children.
      const gap = query.slice(prev, c.from).trim();
      if (gap) for (const ch of gap.replace(/\s+/g, '')) tokens.push({ text: ch, parent: node.name, at: node.from });
      walk(c);
      prev = c.to;
    }
    const tail = query.slice(prev, node.to).trim();
    if (tail) for (const ch of tail.replace(/\s+/g, '')) tokens.push({ text: ch, parent: node.name, at: node.from });
  };
  walk(parser.parse(query).topNode);
  let out = '';
  tokens.forEach((tok, i) => {
    const prev = tokens[i - 1];
    if (prev) {
      const tight =
        ['{', '(', '['].includes(prev.text) ||
        ['}', ')', ']', ','].includes(tok.text) ||
        (tok.text === '(' && /^[a-z_]+$/.test(prev.text) && !GROUPING_WORDS.has(prev.text)) ||
        (TIGHT_PARENTS.has(tok.parent) && tok.parent === prev.parent && tok.at === prev.at);
      if (!tight) out += ' ';
    }
    out += tok.text;
  });
  return out;
}
