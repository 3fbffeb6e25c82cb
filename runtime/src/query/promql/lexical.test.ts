import test from 'ava';
import { parseGoDuration, parseSecondsOrDuration } from './lexical.js';

test('seconds or a Prometheus duration, as unrounded milliseconds', (t) => {
  t.is(parseSecondsOrDuration('15'), 15_000);
  t.is(parseSecondsOrDuration('0.0005'), 0.5);
  t.is(parseSecondsOrDuration('1e3'), 1_000_000);
  t.is(parseSecondsOrDuration('1m30s'), 90_000);
  t.is(parseSecondsOrDuration('0'), 0);
  for (const text of ['', 'soon', '1.5m', '30m1h']) t.is(parseSecondsOrDuration(text), undefined, text);
});

test('Go durations take fractions, signs and sub-millisecond units as well as the Prometheus ones', (t) => {
  t.is(parseGoDuration('1.5h'), 5_400_000);
  t.is(parseGoDuration('-1m30s'), -90_000);
  t.is(parseGoDuration('1y1w1d'), (365 + 7 + 1) * 86_400_000);
  t.is(parseGoDuration('1500us'), 1.5);
  t.is(parseGoDuration('2000000ns'), 2);
  t.is(parseGoDuration('10µs'), 0.01);
  for (const text of ['', '5', '5x', '1h-5m']) t.is(parseGoDuration(text), undefined, text);
});
