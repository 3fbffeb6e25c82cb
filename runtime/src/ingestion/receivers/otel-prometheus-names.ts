/**
 * OpenTelemetry → Prometheus names, as Prometheus' own OTLP receiver writes them by default
 * (translation strategy "UnderscoreEscapingWithSuffixes"; the rules of the OTel
 * specification `compatibility/prometheus_and_openmetrics.md`):
 *
 * - a metric name is split into words at every character outside `[a-zA-Z0-9:]` and joined
 *   with `_` (so runs of invalid characters and underscores become one `_`);
 * - the unit becomes suffix words: the part before `/` through UNITS (an unknown unit is
 *   kept, its invalid characters as `_`), the part after it as `per_` + PER_UNITS; a part
 *   holding a `{…}` annotation adds nothing; a word the name already has is not repeated;
 * - a monotonic sum ends in `_total` (other `total` words are removed), a gauge of unit `1`
 *   in `_ratio`; a name that starts with a digit gets a leading `_`;
 * - an attribute name has its runs of characters outside `[a-zA-Z0-9]` as one `_`
 *   (`__x__` keeps its double underscores) and a leading digit gets `key_`.
 *
 * A name that ends up empty or only underscores has no Prometheus name (undefined).
 */

export type MetricKind = 'gauge' | 'counter' | 'non_monotonic_sum' | 'histogram' | 'summary';

/** UCUM units (as OTel semantic conventions use them) → Prometheus base-unit words. */
const UNITS: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

/** The unit after `/`, singular: `By/s` → `bytes_per_second`. */
const PER_UNITS: Record<string, string> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

const NOT_METRIC_CHARS = /[^a-zA-Z0-9:]+/;
const onlyUnderscores = (s: string) => /^_*$/.test(s);

/** A unit word: invalid characters as `_`, runs of `_` as one, no leading `_`. */
function cleanUnit(unit: string): string {
  return unit
    .replace(/[^a-zA-Z0-9:]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_/, '');
}

/** The unit's two suffixes (either may be ''). */
function unitSuffixes(unit: string): { main: string; per: string } {
  const slash = unit.indexOf('/');
  const mainText = (slash < 0 ? unit : unit.slice(0, slash)).trim();
  const perText = slash < 0 ? '' : unit.slice(slash + 1).trim();
  const annotated = (s: string) => s.includes('{') || s.includes('}');
  const main = mainText !== '' && !annotated(mainText) ? (UNITS[mainText] ?? mainText) : '';
  const perWord = perText !== '' && !annotated(perText) ? (PER_UNITS[perText] ?? perText) : '';
  return { main: cleanUnit(main), per: perWord === '' ? '' : cleanUnit(`per_${perWord}`) };
}

/** The unit as the name's suffix words spell it (`By/s` → `bytes_per_second`), for the family's metadata. */
export function prometheusUnit(unit: string): string {
  const { main, per } = unitSuffixes(unit);
  const perWords = per === 'per_' ? '' : per.replace(/_$/, '');
  return [perWords === '' ? main : main.replace(/_$/, ''), perWords].filter((w) => w !== '').join('_');
}

export function metricName(name: string, unit: string, kind: MetricKind): string | undefined {
  let words = name.split(NOT_METRIC_CHARS).filter((w) => w !== '');
  let { main, per } = unitSuffixes(unit);
  if (words.includes(main)) main = '';
  per = per === 'per_' ? '' : per.replace(/_$/, '');
  if (words.includes(per)) per = '';
  if (per !== '') main = main.replace(/_$/, '');
  if (main !== '') words.push(main);
  if (per !== '') words.push(per);
  if (kind === 'counter') words = [...words.filter((w) => w !== 'total'), 'total'];
  if (unit === '1' && kind === 'gauge') words = [...words.filter((w) => w !== 'ratio'), 'ratio'];
  let out = words.join('_');
  if (/^[0-9]/.test(out)) out = `_${out}`;
  return onlyUnderscores(out) ? undefined : out;
}

export function labelName(key: string): string | undefined {
  if (key === '') return undefined;
  const reserved = key.length >= 4 && key.startsWith('__') && key.endsWith('__');
  let out = (reserved ? key.slice(2, -2) : key).replace(/[^a-zA-Z0-9]+/g, '_');
  if (reserved) out = `__${out}__`;
  if (/^[0-9]/.test(out)) out = `key_${out}`;
  return onlyUnderscores(out) ? undefined : out;
}

/**
 * A float as Go's strconv.FormatFloat(x, 'f', -1, 64) writes it, which is how Prometheus
 * spells `le` and `quantile` values from OTLP: the shortest digits that read back as x, never
 * in exponent notation (1e-7 → "0.0000001"); ±Inf as "+Inf"/"-Inf".
 */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  if (Object.is(x, -0)) return '-0';
  const text = String(x);
  const exp = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!exp) return text;
  const [, sign, first, rest = '', power] = exp;
  const digits = first! + rest;
  const point = 1 + Number(power); // where the decimal point goes in `digits`
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
