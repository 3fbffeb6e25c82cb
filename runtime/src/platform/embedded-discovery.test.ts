/**
 * `sextant up` wires its file's `logDiscovery` section to both ends: the receivers derive
 * with it, and /loki/api/v1/drilldown-limits reports it.
 */
import test from 'ava';
import { silentLogger } from '../common/log.js';
import { resolveConfig } from './embedded-config.js';
import { startEmbedded } from './embedded.js';

const KEY = 'up-key';

test('a configured service label list and levels off reach ingestion and drilldown-limits', async (t) => {
  const config = resolveConfig({ logDiscovery: { discoverServiceName: ['team'], discoverLogLevels: false } }, 'test');
  const platform = await startEmbedded({
    host: '127.0.0.1',
    port: 0,
    dataDir: ':memory:',
    sync: 'normal',
    apiKeys: [KEY],
    config,
    log: silentLogger(),
  });
  t.teardown(() => platform.close());
  const url = `http://127.0.0.1:${platform.port}`;
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  const ns = String(BigInt(Date.now()) * 1_000_000n);
  const push = await fetch(`${url}/loki/api/v1/push`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ streams: [{ stream: { app: 'checkout', team: 'payments' }, values: [[ns, 'ERROR declined']] }] }),
  });
  t.is(push.status, 204, await push.text());
  const [entry] = platform.store.selectLogs({ matchers: [], startNs: 0n, endNs: BigInt(ns) + 1n, limit: 10, direction: 'forward' }).entries;
  t.deepEqual(entry?.labels, { app: 'checkout', team: 'payments', service_name: 'payments' }, 'from the configured list, not app');
  t.deepEqual(entry?.fields, {}, 'no detected_level');

  const limits = await fetch(`${url}/loki/api/v1/drilldown-limits`, { headers });
  t.like(((await limits.json()) as { limits: object }).limits, { discover_service_name: ['team'], discover_log_levels: false });
});
