import test from 'ava';
import { listenAddress } from './listen-flags.js';

const FILE = { host: '0.0.0.0', port: 9000 };

test('the flag wins over the env variable, which wins over the file', (t) => {
  t.deepEqual(listenAddress({}, {}, FILE), FILE);
  t.deepEqual(listenAddress({}, { SEXTANT_PORT: '9100', SEXTANT_HOST: '127.0.0.2' }, FILE), { host: '127.0.0.2', port: 9100 });
  t.deepEqual(listenAddress({ port: '9200', host: '127.0.0.3' }, { SEXTANT_PORT: '9100', SEXTANT_HOST: '127.0.0.2' }, FILE), {
    host: '127.0.0.3',
    port: 9200,
  });
  t.deepEqual(listenAddress({ port: '0' }, {}, FILE), { host: '0.0.0.0', port: 0 });
});

test('a port that is not 0-65535 is an error naming the value', (t) => {
  for (const bad of ['65536', '-1', '80.5', 'http'])
    t.deepEqual(listenAddress({ port: bad }, {}, FILE), { error: `invalid --port "${bad}": expected 0-65535` });
  t.deepEqual(listenAddress({}, { SEXTANT_PORT: 'x' }, FILE), { error: 'invalid --port "x": expected 0-65535' });
});
