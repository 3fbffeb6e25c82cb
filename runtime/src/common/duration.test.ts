import test from 'ava';
import { parseDuration } from './duration.js';

test('Prometheus durations: units y w d h m s ms, each at most once, in order, or 0', (t) => {
  t.is(parseDuration('5m'), 300_000);
  t.is(parseDuration('1h30m'), 5_400_000);
  t.is(parseDuration('250ms'), 250);
  t.is(parseDuration('1m1ms'), 60_001);
  t.is(parseDuration('1y1w1d'), (365 + 7 + 1) * 86_400_000);
  t.is(parseDuration('0'), 0);
  t.is(parseDuration('0s'), 0);
});

test('what the grammar refuses: empty, out of order, repeated, fractional, signed, unitless, Go-only units', (t) => {
  for (const text of ['', '30m1h', '1m1m', '1.5h', '-5m', '+5m', '15', '10us', '5ns', '5M', ' 5m', 'ms'])
    t.is(parseDuration(text), undefined, text);
});
