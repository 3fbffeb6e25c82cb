import test from 'ava';
import { mergeConditions, type Condition } from './conditions.js';
import { StatusMemo } from './status-memo.js';

test('a reconcile that reads the cache before our status write arrived sees the written status: no second transition', (t) => {
  const memo = new StatusMemo<{ conditions: Condition[] }>();
  const cached = { conditions: [] as Condition[] };
  // First reconcile: cache at resourceVersion 10, no condition yet → one transition, written.
  const first = mergeConditions(
    memo.current('ns/p', '10', cached)?.conditions,
    [{ type: 'Ready', status: 'False', reason: 'SinkNotFound', message: 'm' }],
    new Date(),
  );
  t.is(first.transitions.length, 1);
  memo.wrote('ns/p', '10', { conditions: first.conditions });
  // Second reconcile before the watch event: the cache still says resourceVersion 10 and no conditions.
  const second = mergeConditions(
    memo.current('ns/p', '10', cached)?.conditions,
    [{ type: 'Ready', status: 'False', reason: 'SinkNotFound', message: 'm' }],
    new Date(),
  );
  t.deepEqual(second.transitions, [], 'the same transition is not reported twice');
  t.deepEqual(second.conditions, first.conditions);
});

test('once the cache moved on, the cache is the truth again (someone else may have changed the status)', (t) => {
  const memo = new StatusMemo<string>();
  memo.wrote('k', '10', 'ours');
  t.is(memo.current('k', '10', 'stale'), 'ours');
  t.is(memo.current('k', '11', 'theirs'), 'theirs');
  t.is(memo.size, 0, 'the memo is dropped once the cache caught up');
  t.is(memo.current('k', '10', 'stale'), 'stale');
});
