/**
 * `npm run bench -- regex [--lines N --values N --runs R]`: the cost of RE2 (re2js, through
 * common/regex.ts) against JavaScript's RegExp on the query hot paths, in the same run:
 * LogQL line filters over log lines (unanchored) and Prometheus label matchers over label
 * values (fully anchored). Ratio = RE2 time / RegExp time (above 1: RE2 is slower).
 */
import os from 'node:os';
import { compileRegex } from '../../runtime/src/common/regex.js';
import { machine, median, progress, writeResults } from './report.js';

interface Case {
  name: string;
  pattern: string;
  kind: 'line filter' | 'label matcher';
}

const CASES: Case[] = [
  { name: 'literal', pattern: 'error', kind: 'line filter' },
  { name: 'alternation', pattern: 'timeout|refused|reset', kind: 'line filter' },
  { name: 'class + repeat', pattern: 'status=5[0-9]{2}', kind: 'line filter' },
  { name: 'wildcard', pattern: 'GET .*/items/[0-9]+', kind: 'line filter' },
  { name: 'literal', pattern: 'api', kind: 'label matcher' },
  { name: 'alternation', pattern: 'api|web|db', kind: 'label matcher' },
  { name: 'prefix', pattern: 'api-.*', kind: 'label matcher' },
  { name: 'Grafana multi-value', pattern: '(api-1|api-2|web-3|db-4)', kind: 'label matcher' },
];

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function makeLines(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const status = i % 20 === 0 ? 503 : 200;
    const extra = i % 50 === 0 ? ' upstream connection refused' : '';
    out.push(
      `ts=2026-12-07T01:00:00Z level=${status === 200 ? 'info' : 'error'} GET /api/v1/items/${i} status=${status} ms=${i % 97}${extra}`,
    );
  }
  return out;
}

function makeValues(n: number): string[] {
  const names = ['api', 'web', 'db', 'cache', 'queue'];
  return Array.from({ length: n }, (_, i) => `${names[i % names.length]}-${i % 7}`);
}

function time(fn: () => number): { ms: number; matches: number } {
  const start = process.hrtime.bigint();
  const matches = fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, matches };
}

export async function runRegexBench(args: string[]): Promise<void> {
  const runs = flag(args, 'runs', 5);
  const lines = makeLines(flag(args, 'lines', 200_000));
  const values = makeValues(flag(args, 'values', 200_000));
  const rows: Array<{ kind: string; name: string; pattern: string; regexpMs: number; re2Ms: number; ratio: number }> = [];
  for (const c of CASES) {
    const anchored = c.kind === 'label matcher';
    const inputs = anchored ? values : lines;
    const js = anchored ? new RegExp(`^(?:${c.pattern})$`, 's') : new RegExp(c.pattern);
    const re2 = compileRegex(c.pattern, { anchored, dotAll: anchored });
    const count = (test: (s: string) => boolean) => () => {
      let n = 0;
      for (const s of inputs) if (test(s)) n++;
      return n;
    };
    const jsTimes: number[] = [];
    const re2Times: number[] = [];
    for (let r = 0; r < runs; r++) {
      // Interleaved runs: both engines see the same machine load.
      const a = time(count((s) => js.test(s)));
      const b = time(count((s) => re2.test(s)));
      if (a.matches !== b.matches) throw new Error(`${c.kind} ${c.pattern}: RegExp matched ${a.matches}, RE2 ${b.matches}`);
      jsTimes.push(a.ms);
      re2Times.push(b.ms);
    }
    const regexpMs = median(jsTimes);
    const re2Ms = median(re2Times);
    rows.push({ kind: c.kind, name: c.name, pattern: c.pattern, regexpMs, re2Ms, ratio: re2Ms / regexpMs });
    progress(`${c.kind} ${c.pattern}: RegExp ${regexpMs.toFixed(1)} ms, RE2 ${re2Ms.toFixed(1)} ms`);
  }
  const m = machine();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const table = rows
    .map((r) => {
      const n = r.kind === 'line filter' ? lines.length : values.length;
      const perItem = (ms: number) => ((ms * 1e6) / n).toFixed(0);
      return `| ${r.kind} | \`${r.pattern}\` | ${perItem(r.regexpMs)} | ${perItem(r.re2Ms)} | ${r.ratio.toFixed(1)}× |`;
    })
    .join('\n');
  const markdown = `Machine: ${m.cores} cores, ${m.cpu}, Node ${m.node}, load average ${load}. ${lines.length} lines, ${values.length} label values, median of ${runs} runs.

| path | pattern | RegExp ns/item | RE2 (re2js) ns/item | ratio |
|---|---|---:|---:|---:|
${table}
`;
  writeResults('regex', { machine: m, load, runs, lines: lines.length, values: values.length, rows }, markdown);
}
