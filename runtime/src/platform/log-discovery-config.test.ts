/**
 * The `logDiscovery` section in `sextant up`'s file and in the runtime configuration:
 * Loki's defaults when absent, each switch settable, bad values reported with their path.
 */
import test from 'ava';
import { ConfigError } from '../common/config-error.js';
import { DEFAULT_LOG_DISCOVERY } from '../ingestion/log-discovery.js';
import { resolveConfig } from './embedded-config.js';
import { resolveRuntimeConfig } from './runtime-config.js';

const runtimeDoc = (extra: Record<string, unknown> = {}) => ({
  pipeline: { namespace: 'a', name: 'b' },
  kafka: { brokers: ['k:9092'] },
  sinks: {},
  ...extra,
});

const errorsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.errors;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

test('absent: Loki 3 defaults, both on, in both documents', (t) => {
  t.deepEqual(resolveConfig({}, 'x').logDiscovery, DEFAULT_LOG_DISCOVERY);
  t.deepEqual(resolveRuntimeConfig(runtimeDoc(), 'x').logDiscovery, DEFAULT_LOG_DISCOVERY);
  t.true(DEFAULT_LOG_DISCOVERY.discoverLogLevels);
  t.is(DEFAULT_LOG_DISCOVERY.discoverServiceName[0], 'service');
});

test('each switch off; unset keys keep their defaults', (t) => {
  const section = { discoverServiceName: [], discoverLogLevels: false };
  for (const config of [resolveConfig({ logDiscovery: section }, 'x'), resolveRuntimeConfig(runtimeDoc({ logDiscovery: section }), 'x')]) {
    t.deepEqual(config.logDiscovery, { ...section, logLevelFields: DEFAULT_LOG_DISCOVERY.logLevelFields });
  }
  const custom = resolveConfig({ logDiscovery: { discoverServiceName: ['team'], logLevelFields: ['sev'] } }, 'x').logDiscovery;
  t.deepEqual(custom, { discoverServiceName: ['team'], discoverLogLevels: true, logLevelFields: ['sev'] });
});

test('bad values and unknown keys are errors with their path', (t) => {
  const section = { discoverServiceName: ['app', 'app.name'], discoverLogLevels: 'yes', logLevelFields: [''], levels: true };
  const embedded = errorsOf(() => resolveConfig({ logDiscovery: section }, 'x')).sort();
  const runtime = errorsOf(() => resolveRuntimeConfig(runtimeDoc({ logDiscovery: section }), 'x')).sort();
  t.deepEqual(runtime, embedded, 'the same codec, the same messages');
  t.true(
    embedded.some((e) => e.startsWith('logDiscovery.discoverServiceName[1]: must be a label name')),
    embedded.join('\n'),
  );
  t.true(
    embedded.some((e) => e.startsWith('logDiscovery.discoverLogLevels:')),
    embedded.join('\n'),
  );
  t.true(
    embedded.some((e) => e.startsWith('logDiscovery.logLevelFields[0]: must not be empty')),
    embedded.join('\n'),
  );
  t.true(
    embedded.some((e) => e.startsWith('logDiscovery.levels: unknown field')),
    embedded.join('\n'),
  );
});
