import test from 'ava';
import { mergeConditions, type Condition } from './conditions.js';
import { StatusMemo } from './status-memo.js';

const sinkNotFound = [{ type: 'Degraded', status: 'True' as const, reason: 'SinkNotFound', message: 'm' }];

test('a reconcile that reads the cache before our status write arrived sees the written status: no second transition', (t) => {
  const memo = new StatusMemo<{ conditions: Condition[] }>();
  const cached = { conditions: [] as Condition[] };
  // First reconcile: cache at resourceVersion 10 → one transition, written; the server answers 12.
  const first = mergeConditions(memo.current('ns/p', '10', cached)?.conditions, sinkNotFound, new Date());
  t.is(first.transitions.length, 1);
  memo.wrote('ns/p', '12', { conditions: first.conditions });
  // Before the watch event of 12: the cache still says 10, or shows 11 (a spec edit, or an
  // older status write, that landed before ours) — both carry the old status.
  for (const rv of ['10', '11']) {
    const again = mergeConditions(memo.current('ns/p', rv, cached)?.conditions, sinkNotFound, new Date());
    t.deepEqual(again.transitions, [], `cache at ${rv}: the same transition is not reported twice`);
    t.deepEqual(again.conditions, first.conditions);
  }
});

test('once the cache shows the version our write produced, the cache is the truth again and the memo goes', (t) => {
  const memo = new StatusMemo<string>();
  memo.wrote('k', '12', 'ours');
  t.is(memo.current('k', '11', 'stale'), 'ours');
  t.is(memo.current('k', '12', 'ours, from the cache'), 'ours, from the cache');
  t.is(memo.size, 0);
  t.is(memo.current('k', '13', 'later'), 'later');
});
