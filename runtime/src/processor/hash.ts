/**
 * FNV-1a 64 over the UTF-8 bytes of strings, streamed without building the input string
 * or a byte buffer (the sampler hashes every entry on a 50k entries/s path), with 64-bit
 * arithmetic done in two 32-bit halves because BigInt arithmetic allocates.
 */

const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
/** The FNV 64-bit prime is 2^40 + 0x1b3. */
const PRIME_LOW_PART = 0x1b3;
const TWO_POW_32 = 4294967296;

export class Fnv1a64 {
  private hi = OFFSET_HI;
  private lo = OFFSET_LO;

  reset(): this {
    this.hi = OFFSET_HI;
    this.lo = OFFSET_LO;
    return this;
  }

  byte(b: number): this {
    const lo = (this.lo ^ b) >>> 0;
    // (hi·2^32 + lo)·(2^40 + 0x1b3) mod 2^64, split into words; lo·0x1b3 < 2^41 is exact.
    const loProduct = lo * PRIME_LOW_PART;
    this.hi = (Math.imul(this.hi, PRIME_LOW_PART) + ((loProduct / TWO_POW_32) >>> 0) + (lo << 8)) >>> 0;
    this.lo = loProduct >>> 0;
    return this;
  }

  /** Feeds the UTF-8 encoding of `s`; lone surrogates count as U+FFFD, as TextEncoder does. */
  string(s: string): this {
    // The ASCII fast path keeps the state in locals: property writes per byte cost ~3x.
    let hi = this.hi;
    let lo = this.lo;
    const n = s.length;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      lo = (lo ^ c) >>> 0;
      const loProduct = lo * PRIME_LOW_PART;
      hi = (Math.imul(hi, PRIME_LOW_PART) + ((loProduct / TWO_POW_32) >>> 0) + (lo << 8)) >>> 0;
      lo = loProduct >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
    if (i < n) this.utf8From(s, i);
    return this;
  }

  private utf8From(s: string, start: number): void {
    const n = s.length;
    for (let i = start; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        this.byte(c);
      } else if (c < 0x800) {
        this.byte(0xc0 | (c >> 6)).byte(0x80 | (c & 0x3f));
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          this.byte(0xf0 | (c >> 18))
            .byte(0x80 | ((c >> 12) & 0x3f))
            .byte(0x80 | ((c >> 6) & 0x3f))
            .byte(0x80 | (c & 0x3f));
        } else {
          this.byte(0xef).byte(0xbf).byte(0xbd);
        }
      } else {
        this.byte(0xe0 | (c >> 12))
          .byte(0x80 | ((c >> 6) & 0x3f))
          .byte(0x80 | (c & 0x3f));
      }
    }
  }

  /** The 64-bit FNV-1a value as 16 hex digits (for tests against published vectors). */
  hex(): string {
    return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0');
  }

  /**
   * 32 well-mixed bits of the hash. FNV's last input bytes barely reach the top bits (the
   * multiply moves them up by only 8–9 bits), so entries differing only in a trailing
   * digit would land in correlated buckets; murmur3's finaliser spreads them out.
   */
  mixed32(): number {
    let h = (this.hi ^ this.lo) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  }
}
