import test from 'ava';
import { formatGoFloat, formatValue } from './format.js';

test("formatGoFloat prints like Go's %v (checked against go1.26 fmt.Println)", (t) => {
  const cases: [number, string][] = [
    [1e20, '1e+20'],
    [1e6, '1e+06'],
    [123456, '123456'],
    [1234567, '1.234567e+06'],
    [12345678.9, '1.23456789e+07'],
    [1e-5, '1e-05'],
    [-2.5e-7, '-2.5e-07'],
    [0.0001, '0.0001'],
    [0.5, '0.5'],
    [9.223372036854776e18, '9.223372036854776e+18'],
    [NaN, 'NaN'],
    [-Infinity, '-Inf'],
  ];
  for (const [v, want] of cases) t.is(formatGoFloat(v), want, String(v));
});

test('formatValue never uses exponents', (t) => {
  t.is(formatValue(1e21), '1000000000000000000000');
  t.is(formatValue(1.5e-7), '0.00000015');
});
