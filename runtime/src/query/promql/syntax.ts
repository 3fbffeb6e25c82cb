/** Helpers for walking lezer trees (shared by the PromQL and LogQL parsers). */
import type { SyntaxNode, Tree } from '@lezer/common';
import { badData } from './errors.js';

export function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

export function child(node: SyntaxNode, name: string): SyntaxNode | null {
  return node.getChild(name);
}

/** Line and column (1-based) of an offset, as Prometheus reports parse errors. */
export function position(query: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < query.length; i++) {
    if (query[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return `${line}:${offset - lineStart + 1}`;
}

/**
 * Throws a bad_data error at the first error node of the tree, in Prometheus' format
 * `1:7: parse error: unexpected …`.
 */
export function assertNoSyntaxError(tree: Tree, query: string): void {
  let error: { from: number; to: number } | undefined;
  tree.iterate({
    enter(node) {
      if (error) return false;
      if (node.type.isError) {
        error = { from: node.from, to: node.to };
        return false;
      }
      return undefined;
    },
  });
  if (!error) return;
  const rest = query.slice(error.from).trimStart();
  const at = query.length - rest.length;
  const token = rest.split(/\s/)[0]!.slice(0, 40);
  const what = rest === '' ? 'end of input' : `"${token}"`;
  throw badData(`${position(query, at)}: parse error: unexpected ${what}`);
}
