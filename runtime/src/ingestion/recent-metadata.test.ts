import test from 'ava';
import type { MetricMetadata } from '../model/types.js';
import { RecentMetadata } from './recent-metadata.js';

const m = (metric: string, help = 'h'): MetricMetadata => ({ metric, type: 'gauge', help, unit: '', timestampMs: 0 });

test('a variant is due again only after the refresh interval; another variant of the family is due at once', (t) => {
  const recent = new RecentMetadata(1000, 10);
  t.deepEqual(recent.due([m('a'), m('b')], 0), [m('a'), m('b')]);
  recent.remember([m('a'), m('b')], 0);
  t.deepEqual(recent.due([m('a'), m('b'), m('a', 'changed')], 999), [m('a', 'changed')]);
  t.deepEqual(recent.due([m('a')], 1000), [m('a')]);
});

test('nothing is remembered until published, and the oldest are forgotten past the bound', (t) => {
  const recent = new RecentMetadata(1000, 2);
  t.deepEqual(recent.due([m('a')], 0), [m('a')], 'due, but not remembered: the publish may fail');
  t.deepEqual(recent.due([m('a')], 1), [m('a')]);
  recent.remember([m('a')], 0);
  recent.remember([m('b')], 1);
  recent.remember([m('c')], 2);
  t.deepEqual(recent.due([m('a'), m('b'), m('c')], 3), [m('a')], 'a, the oldest, was forgotten');
});
