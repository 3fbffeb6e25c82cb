/**
 * A generated log corpus for LogQL tests: JSON access logs, logfmt, Apache-style lines,
 * multi-line stack traces, unicode and ANSI-coloured lines, plus a few malformed lines of
 * each format. Every entry keeps the values it was generated from (`source`), so a test can
 * compute the expected answer of a query by plain code, independently of the engine.
 * Deterministic (a fixed linear congruential generator); used by unit and integration tests.
 */
import type { Labels } from '../../runtime/src/model/types.js';

export interface JsonAccess {
  kind: 'json';
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  latency: string;
  size: string;
  ip: string;
  user: { id: string; name: string };
  tags: string[];
  headers: Record<string, string>;
}
export interface LogfmtLine {
  kind: 'logfmt';
  level: string;
  msg: string;
  duration: string;
  job: number;
  /** Written as a standalone key when true. */
  retry: boolean;
  /** Written as `empty=` (an explicit empty value) when true. */
  empty: boolean;
}
export interface ApacheLine {
  kind: 'apache';
  ip: string;
  user: string;
  method: string;
  path: string;
  status: number;
  size: number;
  timeText: string;
}
export type Source =
  | JsonAccess
  | LogfmtLine
  | ApacheLine
  | { kind: 'badjson' }
  | { kind: 'badlogfmt' }
  | { kind: 'multiline'; frames: string[] }
  | { kind: 'ansi'; level: string; text: string }
  | { kind: 'packed'; entry: string; pod: string };

export interface CorpusEntry {
  labels: Labels;
  timestampNs: bigint;
  line: string;
  source: Source;
}

export const CORPUS_STREAMS = {
  json: { app: 'api', format: 'json' },
  logfmt: { app: 'worker', format: 'logfmt' },
  apache: { app: 'web', format: 'apache' },
  java: { app: 'java', format: 'multiline' },
  cli: { app: 'cli', format: 'ansi' },
  packed: { app: 'packed', format: 'packed' },
} as const satisfies Record<string, Labels>;

const METHODS = ['GET', 'GET', 'GET', 'POST', 'DELETE', 'PUT'];
const STATUSES = [200, 200, 200, 201, 404, 500, 503];
const NAMES = ['Zoë', 'José', '日本語', 'Ana', 'bob', 'Émile 🚀'];
const LEVELS = ['info', 'info', 'warn', 'error', 'debug'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Entries per stream; every timestamp is distinct. */
export const PER_STREAM = 60;

export function makeCorpus(startNs: bigint, stepNs = 1_000_000_000n): CorpusEntry[] {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed >>> 12) % n;
  };
  const out: CorpusEntry[] = [];
  let k = 0;
  const push = (labels: Labels, line: string, source: Source): void => {
    out.push({ labels: { ...labels }, timestampNs: startNs + BigInt(k++) * stepNs + 7n, line, source });
  };
  for (let i = 0; i < PER_STREAM; i++) {
    // JSON access log (one in twelve malformed)
    if (i % 12 === 11) {
      push(CORPUS_STREAMS.json, `{"method":"GET","status":200,"path":"/broken/${i}"`, { kind: 'badjson' });
    } else {
      const s: JsonAccess = {
        kind: 'json',
        method: METHODS[rand(METHODS.length)]!,
        path: `/items/${rand(50)}`,
        status: STATUSES[rand(STATUSES.length)]!,
        duration_ms: rand(4000) / 8,
        latency: `${rand(300)}ms`,
        size: `${(rand(40) / 10).toFixed(1)}KB`,
        ip: `10.${rand(3)}.${rand(4)}.${rand(250) + 1}`,
        user: { id: `u${rand(9)}`, name: NAMES[rand(NAMES.length)]! },
        tags: rand(2) === 0 ? ['a', `t${i}`] : [],
        headers: { 'user-agent': `curl/${rand(8)}.0` },
      };
      const { kind: _kind, ...body } = s;
      push(CORPUS_STREAMS.json, JSON.stringify(body), s);
    }
    // logfmt (one in ten malformed: an unterminated quote)
    if (i % 10 === 9) {
      push(CORPUS_STREAMS.logfmt, `level=error msg="unterminated job=${i}`, { kind: 'badlogfmt' });
    } else {
      const s: LogfmtLine = {
        kind: 'logfmt',
        level: LEVELS[rand(LEVELS.length)]!,
        msg: rand(2) === 0 ? 'job done' : `step ${i} "quoted"`,
        duration: `${rand(30) / 10}s`,
        job: i,
        retry: rand(3) === 0,
        empty: rand(4) === 0,
      };
      const msg = `"${s.msg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
      push(
        CORPUS_STREAMS.logfmt,
        `level=${s.level} msg=${msg} duration=${s.duration} job=${s.job}${s.retry ? ' retry' : ''}${s.empty ? ' empty=' : ''}`,
        s,
      );
    }
    // Apache common log format
    {
      const day = 1 + rand(28);
      const s: ApacheLine = {
        kind: 'apache',
        ip: `10.${rand(2)}.2.${rand(20)}`,
        user: rand(3) === 0 ? '-' : `user${rand(5)}`,
        method: METHODS[rand(METHODS.length)]!,
        path: `/static/${rand(30)}.png`,
        status: STATUSES[rand(STATUSES.length)]!,
        size: rand(5000),
        timeText: `${String(day).padStart(2, '0')}/${MONTHS[rand(12)]}/2024:13:55:${String(rand(60)).padStart(2, '0')} +0000`,
      };
      push(CORPUS_STREAMS.apache, `${s.ip} - ${s.user} [${s.timeText}] "${s.method} ${s.path} HTTP/1.1" ${s.status} ${s.size}`, s);
    }
    // multi-line stack traces
    if (i % 3 === 0) {
      const frames = [`com.example.Service.call(Service.java:${rand(200)})`, `com.example.Main.main(Main.java:${rand(50)})`];
      const head = i % 2 === 0 ? 'Exception in thread "main" java.lang.IllegalStateException: boom' : 'WARN slow call';
      push(CORPUS_STREAMS.java, [head, ...frames.map((f) => `\tat ${f}`)].join('\n'), { kind: 'multiline', frames });
    }
    // ANSI-coloured CLI output
    {
      const level = LEVELS[rand(LEVELS.length)]!;
      const colour = level === 'error' ? 31 : level === 'warn' ? 33 : 32;
      const text = `${NAMES[rand(NAMES.length)]} finished step ${i}`;
      push(CORPUS_STREAMS.cli, `\x1b[${colour}m${level.toUpperCase()}\x1b[0m \x1b[1m${text}\x1b[0m`, { kind: 'ansi', level, text });
    }
    // packed (promtail's pack stage)
    if (i % 4 === 0) {
      const s = { kind: 'packed' as const, entry: `original line ${i} ✓`, pod: `pod-${rand(3)}` };
      push(CORPUS_STREAMS.packed, JSON.stringify({ pod: s.pod, _entry: s.entry }), s);
    }
  }
  return out;
}
