import test from 'ava';
import { conditionTime, mergeConditions, type Condition } from './conditions.js';

const t0 = new Date('2026-11-27T10:00:00.123Z');
const t1 = new Date('2026-11-27T10:05:00.000Z');

test('new conditions get the current time and are reported as transitions', (t) => {
  const { conditions, transitions } = mergeConditions(
    undefined,
    [{ type: 'Ready', status: 'False', reason: 'SinkNotFound', message: 'm', observedGeneration: 1 }],
    t0,
  );
  t.deepEqual(conditions, [
    {
      type: 'Ready',
      status: 'False',
      reason: 'SinkNotFound',
      message: 'm',
      observedGeneration: 1,
      lastTransitionTime: '2026-11-27T10:00:00Z',
    },
  ]);
  t.deepEqual(transitions, [{ type: 'Ready', from: undefined, to: 'False', reason: 'SinkNotFound', message: 'm' }]);
});

test('same status keeps lastTransitionTime even when reason and message change', (t) => {
  const old: Condition[] = [
    {
      type: 'Ready',
      status: 'False',
      reason: 'SinkNotFound',
      message: 'a',
      observedGeneration: 1,
      lastTransitionTime: '2026-11-27T10:00:00Z',
    },
  ];
  const { conditions, transitions } = mergeConditions(
    old,
    [{ type: 'Ready', status: 'False', reason: 'SecretNotFound', message: 'b', observedGeneration: 2 }],
    t1,
  );
  t.is(conditions[0]!.lastTransitionTime, '2026-11-27T10:00:00Z');
  t.is(conditions[0]!.reason, 'SecretNotFound');
  t.is(conditions[0]!.observedGeneration, 2);
  t.deepEqual(transitions, []);
});

test('a status change moves lastTransitionTime and is one transition', (t) => {
  const old: Condition[] = [
    { type: 'Ready', status: 'False', reason: 'SinkNotFound', message: 'a', lastTransitionTime: '2026-11-27T10:00:00Z' },
    { type: 'Degraded', status: 'True', reason: 'SinkNotFound', message: 'a', lastTransitionTime: '2026-11-27T10:00:00Z' },
  ];
  const { conditions, transitions } = mergeConditions(
    old,
    [
      { type: 'Ready', status: 'True', reason: 'Ready', message: 'ok' },
      { type: 'Degraded', status: 'True', reason: 'SinkNotFound', message: 'a' },
    ],
    t1,
  );
  t.is(conditions[0]!.lastTransitionTime, conditionTime(t1));
  t.is(conditions[1]!.lastTransitionTime, '2026-11-27T10:00:00Z');
  t.deepEqual(
    transitions.map((x) => `${x.type}:${x.from}->${x.to}`),
    ['Ready:False->True'],
  );
});

test('conditions not desired any more are dropped', (t) => {
  const old: Condition[] = [{ type: 'Old', status: 'True', reason: 'X', message: '', lastTransitionTime: '2026-11-27T10:00:00Z' }];
  t.deepEqual(mergeConditions(old, [], t1).conditions, []);
});
