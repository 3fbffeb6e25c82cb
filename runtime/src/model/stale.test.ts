import test from 'ava';
import { STALE_NAN, isStaleNaN, staleNaNBytes } from './stale.js';

const fromBits = (bits: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(bits);
  return b.readDoubleBE(0);
};

test('the staleness marker is told apart from an ordinary NaN, also once V8 quieted it', (t) => {
  t.true(isStaleNaN(STALE_NAN));
  t.true(isStaleNaN(fromBits(0x7ff0000000000002n)));
  t.true(isStaleNaN([1, STALE_NAN].map((v) => v)[1]!), 'copied through a double array');
  t.false(isStaleNaN(NaN));
  t.false(isStaleNaN(fromBits(0x7ff8000000000001n)));
  t.false(isStaleNaN(0));
  t.false(isStaleNaN(Infinity));
  t.is(staleNaNBytes().readBigUInt64LE(), 0x7ff0000000000002n);
});
