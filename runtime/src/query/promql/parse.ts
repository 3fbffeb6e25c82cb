/**
 * PromQL text → Sextant's AST. The official lezer grammar (@prometheus-io/lezer-promql) does
 * the syntax; this walk builds our small AST, type-checks it the way Prometheus' parser does,
 * and rejects — naming the construct — everything outside the subset the evaluator implements.
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { parseDuration } from '../../common/duration.js';
import type { LabelMatcher, MatchOp } from '../../storage/reader.js';
import { compileMatchers } from '../../storage/matchers.js';
import {
  AGGREGATE_PARAMS,
  describeType,
  isComparison,
  isSetOp,
  typeOf,
  type AggregateOp,
  type AtModifier,
  type BinaryOp,
  type Expr,
  type VectorMatching,
  type VectorSelector,
} from './ast.js';
import { FUNCTIONS } from './functions.js';
import { badData, unsupported } from './errors.js';
import { parseFloatStrict, parseSecondsOrDuration, unquote } from './lexical.js';
import { assertNoSyntaxError, children } from './syntax.js';

const BINARY_OPS: Record<string, BinaryOp> = {
  Add: '+',
  Sub: '-',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Pow: '^',
  Atan2: 'atan2',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

const MATCH_OPS: Record<string, MatchOp> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

const AGGREGATE_OPS: readonly AggregateOp[] = [
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
];

/**
 * A modifier (`offset`, `@`) waiting for the selector it binds to. The grammar attaches a
 * modifier written after `a / b` to the whole binary expression; Prometheus binds it to the
 * rightmost operand, so the builder carries it down to that operand.
 */
type Modifier = (expr: Expr) => Expr;

/** Parses a PromQL expression; throws QueryError (bad_data) for syntax errors and unsupported constructs. */
export function parsePromQL(query: string): Expr {
  if (query.trim() === '') throw badData('1:1: parse error: no expression found in input');
  const tree = parser.parse(query);
  assertNoSyntaxError(tree, query);
  const top = tree.topNode.firstChild;
  if (!top) throw badData('1:1: parse error: no expression found in input');
  return new Builder(query).expr(top);
}

/**
 * Parses a series selector as used by `match[]` (/api/v1/series, /labels, …): it must be a
 * plain instant vector selector.
 */
export function parseSeriesSelector(text: string): LabelMatcher[] {
  const expr = parsePromQL(text);
  if (expr.type !== 'vectorSelector' || expr.offsetMs !== 0) {
    throw badData(`${JSON.stringify(text)} is not a series selector such as {job="api"}`);
  }
  return expr.matchers;
}

class Builder {
  constructor(private readonly query: string) {}

  private text(node: SyntaxNode): string {
    return this.query.slice(node.from, node.to);
  }

  expr(node: SyntaxNode, modifier?: Modifier): Expr {
    switch (node.name) {
      case 'UnaryExpr':
        return this.unary(node, modifier);
      case 'BinaryExpr':
        return this.binary(node, modifier);
      case 'OffsetExpr':
        return this.offset(node, modifier);
      case 'StepInvariantExpr':
        return this.at(node, modifier);
    }
    const expr = this.primary(node);
    return modifier ? modifier(expr) : expr;
  }

  private primary(node: SyntaxNode): Expr {
    switch (node.name) {
      case 'NumberDurationLiteral':
        return { type: 'number', value: this.number(node) };
      case 'StringLiteral':
        return { type: 'string', value: unquote(this.text(node)) };
      case 'ParenExpr':
        return this.expr(this.only(node));
      case 'VectorSelector':
        return this.vectorSelector(node);
      case 'MatrixSelector':
        return this.matrixSelector(node);
      case 'FunctionCall':
        return this.call(node);
      case 'AggregateExpr':
        return this.aggregate(node);
      case 'SubqueryExpr':
        return this.subquery(node);
      case 'AnchoredExpr':
        throw unsupported('anchored modifier');
      case 'SmoothedExpr':
        throw unsupported('smoothed modifier');
      default:
        throw unsupported(`expression ${this.text(node)} (${node.name})`);
    }
  }

  private only(node: SyntaxNode): SyntaxNode {
    const inner = node.firstChild;
    if (!inner) throw badData(`parse error: empty ${node.name}`);
    return inner;
  }

  private number(node: SyntaxNode): number {
    const text = this.text(node);
    let body = text;
    let sign = 1;
    if (body.startsWith('+') || body.startsWith('-')) {
      sign = body[0] === '-' ? -1 : 1;
      body = body.slice(1);
    }
    const lower = body.toLowerCase();
    if (lower === 'inf' || lower === 'infinity') return sign * Infinity;
    if (lower === 'nan') return NaN;
    if (/^0x[0-9a-f]+$/.test(lower)) return sign * parseInt(lower.slice(2), 16);
    const float = parseFloatStrict(body);
    if (float !== undefined) return sign * float;
    // A duration in expression context ("5m") is its number of seconds (Prometheus 3).
    const ms = parseDuration(body);
    if (ms !== undefined) return (sign * ms) / 1000;
    throw badData(`bad number or duration syntax: "${text}"`);
  }

  private unary(node: SyntaxNode, modifier?: Modifier): Expr {
    const [opNode, operand] = children(node);
    if (!opNode || !operand) throw badData(`parse error in ${this.text(node)}`);
    const op = this.text(opNode) === '-' ? '-' : '+';
    const expr = this.expr(operand, modifier);
    const type = typeOf(expr);
    if (type !== 'scalar' && type !== 'vector') {
      throw badData(`unary expression only allowed on expressions of type scalar or instant vector, got "${describeType(type)}"`);
    }
    // Fold signs into literals, as Prometheus does.
    if (expr.type === 'number') return { type: 'number', value: op === '-' ? -expr.value : expr.value };
    return { type: 'unary', op, expr };
  }

  private binary(node: SyntaxNode, modifier?: Modifier): Expr {
    const parts = children(node);
    const lhsNode = parts[0];
    const rhsNode = parts[parts.length - 1];
    const opNode = parts[1];
    if (!lhsNode || !rhsNode || !opNode || parts.length < 3) throw badData(`parse error in ${this.text(node)}`);
    const op = BINARY_OPS[opNode.name];
    if (op === undefined) throw unsupported(`binary operator ${this.text(opNode)}`);
    let returnBool = false;
    let matching: VectorMatching | undefined;
    for (const modifier of parts.slice(2, -1)) {
      if (modifier.name === 'BoolModifier') returnBool = true;
      else if (modifier.name === 'MatchingModifierClause') matching = this.matching(modifier);
      else if (modifier.name === 'FillModifier') throw unsupported('fill modifier');
      else throw unsupported(`binary modifier ${this.text(modifier)}`);
    }
    // The grammar reads "-2 ^ 2" as (-2)^2; Prometheus reads it as -(2^2).
    if (op === '^' && lhsNode.name === 'NumberDurationLiteral' && this.text(lhsNode).startsWith('-')) {
      const magnitude = -this.number(lhsNode);
      const rhs = this.expr(rhsNode, modifier);
      const inner = this.checkBinary({ type: 'binary', op, lhs: { type: 'number', value: magnitude }, rhs, returnBool }, matching);
      return inner.type === 'number' ? inner : this.negate(inner);
    }
    const lhs = this.expr(lhsNode);
    const rhs = this.expr(rhsNode, modifier);
    return this.checkBinary({ type: 'binary', op, lhs, rhs, returnBool }, matching);
  }

  private negate(expr: Expr): Expr {
    return { type: 'unary', op: '-', expr };
  }

  private checkBinary(expr: Expr & { type: 'binary' }, matching: VectorMatching | undefined): Expr {
    const { op, lhs, rhs, returnBool } = expr;
    const lt = typeOf(lhs);
    const rt = typeOf(rhs);
    if ((lt !== 'scalar' && lt !== 'vector') || (rt !== 'scalar' && rt !== 'vector')) {
      throw badData('binary expression must contain only scalar and instant vector types');
    }
    if (returnBool && !isComparison(op)) throw badData('bool modifier can only be used on comparison operators');
    if (isComparison(op) && lt === 'scalar' && rt === 'scalar' && !returnBool) {
      throw badData('comparisons between scalars must use BOOL modifier');
    }
    if (isSetOp(op) && (lt === 'scalar' || rt === 'scalar')) {
      throw badData(`set operator "${op}" not allowed in binary scalar expression`);
    }
    if (matching && (lt !== 'vector' || rt !== 'vector')) {
      throw badData('vector matching only allowed between instant vectors');
    }
    if (matching?.card && isSetOp(op)) throw badData(`no grouping allowed for "${op}" operation`);
    return matching ? { ...expr, matching } : expr;
  }

  private matching(node: SyntaxNode): VectorMatching {
    let on = false;
    let labels: string[] = [];
    let card: VectorMatching['card'];
    let include: string[] | undefined;
    for (const part of children(node)) {
      switch (part.name) {
        case 'On':
          on = true;
          break;
        case 'Ignoring':
          on = false;
          break;
        case 'GroupingLabels':
          // The first list belongs to on/ignoring, a second one to group_left/group_right.
          if (card) include = this.groupingLabels(part);
          else labels = this.groupingLabels(part);
          break;
        case 'GroupLeft':
          card = 'many-to-one';
          include = [];
          break;
        case 'GroupRight':
          card = 'one-to-many';
          include = [];
          break;
        default:
          throw unsupported(`vector matching ${this.text(node)}`);
      }
    }
    if (card && on) {
      const both = (include ?? []).find((l) => labels.includes(l));
      if (both !== undefined) throw badData(`label "${both}" must not occur in ON and GROUP clause at once`);
    }
    return card ? { on, labels, card, include } : { on, labels };
  }

  private groupingLabels(node: SyntaxNode): string[] {
    const labels: string[] = [];
    for (const part of children(node)) {
      if (part.name === 'LabelName') labels.push(this.text(part));
      else if (part.name === 'QuotedLabelName') labels.push(unquote(this.text(part)));
      else if (part.name === 'StringLiteral') labels.push(unquote(this.text(part)));
    }
    return labels;
  }

  private vectorSelector(node: SyntaxNode): VectorSelector {
    const matchers: LabelMatcher[] = [];
    let name: string | undefined;
    for (const part of children(node)) {
      if (part.name === 'Identifier' || part.name === 'MetricName') {
        name = this.text(part);
      } else if (part.name === 'LabelMatchers') {
        for (const m of children(part)) {
          if (m.name === 'QuotedLabelName') {
            // {"metric.name"} — a quoted metric name inside the braces.
            if (name !== undefined) throw badData(`metric name must not be set twice: ${JSON.stringify(name)} or ${this.text(m)}`);
            name = unquote(this.text(m));
          } else if (m.name === 'UnquotedLabelMatcher' || m.name === 'QuotedLabelMatcher') {
            matchers.push(this.labelMatcher(m));
          } else {
            throw unsupported(`label matcher ${this.text(m)}`);
          }
        }
      } else {
        throw unsupported(`vector selector part ${this.text(part)}`);
      }
    }
    if (name !== undefined) {
      if (matchers.some((m) => m.name === '__name__')) {
        throw badData(`metric name must not be set twice: ${JSON.stringify(name)} and a __name__ matcher`);
      }
      matchers.unshift({ name: '__name__', op: '=', value: name });
    }
    try {
      const matchesEmpty = matchers.map((m) => compileMatchers([m])({})).every(Boolean);
      if (matchesEmpty) throw badData('vector selector must contain at least one non-empty matcher');
    } catch (error) {
      if (error instanceof SyntaxError) throw badData(error.message);
      throw error;
    }
    return { type: 'vectorSelector', matchers, offsetMs: 0 };
  }

  private labelMatcher(node: SyntaxNode): LabelMatcher {
    const [nameNode, opNode, valueNode] = children(node);
    if (!nameNode || !opNode || !valueNode) throw badData(`parse error in label matcher ${this.text(node)}`);
    const name = nameNode.name === 'QuotedLabelName' ? unquote(this.text(nameNode)) : this.text(nameNode);
    const opName = opNode.firstChild?.name ?? '';
    const op = MATCH_OPS[opName];
    if (!op) throw unsupported(`label matcher operator ${this.text(opNode)}`);
    return { name, op, value: unquote(this.text(valueNode)) };
  }

  private duration(node: SyntaxNode): number {
    // DurationExpr / OffsetDurationExpr wrap one literal; arithmetic on durations is experimental.
    if (node.name === 'NumberDurationLiteralInDurationContext' || node.name === 'NumberDurationLiteral') {
      const text = this.text(node);
      const ms = parseSecondsOrDuration(text);
      if (ms === undefined) throw badData(`bad duration syntax: "${text}"`);
      return ms;
    }
    const parts = children(node);
    if ((node.name === 'DurationExpr' || node.name === 'OffsetDurationExpr') && parts.length === 1) {
      return this.duration(parts[0]!);
    }
    if (node.name === 'OffsetDurationExpr' && parts.length === 2 && parts[0]!.name === 'UnaryOp') {
      const value = this.duration(parts[1]!);
      return this.text(parts[0]!) === '-' ? -value : value;
    }
    throw unsupported(`duration expression ${this.text(node)}`);
  }

  private matrixSelector(node: SyntaxNode): Expr {
    const [selectorNode, durationNode] = children(node);
    if (!selectorNode || !durationNode) throw badData(`parse error in ${this.text(node)}`);
    if (selectorNode.name === 'OffsetExpr') throw badData('no offset modifiers allowed before range');
    if (selectorNode.name !== 'VectorSelector') {
      throw badData(`ranges only allowed for vector selectors, got ${this.text(selectorNode)}`);
    }
    const rangeMs = this.duration(durationNode);
    if (rangeMs <= 0) throw badData(`range must be greater than 0, got ${this.text(durationNode)}`);
    return { type: 'matrixSelector', selector: this.vectorSelector(selectorNode), rangeMs };
  }

  private offset(node: SyntaxNode, outer?: Modifier): Expr {
    const parts = children(node);
    const target = parts[0];
    const durationNode = parts[parts.length - 1];
    if (!target || !durationNode || parts.length < 3) throw badData(`parse error in ${this.text(node)}`);
    const offsetMs = this.duration(durationNode);
    const apply: Modifier = (expr) => {
      if (expr.type === 'vectorSelector') {
        if (expr.offsetMs !== 0) throw badData('offset may not be set multiple times');
        return { ...expr, offsetMs };
      }
      if (expr.type === 'matrixSelector') {
        if (expr.selector.offsetMs !== 0) throw badData('offset may not be set multiple times');
        return { ...expr, selector: { ...expr.selector, offsetMs } };
      }
      if (expr.type === 'subquery') {
        if (expr.offsetMs !== 0) throw badData('offset may not be set multiple times');
        return { ...expr, offsetMs };
      }
      throw badData('offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    };
    return this.expr(target, outer ? (e) => outer(apply(e)) : apply);
  }

  /** `@ <time>`, `@ start()`, `@ end()`. */
  private at(node: SyntaxNode, outer?: Modifier): Expr {
    const parts = children(node);
    const target = parts[0];
    const timeNode = parts[parts.length - 1];
    if (!target || !timeNode || parts.length < 3) throw badData(`parse error in ${this.text(node)}`);
    let at: AtModifier;
    if (timeNode.name === 'AtModifierPreprocessors') {
      at = timeNode.getChild('AtStart') ? 'start' : 'end';
    } else {
      const seconds = this.number(timeNode);
      if (!Number.isFinite(seconds)) throw badData(`timestamp out of bounds for @ modifier: ${seconds}`);
      at = Math.round(seconds * 1000);
    }
    const apply: Modifier = (expr) => {
      if (expr.type === 'vectorSelector') {
        if (expr.at !== undefined) throw badData('@ <timestamp> may not be set multiple times');
        return { ...expr, at };
      }
      if (expr.type === 'matrixSelector') {
        if (expr.selector.at !== undefined) throw badData('@ <timestamp> may not be set multiple times');
        return { ...expr, selector: { ...expr.selector, at } };
      }
      if (expr.type === 'subquery') {
        if (expr.at !== undefined) throw badData('@ <timestamp> may not be set multiple times');
        return { ...expr, at };
      }
      throw badData('@ modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    };
    return this.expr(target, outer ? (e) => outer(apply(e)) : apply);
  }

  private subquery(node: SyntaxNode): Expr {
    const parts = children(node);
    const inner = parts[0];
    const durations = parts.slice(1).filter((p) => p.name === 'DurationExpr');
    if (!inner || durations.length < 1 || durations.length > 2) throw badData(`parse error in ${this.text(node)}`);
    const expr = this.expr(inner);
    if (typeOf(expr) !== 'vector') {
      throw badData(`subquery is only allowed on instant vector, got ${describeType(typeOf(expr))} instead`);
    }
    const rangeMs = this.duration(durations[0]!);
    if (rangeMs <= 0) throw badData(`range must be greater than 0, got ${this.text(durations[0]!)}`);
    const stepMs = durations[1] ? this.duration(durations[1]) : 0;
    if (durations[1] && stepMs <= 0) throw badData(`step must be greater than 0, got ${this.text(durations[1])}`);
    return { type: 'subquery', expr, rangeMs, stepMs, offsetMs: 0 };
  }

  private call(node: SyntaxNode): Expr {
    const idNode = node.getChild('FunctionIdentifier');
    const body = node.getChild('FunctionCallBody');
    if (!idNode || !body) throw badData(`parse error in ${this.text(node)}`);
    const func = this.text(idNode);
    if (!Object.hasOwn(FUNCTIONS, func)) throw unsupported(`function ${func}`);
    const signature = FUNCTIONS[func]!;
    const args = children(body).map((arg) => this.expr(arg));
    const min = signature.args.length - (signature.optional ?? 0);
    const max = signature.variadic ? Infinity : signature.args.length;
    if (args.length < min || args.length > max) {
      const expected = signature.variadic ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`;
      throw badData(`expected ${expected} argument(s) in call to "${func}", got ${args.length}`);
    }
    args.forEach((arg, i) => {
      const want = signature.args[Math.min(i, signature.args.length - 1)]!;
      const got = typeOf(arg);
      if (got !== want) {
        throw badData(`expected type ${describeType(want)} in call to function "${func}", got ${describeType(got)}`);
      }
    });
    return { type: 'call', func, args, returns: signature.returns };
  }

  private aggregate(node: SyntaxNode): Expr {
    const opNode = node.getChild('AggregateOp');
    const body = node.getChild('FunctionCallBody');
    if (!opNode || !body) throw badData(`parse error in ${this.text(node)}`);
    const name = this.text(opNode);
    if (!(AGGREGATE_OPS as readonly string[]).includes(name)) throw unsupported(`aggregation ${name}`);
    const op = name as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    const modifier = node.getChild('AggregateModifier');
    if (modifier) {
      without = modifier.getChild('Without') !== null;
      const labels = modifier.getChild('GroupingLabels');
      grouping = labels ? this.groupingLabels(labels) : [];
    }
    const args = children(body).map((arg) => this.expr(arg));
    const paramType = AGGREGATE_PARAMS[op];
    const takesParam = paramType !== undefined;
    if (args.length !== (takesParam ? 2 : 1)) {
      throw badData(`wrong number of arguments for aggregate expression provided, expected ${takesParam ? 2 : 1}, got ${args.length}`);
    }
    const expr = args[args.length - 1]!;
    if (typeOf(expr) !== 'vector') {
      throw badData(`expected type instant vector in aggregation expression, got ${describeType(typeOf(expr))}`);
    }
    if (takesParam) {
      const param = args[0]!;
      if (typeOf(param) !== paramType) {
        throw badData(`expected type ${describeType(paramType)} in aggregation parameter, got ${describeType(typeOf(param))}`);
      }
      return { type: 'aggregate', op, expr, param, grouping, without };
    }
    return { type: 'aggregate', op, expr, grouping, without };
  }
}
