/**
 * The Go text/template subset that LogQL's line_format and label_format use: text,
 * `{{ pipeline }}` actions (with `{{-`/`-}}` trimming), `if`/`else if`/`else`/`with`/`end`,
 * comments, fields `.label`, literals, parenthesised pipelines, and the functions of
 * ./template-functions.ts. No npm package implements Go templates in JavaScript, so this is
 * our own. It is bounded by construction: there is no `range`, `define` or `template`, so a
 * template cannot loop, and the output of one rendering is capped.
 *
 * Parse errors are QueryErrors (400); errors while rendering are TemplateError, which the
 * pipeline turns into `__error__="TemplateFormatErr"` as Loki does.
 */
import { badData } from '../promql/errors.js';
import { FUNCTIONS, GoTime, TemplateError, truthy, type TemplateValue, toText } from './template-functions.js';

export { TemplateError };

/** Largest output of one rendering, characters. */
export const MAX_TEMPLATE_OUTPUT = 1 << 20;
const MAX_NESTING = 50;

export interface TemplateContext {
  labels: Readonly<Record<string, string>>;
  line: string;
  timestampNs: bigint;
}

type Operand =
  | { kind: 'field'; name: string }
  | { kind: 'dot' }
  | { kind: 'literal'; value: TemplateValue }
  | { kind: 'func'; name: string }
  | { kind: 'pipeline'; pipeline: Pipeline };

type Command = Operand[];
type Pipeline = Command[];

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipeline: Pipeline }
  | { kind: 'if'; branches: { cond: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { kind: 'with'; value: Pipeline; body: Node[]; otherwise: Node[] };

export class Template {
  constructor(
    readonly source: string,
    private readonly nodes: Node[],
  ) {}

  /** Renders; throws TemplateError on a runtime failure (wrong argument, output too large). */
  render(ctx: TemplateContext): string {
    const out: string[] = [];
    let size = 0;
    const emit = (s: string): void => {
      size += s.length;
      if (size > MAX_TEMPLATE_OUTPUT) throw new TemplateError(`template output exceeds ${MAX_TEMPLATE_OUTPUT} characters`);
      out.push(s);
    };
    const run = (nodes: Node[], dot: TemplateValue | 'labels'): void => {
      for (const node of nodes) {
        switch (node.kind) {
          case 'text':
            emit(node.text);
            break;
          case 'action':
            emit(toText(this.pipeline(node.pipeline, ctx, dot)));
            break;
          case 'if': {
            const branch = node.branches.find((b) => truthy(this.pipeline(b.cond, ctx, dot)));
            run(branch ? branch.body : node.otherwise, dot);
            break;
          }
          case 'with': {
            const value = this.pipeline(node.value, ctx, dot);
            if (truthy(value)) run(node.body, value);
            else run(node.otherwise, dot);
            break;
          }
        }
      }
    };
    run(this.nodes, 'labels');
    return out.join('');
  }

  private pipeline(pipeline: Pipeline, ctx: TemplateContext, dot: TemplateValue | 'labels'): TemplateValue {
    let piped: TemplateValue | undefined;
    let first = true;
    for (const command of pipeline) {
      piped = this.command(command, ctx, dot, first ? undefined : { value: piped });
      first = false;
    }
    return piped;
  }

  private command(
    command: Command,
    ctx: TemplateContext,
    dot: TemplateValue | 'labels',
    piped: { value: TemplateValue } | undefined,
  ): TemplateValue {
    const [head, ...rest] = command;
    if (head?.kind === 'func') {
      const args = rest.map((a) => this.operand(a, ctx, dot));
      if (piped) args.push(piped.value);
      return callFunction(head.name, args, ctx);
    }
    if (rest.length > 0 || piped) throw new TemplateError(`can't give argument to non-function ${describe(head!)}`);
    return this.operand(head!, ctx, dot);
  }

  private operand(op: Operand, ctx: TemplateContext, dot: TemplateValue | 'labels'): TemplateValue {
    switch (op.kind) {
      case 'literal':
        return op.value;
      case 'dot':
        return dot === 'labels' ? '' : dot;
      case 'field':
        // Fields always read the entry's labels (Loki's data is a map of label values).
        return ctx.labels[op.name] ?? '';
      case 'func':
        return callFunction(op.name, [], ctx);
      case 'pipeline':
        return this.pipeline(op.pipeline, ctx, dot);
    }
  }
}

function describe(op: Operand): string {
  switch (op.kind) {
    case 'field':
      return `.${op.name}`;
    case 'literal':
      return JSON.stringify(op.value);
    default:
      return op.kind;
  }
}

function callFunction(name: string, args: TemplateValue[], ctx: TemplateContext): TemplateValue {
  if (name === '__line__') return ctx.line;
  if (name === '__timestamp__') return new GoTime(ctx.timestampNs);
  const fn = FUNCTIONS[name]!;
  const [min, max] = fn.arity;
  if (args.length < min || args.length > max) {
    throw new TemplateError(`wrong number of args for ${name}: want ${min === max ? min : `${min}-${max}`} got ${args.length}`);
  }
  return fn.call(args);
}

// ---------------------------------------------------------------- parsing

type Token =
  | { t: 'field'; name: string }
  | { t: 'dot' }
  | { t: 'string'; value: string }
  | { t: 'number'; value: number }
  | { t: 'ident'; name: string }
  | { t: 'pipe' }
  | { t: 'lparen' }
  | { t: 'rparen' };

const GO_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  '"': '"',
  "'": "'",
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

function lexAction(text: string, where: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '|') {
      tokens.push({ t: 'pipe' });
      i++;
    } else if (c === '(') {
      tokens.push({ t: 'lparen' });
      i++;
    } else if (c === ')') {
      tokens.push({ t: 'rparen' });
      i++;
    } else if (c === '"') {
      let out = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') {
          const e = text[i + 1] ?? '';
          const mapped = GO_ESCAPES[e];
          if (mapped === undefined) throw badData(`template ${where}: unknown escape sequence \\${e}`);
          out += mapped;
          i += 2;
        } else {
          out += text[i++];
        }
      }
      if (i >= text.length) throw badData(`template ${where}: unterminated quoted string`);
      i++;
      tokens.push({ t: 'string', value: out });
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) throw badData(`template ${where}: unterminated raw quoted string`);
      tokens.push({ t: 'string', value: text.slice(i + 1, end) });
      i = end + 1;
    } else if (c === '.') {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      if (m) {
        tokens.push({ t: 'field', name: m[1]! });
        i += m[0].length;
        if (text[i] === '.') throw badData(`template ${where}: nested field access .${m[1]}.… is not supported`);
      } else {
        tokens.push({ t: 'dot' });
        i++;
      }
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)/.exec(text.slice(i));
      if (!m) throw badData(`template ${where}: bad number syntax near ${JSON.stringify(text.slice(i, i + 10))}`);
      tokens.push({ t: 'number', value: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      tokens.push({ t: 'ident', name: m[0] });
      i += m[0].length;
    } else if (c === '$') {
      throw badData(`template ${where}: variables ($…) are not supported`);
    } else {
      throw badData(`template ${where}: unexpected ${JSON.stringify(c)} in action`);
    }
  }
  return tokens;
}

class ActionParser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly where: string,
  ) {}

  done(): boolean {
    return this.i >= this.tokens.length;
  }

  pipeline(): Pipeline {
    const commands: Pipeline = [this.command()];
    while (this.tokens[this.i]?.t === 'pipe') {
      this.i++;
      commands.push(this.command());
    }
    return commands;
  }

  private command(): Command {
    const operands: Command = [];
    for (;;) {
      const tok = this.tokens[this.i];
      if (!tok || tok.t === 'pipe' || tok.t === 'rparen') break;
      operands.push(this.operand());
    }
    if (operands.length === 0) throw badData(`template ${this.where}: missing value for command`);
    return operands;
  }

  private operand(): Operand {
    const tok = this.tokens[this.i++]!;
    switch (tok.t) {
      case 'field':
        return { kind: 'field', name: tok.name };
      case 'dot':
        return { kind: 'dot' };
      case 'string':
        return { kind: 'literal', value: tok.value };
      case 'number':
        return { kind: 'literal', value: tok.value };
      case 'ident':
        if (tok.name === 'true' || tok.name === 'false') return { kind: 'literal', value: tok.name === 'true' };
        if (tok.name === 'nil') return { kind: 'literal', value: null };
        if (tok.name !== '__line__' && tok.name !== '__timestamp__' && !(tok.name in FUNCTIONS)) {
          throw badData(`template ${this.where}: function "${tok.name}" not defined`);
        }
        return { kind: 'func', name: tok.name };
      case 'lparen': {
        const pipeline = this.pipeline();
        if (this.tokens[this.i++]?.t !== 'rparen') throw badData(`template ${this.where}: unclosed left paren`);
        return { kind: 'pipeline', pipeline };
      }
      default:
        throw badData(`template ${this.where}: unexpected ${tok.t} in operand`);
    }
  }
}

interface RawAction {
  text: string;
  where: string;
}

/** Parses a template; throws a 400 naming the position of the problem. */
export function parseTemplate(source: string): Template {
  // Split into text and actions, applying the trim markers.
  const parts: (string | RawAction)[] = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    if (open < 0) {
      parts.push(source.slice(i));
      break;
    }
    let text = source.slice(i, open);
    let start = open + 2;
    if (source.startsWith('- ', start) || source.startsWith('-\t', start) || source.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) parts.push(text);
    let close: number;
    if (source.startsWith('/*', source.slice(start).search(/\S/) + start)) {
      const endComment = source.indexOf('*/', start);
      close = endComment < 0 ? -1 : source.indexOf('}}', endComment);
    } else {
      close = findClose(source, start);
    }
    if (close < 0) throw badData(`template: unclosed action starting at character ${open + 1}`);
    let body = source.slice(start, close);
    let next = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const m = /^\s*/.exec(source.slice(next))!;
      next += m[0].length;
    }
    parts.push({ text: body, where: `at character ${open + 1}` });
    i = next;
  }

  // Build the tree of if/with/else/end.
  interface Frame {
    kind: 'root' | 'if' | 'with';
    node?: Node & { kind: 'if' | 'with' };
    target: Node[];
    sawElse: boolean;
  }
  const root: Node[] = [];
  const stack: Frame[] = [{ kind: 'root', target: root, sawElse: false }];
  for (const part of parts) {
    const frame = stack[stack.length - 1]!;
    if (typeof part === 'string') {
      frame.target.push({ kind: 'text', text: part });
      continue;
    }
    const trimmed = part.text.trim();
    if (trimmed.startsWith('/*')) {
      if (!trimmed.endsWith('*/')) throw badData(`template ${part.where}: unclosed comment`);
      continue;
    }
    const tokens = lexAction(part.text, part.where);
    const head = tokens[0];
    const keyword = head?.t === 'ident' ? head.name : undefined;
    const pipelineAfter = (skip: number): Pipeline => {
      const parser = new ActionParser(tokens.slice(skip), part.where);
      const pipeline = parser.pipeline();
      if (!parser.done()) throw badData(`template ${part.where}: unexpected ")"`);
      return pipeline;
    };
    switch (keyword) {
      case 'if': {
        if (stack.length > MAX_NESTING) throw badData(`template ${part.where}: nesting deeper than ${MAX_NESTING}`);
        const node: Node & { kind: 'if' } = { kind: 'if', branches: [{ cond: pipelineAfter(1), body: [] }], otherwise: [] };
        frame.target.push(node);
        stack.push({ kind: 'if', node, target: node.branches[0]!.body, sawElse: false });
        break;
      }
      case 'with': {
        if (stack.length > MAX_NESTING) throw badData(`template ${part.where}: nesting deeper than ${MAX_NESTING}`);
        const node: Node & { kind: 'with' } = { kind: 'with', value: pipelineAfter(1), body: [], otherwise: [] };
        frame.target.push(node);
        stack.push({ kind: 'with', node, target: node.body, sawElse: false });
        break;
      }
      case 'else': {
        if (frame.kind === 'root' || frame.sawElse) throw badData(`template ${part.where}: unexpected {{else}}`);
        const elseIf = tokens[1]?.t === 'ident' && tokens[1].name === 'if';
        if (elseIf && frame.node!.kind === 'if') {
          const branch = { cond: pipelineAfter(2), body: [] as Node[] };
          frame.node!.branches.push(branch);
          frame.target = branch.body;
        } else {
          if (tokens.length > 1) throw badData(`template ${part.where}: unexpected tokens after else`);
          frame.sawElse = true;
          frame.target = frame.node!.otherwise;
        }
        break;
      }
      case 'end':
        if (frame.kind === 'root') throw badData(`template ${part.where}: unexpected {{end}}`);
        if (tokens.length > 1) throw badData(`template ${part.where}: unexpected tokens after end`);
        stack.pop();
        break;
      case 'range':
      case 'define':
      case 'template':
      case 'block':
      case 'break':
      case 'continue':
        throw badData(`template ${part.where}: {{${keyword}}} is not supported (LogQL templates may not loop or include templates)`);
      default:
        if (tokens.length === 0) throw badData(`template ${part.where}: missing value for command`);
        frame.target.push({ kind: 'action', pipeline: pipelineAfter(0) });
    }
  }
  if (stack.length > 1) throw badData(`template: unexpected EOF, {{${stack[stack.length - 1]!.kind}}} has no {{end}}`);
  return new Template(source, root);
}

/** Index of the `}}` that closes an action, skipping quoted strings. */
function findClose(source: string, from: number): number {
  let i = from;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '"') {
      i++;
      while (i < source.length && source[i] !== '"') i += source[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '`') {
      const end = source.indexOf('`', i + 1);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === '}' && source[i + 1] === '}') {
      return i;
    } else {
      i++;
    }
  }
  return -1;
}
