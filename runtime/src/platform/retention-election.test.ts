import test from 'ava';
import { electionOf, electionTopic } from './retention-election.js';

const config = { pipeline: { namespace: 'team-a', name: 'web' }, signals: ['metrics', 'logs'] as ('logs' | 'metrics')[] };
const topic = 'sextant.team-a.web.metrics';

test('the election topic is the first signal of the pipeline', (t) => {
  t.is(electionTopic(config), topic);
  t.throws(() => electionTopic({ ...config, signals: [] }), { message: /no signals/ });
});

test('the member holding partition 0 of the election topic is elected, and only it', (t) => {
  t.like(electionOf({ [topic]: [1, 0], 'sextant.team-a.web.logs': [1] }, topic), { elected: true });
  t.like(electionOf({ [topic]: [1, 2], 'sextant.team-a.web.logs': [0] }, topic), {
    elected: false,
    reason: `another member holds partition 0 of ${topic}`,
  });
  t.like(electionOf({}, topic), { elected: false }, 'a member without partitions (more members than partitions)');
  t.like(electionOf(undefined, topic), { elected: false, reason: 'consumer group membership unknown (rebalancing, crashed or stopped)' });
});
