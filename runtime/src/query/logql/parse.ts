/**
 * LogQL text → Sextant's AST. The official lezer grammar (@grafana/lezer-logql) does the
 * syntax; this walk builds our AST and rejects, naming the construct, every parser stage,
 * label filter, formatter and function outside the subset the engine implements.
 *
 * The grammar does not encode operator precedence (`1 + 2 * 3` comes out as `(1 + 2) * 3`),
 * so chains of binary operators are flattened and re-associated with Loki's precedence.
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@grafana/lezer-logql';
import { LABEL_NAME } from '../../model/labels.js';
import type { LabelMatcher, LineFilter, LineFilterOp, MatchOp } from '../../storage/reader.js';
import { compileMatchers } from '../../storage/matchers.js';
import { isComparison, isSetOp, type BinaryOp, type VectorMatching } from '../promql/ast.js';
import { badData, unsupported } from '../promql/errors.js';
import { parseFloatStrict, parseGoDuration, unquote } from '../promql/lexical.js';
import { assertNoSyntaxError, children } from '../promql/syntax.js';
import {
  isScalar,
  LOG_RANGE_OPS,
  UNWRAP_RANGE_OPS,
  type CompareOp,
  type LogAggregateOp,
  type Unwrap,
  type JsonParam,
  type LabelFilterExpr,
  type LineMatch,
  type LogQLExpr,
  type LogSelector,
  type MetricExpr,
  type RangeAggregation,
  type RangeOp,
  type Stage,
} from './ast.js';
import { compilePipeline, parseBytes } from './pipeline.js';
import { compileRegex } from './regex.js';

const MATCH_OPS: Record<string, MatchOp> = { Eq: '=', Neq: '!=', Re: '=~', Nre: '!~' };
type FilterOp = (Stage & { type: 'lineFilter' })['op'];
const FILTER_OPS: Record<string, FilterOp> = { PipeExact: '|=', Neq: '!=', PipeMatch: '|~', Nre: '!~', PipePattern: '|>', Npa: '!>' };
const COMPARE_OPS: Record<string, CompareOp> = { Eq: '==', Eql: '==', Neq: '!=', Gtr: '>', Gte: '>=', Lss: '<', Lte: '<=' };

/** Pipeline stage node → builder (a table, so a new stage kind is one line). */
const STAGE_BUILDERS: Record<string, (this: Builder, node: SyntaxNode) => Stage[]> = {
  LineFilters(node) {
    return this.lineFilters(node);
  },
  LabelParser(node) {
    return this.labelParser(node);
  },
  JsonExpressionParser(node) {
    return this.jsonExpressionParser(node);
  },
  LogfmtParser(node) {
    return this.logfmtParser(node);
  },
  LogfmtExpressionParser(node) {
    return this.logfmtParser(node);
  },
  LabelFilter(node) {
    return this.labelFilterStage(node);
  },
  LineFormatExpr(node) {
    return this.lineFormat(node);
  },
  LabelFormatExpr(node) {
    return this.labelFormat(node);
  },
  DropLabelsExpr(node) {
    return this.dropKeep(node);
  },
  KeepLabelsExpr(node) {
    return this.dropKeep(node);
  },
  DecolorizeExpr() {
    return this.decolorize();
  },
};

/** Stages that rewrite the line: line filters after one of them cannot be pushed down. */
const LINE_CHANGING: ReadonlySet<Stage['type']> = new Set(['lineFormat', 'decolorize', 'unpack']);

/**
 * Splits a pipeline into the plain line filters that the storage readers can apply (those
 * before any stage that rewrites the line, with one value and a regex that means the same in
 * every reader) and the rest, in order.
 */
export function splitPushdown(stages: Stage[]): { lineFilters: LineFilter[]; pipeline: Stage[] } {
  const lineFilters: LineFilter[] = [];
  const pipeline: Stage[] = [];
  let changed = false;
  for (const stage of stages) {
    if (LINE_CHANGING.has(stage.type)) changed = true;
    const pushable =
      !changed &&
      stage.type === 'lineFilter' &&
      stage.values.length === 1 &&
      stage.values[0]!.kind === 'text' &&
      (stage.op === '|=' || stage.op === '!=' || ((stage.op === '|~' || stage.op === '!~') && plainRegex(stage.values[0]!.value)));
    if (pushable) lineFilters.push({ op: stage.op as LineFilterOp, value: stage.values[0]!.value });
    else pipeline.push(stage);
  }
  return { lineFilters, pipeline };
}

/** A regex the storage readers evaluate like the pipeline does (no Go-only syntax or flags). */
function plainRegex(value: string): boolean {
  if (value.includes('(?') || value.includes('[[:') || /\\[pPQEzA]/.test(value)) return false;
  try {
    new RegExp(value);
    new RegExp(value, 'u');
    return true;
  } catch {
    return false;
  }
}
const VECTOR_OPS: readonly LogAggregateOp[] = [
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'topk',
  'bottomk',
  'stddev',
  'stdvar',
  'sort',
  'sort_desc',
];
const CONVERSIONS: Record<string, Unwrap['conversion']> = { DurationConv: 'duration', DurationSecondsConv: 'duration', BytesConv: 'bytes' };

const BINARY_OPS: Record<string, BinaryOp> = {
  Add: '+',
  Sub: '-',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Pow: '^',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Gte: '>=',
  Lss: '<',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

/** Loki's (and Prometheus') precedence: higher binds tighter. */
function precedence(op: BinaryOp): number {
  switch (op) {
    case 'or':
      return 1;
    case 'and':
    case 'unless':
      return 2;
    case '==':
    case '!=':
    case '>':
    case '>=':
    case '<':
    case '<=':
      return 3;
    case '+':
    case '-':
      return 4;
    case '*':
    case '/':
    case '%':
    case 'atan2':
      return 5;
    case '^':
      return 6;
  }
}

/** Parses a LogQL query; throws QueryError (bad_data) for syntax errors and unsupported constructs. */
export function parseLogQL(query: string): LogQLExpr {
  if (query.trim() === '') throw badData('parse error: empty query');
  const tree = parser.parse(query);
  assertNoSyntaxError(tree, query);
  const top = tree.topNode.firstChild;
  if (!top) throw badData('parse error: empty query');
  return new Builder(query).top(top);
}

/** Parses a stream selector as used by the metadata endpoints (`query`, `match[]`). */
export function parseStreamSelector(text: string): LabelMatcher[] {
  const expr = parseLogQL(text);
  if (expr.type !== 'logs') throw badData(`${JSON.stringify(text)} is not a stream selector such as {app="api"}`);
  return expr.selector.matchers;
}

interface BinaryStep {
  op: BinaryOp;
  returnBool: boolean;
  matching?: VectorMatching;
}

export class Builder {
  constructor(private readonly query: string) {}

  private text(node: SyntaxNode): string {
    return this.query.slice(node.from, node.to);
  }

  top(node: SyntaxNode): LogQLExpr {
    // LogQL > Expr > LogExpr | MetricExpr
    if (node.name === 'Expr') {
      const inner = node.firstChild;
      if (!inner) throw badData('parse error: empty expression');
      return this.top(inner);
    }
    if (node.name === 'LogExpr') return { type: 'logs', selector: this.logExpr(node) };
    if (node.name === 'MetricExpr') return this.metric(node);
    throw unsupported(`expression ${this.text(node)}`);
  }

  private logExpr(node: SyntaxNode): LogSelector {
    const inner = node.getChild('LogExpr');
    if (inner) return this.logExpr(inner); // parenthesised
    const selector = node.getChild('Selector');
    if (!selector) throw badData(`parse error: missing stream selector in ${this.text(node)}`);
    const pipeline = node.getChild('PipelineExpr');
    return this.logSelector(selector, pipeline ? [pipeline] : []);
  }

  /** A selector and its pipeline, compiled once here so that a bad regex or template is a 400. */
  private logSelector(selector: SyntaxNode, pipelines: SyntaxNode[]): LogSelector {
    const stages = pipelines.flatMap((p) => this.stages(p));
    compilePipeline(stages);
    return { matchers: this.selector(selector), ...splitPushdown(stages) };
  }

  private selector(node: SyntaxNode): LabelMatcher[] {
    const matchers: LabelMatcher[] = [];
    const collect = (n: SyntaxNode): void => {
      for (const part of children(n)) {
        if (part.name === 'Matchers') collect(part);
        else if (part.name === 'Matcher') matchers.push(this.matcher(part));
      }
    };
    collect(node);
    try {
      if (matchers.map((m) => compileMatchers([m])({})).every(Boolean)) {
        throw badData(
          'queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
        );
      }
    } catch (error) {
      if (error instanceof SyntaxError) throw badData(error.message);
      throw error;
    }
    return matchers;
  }

  private matcher(node: SyntaxNode): LabelMatcher {
    const [nameNode, opNode, valueNode] = children(node);
    if (!nameNode || !opNode || !valueNode) throw badData(`parse error in matcher ${this.text(node)}`);
    const op = MATCH_OPS[opNode.name];
    if (!op) throw unsupported(`matcher operator ${this.text(opNode)}`);
    return { name: this.text(nameNode), op, value: unquote(this.text(valueNode)) };
  }

  /** The stages of a pipeline, in query order (nested PipelineExpr nodes are left-recursive). */
  private stages(node: SyntaxNode): Stage[] {
    const stages: Stage[] = [];
    const collect = (n: SyntaxNode): void => {
      for (const part of children(n)) {
        if (part.name === 'PipelineExpr') collect(part);
        else if (part.name === 'PipelineStage') stages.push(...this.stage(part));
      }
    };
    collect(node);
    return stages;
  }

  private stage(stage: SyntaxNode): Stage[] {
    const body = children(stage).find((c) => c.name !== 'Pipe');
    if (!body) throw badData(`parse error in pipeline stage ${this.text(stage)}`);
    const handler = STAGE_BUILDERS[body.name];
    if (!handler) throw unsupported(`log pipeline stage ${this.text(stage).slice(0, 60)}`);
    return handler.call(this, body);
  }

  lineFilters(node: SyntaxNode): Stage[] {
    const out: Stage[] = [];
    const collect = (n: SyntaxNode): void => {
      for (const part of children(n)) {
        if (part.name === 'LineFilters') collect(part);
        else if (part.name === 'LineFilter') out.push(this.lineFilter(part));
      }
    };
    collect(node);
    return out;
  }

  private lineFilter(node: SyntaxNode): Stage {
    const filter = node.getChild('Filter');
    const opName = filter?.firstChild?.name ?? '';
    const op = FILTER_OPS[opName];
    if (!op) throw unsupported(`line filter ${this.text(node)}`);
    const values: LineMatch[] = [];
    const collect = (n: SyntaxNode): void => {
      let ip = false;
      for (const part of children(n)) {
        if (part.name === 'FilterOp') ip = true;
        else if (part.name === 'String') {
          const value = unquote(this.text(part));
          values.push(ip ? { kind: 'ip', value } : { kind: 'text', value });
          ip = false;
        } else if (part.name === 'OrFilter') collect(part);
      }
    };
    collect(node);
    if (values.length === 0) throw badData(`parse error in line filter ${this.text(node)}`);
    for (const v of values)
      if (v.kind === 'ip' && (op === '|~' || op === '!~' || op === '|>' || op === '!>'))
        throw badData(`ip() is only allowed with |= and !=: ${this.text(node)}`);
    return { type: 'lineFilter', op, values };
  }

  labelParser(node: SyntaxNode): Stage[] {
    const kind = node.firstChild?.name;
    const arg = node.getChild('String');
    switch (kind) {
      case 'Json':
        return [{ type: 'json', params: [] }];
      case 'Logfmt':
        return [{ type: 'logfmt', strict: false, keepEmpty: false, params: [] }];
      case 'Unpack':
        return [{ type: 'unpack' }];
      case 'Regexp':
        if (!arg) throw badData(`parse error: regexp needs an expression: ${this.text(node)}`);
        return [{ type: 'regexp', pattern: unquote(this.text(arg)) }];
      case 'Pattern':
        if (!arg) throw badData(`parse error: pattern needs an expression: ${this.text(node)}`);
        return [{ type: 'pattern', pattern: unquote(this.text(arg)) }];
      default:
        throw unsupported(`parser ${this.text(node)}`);
    }
  }

  private extractionParams(node: SyntaxNode | null): JsonParam[] {
    const params: JsonParam[] = [];
    if (!node) return params;
    const collect = (n: SyntaxNode): void => {
      for (const part of children(n)) {
        if (part.name === 'LabelExtractionExpressionList') collect(part);
        else if (part.name === 'LabelExtractionExpression') {
          const id = part.getChild('Identifier');
          const str = part.getChild('String');
          if (!id) throw badData(`parse error in ${this.text(part)}`);
          const label = this.text(id);
          params.push({ label, expr: str ? unquote(this.text(str)) : label });
        }
      }
    };
    collect(node);
    return params;
  }

  jsonExpressionParser(node: SyntaxNode): Stage[] {
    return [{ type: 'json', params: this.extractionParams(node.getChild('LabelExtractionExpressionList')) }];
  }

  logfmtParser(node: SyntaxNode): Stage[] {
    const flags: string[] = [];
    const collect = (n: SyntaxNode): void => {
      for (const part of children(n)) {
        if (part.name === 'LogfmtParserFlags') collect(part);
        else if (part.name === 'ParserFlag') flags.push(this.text(part));
      }
    };
    const flagNode = node.getChild('LogfmtParserFlags');
    if (flagNode) collect(flagNode);
    for (const f of flags) if (f !== '--strict' && f !== '--keep-empty') throw badData(`unknown logfmt flag ${f}`);
    return [
      {
        type: 'logfmt',
        strict: flags.includes('--strict'),
        keepEmpty: flags.includes('--keep-empty'),
        params: this.extractionParams(node.getChild('LabelExtractionExpressionList')),
      },
    ];
  }

  labelFilterStage(node: SyntaxNode): Stage[] {
    return [{ type: 'labelFilter', filter: this.labelFilter(node) }];
  }

  labelFilter(node: SyntaxNode): LabelFilterExpr {
    const parts = children(node);
    const subs = parts.filter((p) => p.name === 'LabelFilter');
    if (subs.length === 2) {
      const type = parts.some((p) => p.name === 'Or') ? 'or' : 'and';
      return { type, left: this.labelFilter(subs[0]!), right: this.labelFilter(subs[1]!) };
    }
    if (subs.length === 1 && parts.length === 1) return this.labelFilter(subs[0]!); // parenthesised
    const inner = parts[0];
    if (!inner) throw badData(`parse error in label filter ${this.text(node)}`);
    switch (inner.name) {
      case 'LabelFilter':
        return this.labelFilter(inner);
      case 'Matcher':
        return { type: 'string', matcher: this.matcher(inner) };
      case 'NumberFilter': {
        const [id, opNode, lit] = children(inner);
        return { type: 'number', name: this.text(id!), op: this.compareOp(opNode!), value: this.literal(lit!) };
      }
      case 'UnitFilter': {
        const unit = inner.firstChild!;
        const [id, opNode, valueNode] = children(unit);
        const text = this.text(valueNode!);
        if (unit.name === 'DurationFilter') {
          const ms = parseGoDuration(text);
          if (ms === undefined) throw badData(`invalid duration ${text} in label filter`);
          return { type: 'duration', name: this.text(id!), op: this.compareOp(opNode!), value: ms / 1000 };
        }
        const bytes = parseBytes(text);
        if (bytes === undefined) throw badData(`invalid bytes ${text} in label filter`);
        return { type: 'bytes', name: this.text(id!), op: this.compareOp(opNode!), value: bytes };
      }
      case 'IpLabelFilter': {
        const id = inner.getChild('Identifier');
        const str = inner.getChild('String');
        if (!id || !str) throw badData(`parse error in ${this.text(inner)}`);
        const negate = inner.getChild('Neq') !== null;
        return { type: 'ip', name: this.text(id), negate, pattern: unquote(this.text(str)) };
      }
      default:
        throw unsupported(`label filter ${this.text(node)}`);
    }
  }

  private compareOp(node: SyntaxNode): CompareOp {
    const op = COMPARE_OPS[node.name];
    if (!op) throw badData(`invalid comparison ${this.text(node)}`);
    return op;
  }

  lineFormat(node: SyntaxNode): Stage[] {
    const str = node.getChild('String');
    if (!str) throw badData(`parse error: line_format needs a template: ${this.text(node)}`);
    return [{ type: 'lineFormat', template: unquote(this.text(str)) }];
  }

  labelFormat(node: SyntaxNode): Stage[] {
    const ops: { dst: string; src?: string; template?: string }[] = [];
    const collect = (n: SyntaxNode): void => {
      for (const part of children(n)) {
        if (part.name === 'LabelsFormat') collect(part);
        else if (part.name === 'LabelFormatMatcher') {
          const ids = part.getChildren('Identifier');
          const str = part.getChild('String');
          if (str) ops.push({ dst: this.text(ids[0]!), template: unquote(this.text(str)) });
          else if (ids.length === 2) ops.push({ dst: this.text(ids[0]!), src: this.text(ids[1]!) });
          else throw badData(`parse error in ${this.text(part)}`);
        }
      }
    };
    collect(node);
    return [{ type: 'labelFormat', ops }];
  }

  dropKeep(node: SyntaxNode): Stage[] {
    const type = node.name === 'DropLabelsExpr' ? 'drop' : 'keep';
    const itemName = type === 'drop' ? 'DropLabel' : 'KeepLabel';
    const listName = type === 'drop' ? 'DropLabels' : 'KeepLabels';
    const names: string[] = [];
    const matchers: LabelMatcher[] = [];
    const collect = (n: SyntaxNode): void => {
      for (const part of children(n)) {
        if (part.name === listName) collect(part);
        else if (part.name === itemName) {
          const m = part.getChild('Matcher');
          if (m) matchers.push(this.matcher(m));
          else names.push(this.text(part).trim());
        }
      }
    };
    collect(node);
    return [{ type, names, matchers }];
  }

  decolorize(): Stage[] {
    return [{ type: 'decolorize' }];
  }

  private duration(node: SyntaxNode, what: string): bigint {
    const text = this.text(node).trim();
    const ms = parseGoDuration(text);
    if (ms === undefined) throw badData(`invalid ${what} duration "${text}"`);
    return BigInt(Math.round(ms * 1e6));
  }

  private metric(node: SyntaxNode): MetricExpr {
    if (node.name === 'Expr') {
      const inner = node.firstChild;
      if (!inner) throw badData('parse error: empty expression');
      if (inner.name === 'LogExpr')
        throw badData(`a log query is not allowed here: ${this.text(inner)} (did you mean count_over_time(…[1m])?)`);
      return this.metric(inner);
    }
    if (node.name !== 'MetricExpr') throw unsupported(`expression ${this.text(node)}`);
    const inner = node.firstChild;
    if (!inner) throw badData('parse error: empty expression');
    switch (inner.name) {
      case 'MetricExpr':
        return this.metric(inner); // parenthesised
      case 'LiteralExpr':
        return { type: 'number', value: this.literal(inner) };
      case 'VectorExpr': {
        const n = inner.getChild('Number');
        if (!n) throw badData(`parse error in ${this.text(inner)}`);
        return { type: 'vector', value: this.number(n) };
      }
      case 'RangeAggregationExpr':
        return this.rangeAggregation(inner);
      case 'VectorAggregationExpr':
        return this.vectorAggregation(inner);
      case 'BinOpExpr':
        return this.binary(inner);
      case 'LabelReplaceExpr':
        return this.labelReplace(inner);
      default:
        throw unsupported(`expression ${this.text(inner)}`);
    }
  }

  private number(node: SyntaxNode): number {
    const text = this.text(node);
    const value = parseFloatStrict(text);
    if (value === undefined) throw badData(`invalid number "${text}"`);
    return value;
  }

  private literal(node: SyntaxNode): number {
    let sign = 1;
    let value: number | undefined;
    for (const part of children(node)) {
      if (part.name === 'Sub') sign = -sign;
      else if (part.name === 'Number') value = this.number(part);
    }
    if (value === undefined) throw badData(`parse error in ${this.text(node)}`);
    return sign * value;
  }

  private rangeAggregation(node: SyntaxNode): MetricExpr {
    const opNode = node.getChild('RangeOp');
    const rangeExpr = node.getChild('LogRangeExpr');
    if (!opNode || !rangeExpr) throw badData(`parse error in ${this.text(node)}`);
    const name = this.text(opNode) as RangeOp;
    const unwrapNode = rangeExpr.getChild('UnwrapExpr');
    const allowed: readonly string[] = unwrapNode ? UNWRAP_RANGE_OPS : LOG_RANGE_OPS;
    if (!allowed.includes(name)) {
      throw badData(
        unwrapNode
          ? `invalid aggregation ${name} with unwrap`
          : `invalid aggregation ${name} without unwrap: it needs a numeric value, e.g. ${name}({…} | logfmt | unwrap latency [5m])`,
      );
    }
    let selectorNode = rangeExpr.getChild('Selector');
    let pipelineNodes = rangeExpr.getChildren('PipelineExpr');
    const logExpr = rangeExpr.getChild('LogExpr');
    if (!selectorNode && logExpr) {
      selectorNode = logExpr.getChild('Selector');
      pipelineNodes = logExpr.getChildren('PipelineExpr');
    }
    const rangeNode = rangeExpr.getChild('Range');
    if (!selectorNode || !rangeNode) throw badData(`parse error in ${this.text(rangeExpr)}`);
    const durationNode = rangeNode.getChild('Duration');
    if (!durationNode) throw badData(`parse error in ${this.text(rangeNode)}`);
    const rangeNs = this.duration(durationNode, 'range');
    if (rangeNs <= 0n) throw badData(`range must be greater than 0, got ${this.text(durationNode)}`);
    let offsetNs = 0n;
    const offsetNode = rangeExpr.getChild('OffsetExpr');
    if (offsetNode) {
      const d = offsetNode.getChild('Duration');
      if (!d) throw badData(`parse error in ${this.text(offsetNode)}`);
      offsetNs = this.duration(d, 'offset');
    }
    const expr: RangeAggregation = {
      type: 'rangeAggregation',
      op: name,
      selector: this.logSelector(selectorNode, pipelineNodes),
      rangeNs,
      offsetNs,
    };
    if (unwrapNode) expr.unwrap = this.unwrap(unwrapNode);
    const paramNode = node.getChild('Number');
    if (name === 'quantile_over_time') {
      if (!paramNode) throw badData('parse error: quantile_over_time needs a parameter, e.g. quantile_over_time(0.99, …)');
      expr.param = this.number(paramNode);
    } else if (paramNode) {
      throw badData(`parse error: ${name} takes no parameter`);
    }
    const groupingNode = node.getChild('Grouping');
    if (groupingNode) {
      if (!unwrapNode || name === 'absent_over_time') {
        throw badData(`grouping not allowed for ${name} aggregation: only unwrapped range aggregations take by/without`);
      }
      expr.grouping = this.grouping(groupingNode);
    }
    return expr;
  }

  private unwrap(node: SyntaxNode): Unwrap {
    const inner = node.getChild('UnwrapExpr');
    if (inner) {
      const base = this.unwrap(inner);
      for (const f of node.getChildren('LabelFilter')) base.postFilters.push(this.labelFilter(f));
      return base;
    }
    const id = node.getChild('Identifier');
    if (!id) throw badData(`parse error in ${this.text(node)}`);
    const conv = node.getChild('ConvOp')?.firstChild?.name;
    const conversion = conv === undefined ? 'number' : CONVERSIONS[conv];
    if (!conversion) throw unsupported(`unwrap conversion ${this.text(node)}`);
    return { label: this.text(id), conversion, postFilters: [] };
  }

  private grouping(node: SyntaxNode): { labels: string[]; without: boolean } {
    const labels: string[] = [];
    const collect = (n: SyntaxNode): void => {
      for (const part of children(n)) {
        if (part.name === 'Labels') collect(part);
        else if (part.name === 'Identifier') labels.push(this.text(part));
      }
    };
    const labelsNode = node.getChild('Labels');
    if (labelsNode) collect(labelsNode);
    return { labels: [...new Set(labels)], without: node.getChild('Without') !== null };
  }

  private labelReplace(node: SyntaxNode): MetricExpr {
    const inner = node.getChild('MetricExpr');
    const args = node.getChildren('String').map((s) => unquote(this.text(s)));
    if (!inner || args.length !== 4) throw badData(`parse error: label_replace takes a vector and four strings: ${this.text(node)}`);
    const [dst, replacement, src, regex] = args as [string, string, string, string];
    if (!LABEL_NAME.test(dst)) throw badData(`invalid destination label name in label_replace(): ${dst}`);
    compileRegex(regex, { anchored: true, where: 'label_replace()' });
    const expr = this.metric(inner);
    if (isScalar(expr)) throw badData(`label_replace expects a vector, got the scalar ${this.text(inner)}`);
    return { type: 'labelReplace', expr, dst, replacement, src, regex };
  }

  private vectorAggregation(node: SyntaxNode): MetricExpr {
    const opNode = node.getChild('VectorOp');
    const inner = node.getChild('MetricExpr');
    if (!opNode || !inner) throw badData(`parse error in ${this.text(node)}`);
    const name = this.text(opNode);
    if (!(VECTOR_OPS as readonly string[]).includes(name)) throw unsupported(`aggregation ${name}`);
    const op = name as LogAggregateOp;
    let grouping: string[] = [];
    let without = false;
    const groupingNode = node.getChild('Grouping');
    if (groupingNode) {
      without = groupingNode.getChild('Without') !== null;
      const collect = (n: SyntaxNode): void => {
        for (const part of children(n)) {
          if (part.name === 'Labels') collect(part);
          else if (part.name === 'Identifier') grouping.push(this.text(part));
        }
      };
      const labels = groupingNode.getChild('Labels');
      if (labels) collect(labels);
    }
    const expr = this.metric(inner);
    if (isScalar(expr)) throw badData(`${name} expects a vector, got the scalar ${this.text(inner)}`);
    const paramNode = node.getChild('Number');
    if (op === 'topk' || op === 'bottomk') {
      if (!paramNode) throw badData(`parse error: ${name} needs a parameter`);
      const param = this.number(paramNode);
      if (!Number.isInteger(param) || param < 1)
        throw badData(`invalid parameter for ${name}: ${this.text(paramNode)} is not a positive integer`);
      return { type: 'vectorAggregation', op, expr, param, grouping, without };
    }
    if (paramNode) throw badData(`parse error: ${name} takes no parameter`);
    grouping = [...new Set(grouping)];
    return { type: 'vectorAggregation', op, expr, grouping, without };
  }

  /** Flattens an unparenthesised chain of binary operators and rebuilds it with precedence. */
  private binary(node: SyntaxNode): MetricExpr {
    const operands: MetricExpr[] = [];
    const ops: BinaryStep[] = [];
    const flatten = (bin: SyntaxNode): void => {
      const parts = children(bin);
      const lhs = parts[0];
      const opNode = parts[1];
      const rhs = parts[parts.length - 1];
      if (!lhs || !opNode || !rhs || parts.length < 3) throw badData(`parse error in ${this.text(bin)}`);
      const op = BINARY_OPS[opNode.name];
      if (!op) throw unsupported(`binary operator ${this.text(opNode)}`);
      const step: BinaryStep = { op, returnBool: false };
      const modifier = bin.getChild('BinOpModifier');
      if (modifier) this.modifier(modifier, step);
      operand(lhs);
      ops.push(step);
      operand(rhs);
    };
    const operand = (exprNode: SyntaxNode): void => {
      const metricNode = exprNode.name === 'Expr' ? exprNode.firstChild : exprNode;
      const bin = metricNode?.name === 'MetricExpr' ? metricNode.firstChild : null;
      if (bin?.name === 'BinOpExpr') flatten(bin);
      else operands.push(this.metric(exprNode));
    };
    flatten(node);

    // Shunting-yard over operands[i] ops[i] operands[i+1] …
    const output: MetricExpr[] = [operands[0]!];
    const stack: BinaryStep[] = [];
    const reduce = (): void => {
      const step = stack.pop()!;
      const rhs = output.pop()!;
      const lhs = output.pop()!;
      output.push(this.checkBinary(step, lhs, rhs));
    };
    ops.forEach((step, i) => {
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        const pTop = precedence(top.op);
        const p = precedence(step.op);
        if (pTop > p || (pTop === p && step.op !== '^')) reduce();
        else break;
      }
      stack.push(step);
      output.push(operands[i + 1]!);
    });
    while (stack.length > 0) reduce();
    return output[0]!;
  }

  private modifier(node: SyntaxNode, step: BinaryStep): void {
    const visit = (n: SyntaxNode): void => {
      for (const part of children(n)) {
        switch (part.name) {
          case 'Bool':
            step.returnBool = true;
            break;
          case 'GroupLeft':
          case 'GroupRight':
            // As in PromQL: many-to-one / one-to-many, the extra labels listed next.
            step.matching = {
              ...(step.matching ?? { on: false, labels: [] }),
              card: part.name === 'GroupLeft' ? 'many-to-one' : 'one-to-many',
              include: [],
            };
            break;
          case 'GroupingLabels':
            if (step.matching?.card) step.matching.include = this.groupingLabelNames(part);
            break;
          case 'OnOrIgnoringModifier': {
            const grouping = part.getChild('GroupingLabels');
            step.matching = {
              ...step.matching,
              on: part.getChild('On') !== null,
              labels: grouping ? this.groupingLabelNames(grouping) : [],
            };
            visit(part);
            break;
          }
          default:
            break;
        }
      }
    };
    visit(node);
    const m = step.matching;
    if (m?.card && m.on) {
      const both = (m.include ?? []).find((l) => m.labels.includes(l));
      if (both !== undefined) throw badData(`label "${both}" must not occur in ON and GROUP clause at once`);
    }
  }

  private groupingLabelNames(node: SyntaxNode): string[] {
    const labels: string[] = [];
    const collect = (g: SyntaxNode): void => {
      for (const c of children(g)) {
        if (c.name === 'LabelName') labels.push(this.text(c));
        else collect(c);
      }
    };
    collect(node);
    return labels;
  }

  private checkBinary(step: BinaryStep, lhs: MetricExpr, rhs: MetricExpr): MetricExpr {
    const { op, returnBool, matching } = step;
    const lScalar = isScalar(lhs);
    const rScalar = isScalar(rhs);
    if (returnBool && !isComparison(op)) throw badData('bool modifier can only be used on comparison operators');
    if (isComparison(op) && lScalar && rScalar && !returnBool) throw badData('comparisons between scalars must use BOOL modifier');
    if (isSetOp(op) && (lScalar || rScalar)) throw badData(`set operator "${op}" not allowed in binary scalar expression`);
    if (matching && (lScalar || rScalar)) throw badData('vector matching only allowed between instant vectors');
    return matching ? { type: 'binary', op, lhs, rhs, returnBool, matching } : { type: 'binary', op, lhs, rhs, returnBool };
  }
}
