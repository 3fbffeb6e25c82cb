import test from 'ava';
import { Fnv1a64 } from './hash.js';

const fnv = (s: string) => new Fnv1a64().string(s).hex();

test('matches the published FNV-1a 64 test vectors', (t) => {
  t.is(fnv(''), 'cbf29ce484222325');
  t.is(fnv('a'), 'af63dc4c8601ec8c');
  t.is(fnv('foobar'), '85944171f73967e8');
});

test('hashes UTF-8 bytes, like TextEncoder (lone surrogates as U+FFFD)', (t) => {
  const bytesHash = (bytes: Uint8Array) => {
    const h = new Fnv1a64();
    for (const b of bytes) h.byte(b);
    return h.hex();
  };
  for (const s of ['caf\u00e9', '\u20ac', '\u{1F600}x', 'a\ud800b', 'z\udc00']) {
    t.is(fnv(s), bytesHash(new TextEncoder().encode(s)), JSON.stringify(s));
  }
});

test('reset starts over; mixed32 is deterministic', (t) => {
  const h = new Fnv1a64().string('abc');
  const first = h.mixed32();
  t.is(h.reset().string('abc').mixed32(), first);
  t.not(h.reset().string('abd').mixed32(), first);
  t.true(first >= 0 && first < 2 ** 32);
});
