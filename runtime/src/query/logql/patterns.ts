/**
 * Log pattern mining for Loki's `patterns` endpoint (Grafana Logs Drilldown's Patterns tab):
 * lines are grouped into templates in the manner of Drain (He et al., "Drain: An Online Log
 * Parsing Approach with Fixed Depth Tree", ICWS 2017), and the positions where a group's
 * lines differ become `<_>`. Loki mines in a pattern ingester as lines arrive; Sextant mines
 * at query time over the lines the query reads, so there is nothing extra to run or store.
 *
 * A line is split into words and the separators between them (whitespace and punctuation such
 * as `=`, `:`, `/`, quotes and brackets). Lines join a group only when their separators are
 * identical and they have as many words, so a template always matches its own lines as a
 * LogQL pattern filter (`|> "<template>"`): each `<_>` stands for one word, and words hold no
 * separator, so a capture ends exactly where the next literal starts.
 */
import type { LogReader } from '../../storage/reader.js';
import type { LogQuery } from './ast.js';
import { scanLogEntries, type MetricQueryLimits } from './evaluate.js';

/** Characters that separate words; `<` and `>` too, so a line's own text never reads as a capture. */
const SEPARATOR = /([\s"'`=:,;()[\]{}<>|/?&]+)/;
export const WILDCARD = '<_>';

export interface PatternMinerOptions {
  /** Share of a template's literal words a line must equal to join it (Drain's similarity threshold). */
  similarity?: number;
  /** Templates per tree leaf; past it a line joins the closest template, so every line is counted. */
  maxTemplatesPerLeaf?: number;
  /** Words per line; the rest of a longer line is one last word. */
  maxWords?: number;
}

export interface MinedPattern {
  pattern: string;
  level?: string;
  /** [unix seconds of the step's start, lines in that step], by time. */
  samples: [number, number][];
}

interface Template {
  words: (string | undefined)[];
  separators: string[];
  level: string | undefined;
  /** Lines per step start (ns). */
  counts: Map<bigint, number>;
  total: number;
}

interface Tokens {
  words: string[];
  /** separators[i] comes before words[i]; the last one ends the line. */
  separators: string[];
}

export function tokenize(line: string, maxWords: number): Tokens {
  const words: string[] = [];
  const separators = [''];
  // split() with a capturing group alternates words and separators; words are empty only
  // at the ends (a line that starts or ends with a separator).
  line.split(SEPARATOR).forEach((part, i) => {
    if (i % 2 === 1) separators[separators.length - 1] += part;
    else if (part !== '') {
      words.push(part);
      separators.push('');
    }
  });
  if (words.length <= maxWords) return { words, separators };
  // The tail becomes one word, separators included; as the template's last word it is a
  // capture that runs to the end of the line.
  const keep = maxWords - 1;
  let tail = words[keep]!;
  for (let i = keep + 1; i < words.length; i++) tail += separators[i]! + words[i]!;
  tail += separators[words.length]!;
  return { words: [...words.slice(0, keep), tail], separators: [...separators.slice(0, keep + 1), ''] };
}

const hasDigit = (word: string): boolean => /\d/.test(word);

function similarity(template: Template, words: string[]): number {
  let same = 0;
  for (let i = 0; i < words.length; i++) if (template.words[i] === words[i]) same++;
  return words.length === 0 ? 1 : same / words.length;
}

export class PatternMiner {
  readonly #similarity: number;
  readonly #maxPerLeaf: number;
  readonly #maxWords: number;
  readonly #leaves = new Map<string, Template[]>();
  readonly #stepNs: bigint;
  readonly #startNs: bigint;
  #lines = 0;

  /** Counts lines per step of `stepNs` from `startNs`. */
  constructor(startNs: bigint, stepNs: bigint, options: PatternMinerOptions = {}) {
    this.#startNs = startNs;
    this.#stepNs = stepNs;
    this.#similarity = options.similarity ?? 0.5;
    this.#maxPerLeaf = options.maxTemplatesPerLeaf ?? 100;
    this.#maxWords = options.maxWords ?? 128;
  }

  /** Lines added that had at least one word. */
  get lines(): number {
    return this.#lines;
  }

  /** Adds one line; a line of separators only (blank, say) has no pattern and is skipped. */
  add(line: string, timestampNs: bigint, level?: string): void {
    const { words, separators } = tokenize(line, this.#maxWords);
    if (words.length === 0) return;
    this.#lines++;
    // The tree of Drain, flattened: the level, the separators (which fix the word count) and
    // the first word (or the wildcard when it holds a digit, as Drain does) pick the leaf.
    const first = hasDigit(words[0]!) ? WILDCARD : words[0]!;
    const key = JSON.stringify([level ?? null, separators, first]);
    let leaf = this.#leaves.get(key);
    if (!leaf) this.#leaves.set(key, (leaf = []));
    let best: Template | undefined;
    let bestScore = -1;
    for (const t of leaf) {
      const score = similarity(t, words);
      if (score > bestScore) [best, bestScore] = [t, score];
    }
    if (!best || (bestScore < this.#similarity && leaf.length < this.#maxPerLeaf)) {
      best = { words: [...words], separators, level, counts: new Map(), total: 0 };
      leaf.push(best);
    } else {
      for (let i = 0; i < words.length; i++) if (best.words[i] !== words[i]) best.words[i] = undefined;
    }
    const step = this.#startNs + ((timestampNs - this.#startNs) / this.#stepNs) * this.#stepNs;
    best.counts.set(step, (best.counts.get(step) ?? 0) + 1);
    best.total++;
  }

  /** Templates by lines matched, most first; at most `limit`. */
  result(limit: number): MinedPattern[] {
    const all = [...this.#leaves.values()].flat().sort((a, b) => b.total - a.total);
    return all.slice(0, limit).map((t) => ({
      pattern: render(t),
      ...(t.level === undefined ? {} : { level: t.level }),
      samples: [...t.counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ns, n]) => [Number(ns / 1_000_000_000n), n]),
    }));
  }
}

function render(t: Template): string {
  let out = '';
  for (let i = 0; i < t.words.length; i++) out += t.separators[i]! + (t.words[i] ?? WILDCARD);
  return out + t.separators[t.words.length]!;
}

export interface PatternQueryOptions {
  startNs: bigint;
  endNs: bigint;
  stepNs: bigint;
  /** Most recent lines to mine. */
  lineLimit: number;
  /** Templates to answer. */
  limit: number;
}

/**
 * Mines the most recent `lineLimit` lines a log query selects in [startNs, endNs), newest
 * first as Drilldown shows them. A line's level is its `detected_level` (structured metadata
 * or label), so a template is per level, as Loki's are.
 */
export async function minePatterns(
  query: LogQuery,
  reader: LogReader,
  options: PatternQueryOptions,
  limits: MetricQueryLimits = {},
): Promise<MinedPattern[]> {
  const miner = new PatternMiner(options.startNs, options.stepNs);
  const lineLimit = Math.min(options.lineLimit, limits.maxEntries ?? options.lineLimit);
  let seen = 0;
  await scanLogEntries(
    query,
    reader,
    { startNs: options.startNs, endNs: options.endNs, direction: 'backward', limit: lineLimit },
    limits,
    (stored, e) => {
      miner.add(e.line, e.timestampNs, levelOf(stored.fields.detected_level) ?? stored.labels.detected_level);
      return ++seen < lineLimit;
    },
  );
  return miner.result(options.limit);
}

const levelOf = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
