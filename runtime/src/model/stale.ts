/**
 * Prometheus' staleness marker: a NaN with the bits 0x7ff0000000000002, written when a
 * series disappears, so that PromQL ends it at once instead of after the lookback window.
 * Remote-write senders send it as a sample value; storage keeps it apart from an ordinary
 * NaN and gives it back with these exact bits.
 *
 * V8 may set the quiet bit (0x0008000000000000) of a NaN when it copies it through a double
 * array or arithmetic, keeping the payload, so the test ignores that bit.
 */
const view = new DataView(new ArrayBuffer(8));
const STALE_BITS = 0x7ff0000000000002n;
const QUIET_BIT = 0x0008000000000000n;

view.setBigUint64(0, STALE_BITS);
/** The marker as a number (its bits may be quieted by later copies; see isStaleNaN). */
export const STALE_NAN: number = view.getFloat64(0);

export function isStaleNaN(value: number): boolean {
  if (!Number.isNaN(value)) return false;
  view.setFloat64(0, value);
  return (view.getBigUint64(0) & ~QUIET_BIT) === STALE_BITS;
}

/** The marker's 8 bytes, little-endian, as storage keeps them. */
export function staleNaNBytes(): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(STALE_BITS);
  return out;
}

/** How the JSON-based codecs (bus, S3, OpenSearch) write a value a JSON number cannot hold. */
export type SpecialValue = 'NaN' | '+Inf' | '-Inf' | 'StaleNaN';

/** The text of a non-finite value. */
export function specialValueText(value: number): SpecialValue {
  if (Number.isNaN(value)) return isStaleNaN(value) ? 'StaleNaN' : 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/** The value of a special text, or undefined when it is none of them. */
export function specialValueOf(text: unknown): number | undefined {
  switch (text) {
    case 'NaN':
      return NaN;
    case 'StaleNaN':
      return STALE_NAN;
    case '+Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    default:
      return undefined;
  }
}
