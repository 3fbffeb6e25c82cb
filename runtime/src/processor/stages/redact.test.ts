import test from 'ava';
import { luhnValid } from '../detectors.js';
import { applyStage, decodeErrors, decodeOk, logEntry } from '../testkit.js';
import { createRedactStage, RedactConfig } from './redact.js';

const redactor = (config: unknown) => {
  const stage = createRedactStage(decodeOk(RedactConfig, config));
  return (message: string) => applyStage(stage, logEntry({ message })).entry.message;
};

/** Appends the Luhn check digit to `body`. */
function withCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error('unreachable');
}

test('config defaults and errors', (t) => {
  t.deepEqual(decodeOk(RedactConfig, { detectors: ['email'] }), {
    detectors: ['email'],
    patterns: [],
    replacement: undefined,
    fields: true,
  });
  t.deepEqual(decodeErrors(RedactConfig, {}), ['config.detectors: nothing to redact: set detectors and/or patterns']);
  t.deepEqual(decodeErrors(RedactConfig, { detectors: ['email', 'phone'], patterns: ['ok', '(', 'x*'], replacement: 1, fields: 'yes' }), [
    'config.detectors[1]: expected email | creditCard | ipv4 | bearerToken | apiKey | awsAccessKey | awsSecretKey, got "phone"',
    'config.patterns[1]: invalid regular expression "(": missing closing ) (RE2 syntax; backreferences and lookaround assertions are unsupported)',
    'config.patterns[2]: pattern matches the empty string',
    'config.replacement: expected string, got 1',
    'config.fields: expected boolean, got "yes"',
  ]);
  t.deepEqual(decodeErrors(RedactConfig, { detectors: 'email' }), [
    'config.detectors: expected Array<email | creditCard | ipv4 | bearerToken | apiKey | awsAccessKey | awsSecretKey>, got "email"',
  ]);
});

test('luhn check', (t) => {
  for (const good of ['4111111111111111', '378282246310005', '4222222222222', '5555555555554444', '6011111111111117', '0'])
    t.true(luhnValid(good), good);
  for (const bad of ['4111111111111112', '378282246310006', '1234567812345678', '', '41111111111111a1']) t.false(luhnValid(bad), bad);
});

test('creditCard: Luhn-valid 13–19 digit runs, with optional spaces or dashes', (t) => {
  const redact = redactor({ detectors: ['creditCard'] });
  t.is(redact('card 4111111111111111 ok'), 'card [REDACTED:creditCard] ok');
  t.is(redact('card 4111 1111 1111 1111.'), 'card [REDACTED:creditCard].');
  t.is(redact('card 4111-1111-1111-1111'), 'card [REDACTED:creditCard]');
  t.is(redact('amex 3782-822463-10005'), 'amex [REDACTED:creditCard]');
  t.is(redact('13 digits 4222222222222'), '13 digits [REDACTED:creditCard]');
  const nineteen = withCheckDigit('601100000000000000');
  t.is(nineteen.length, 19);
  t.is(redact(`n=${nineteen}`), 'n=[REDACTED:creditCard]');
});

test('creditCard: Luhn failures, too short, too long and embedded runs stay', (t) => {
  const redact = redactor({ detectors: ['creditCard'] });
  for (const text of [
    'card 4111111111111112',
    'id 123456789012', // 12 digits
    `long ${withCheckDigit('4111111111111111111')}`, // 20 digits
    'ts 1764151200123456789 took 12ms', // a nanosecond timestamp: 19 digits, Luhn fails
  ]) {
    t.is(redact(text), text, text);
  }
});

test('email', (t) => {
  const redact = redactor({ detectors: ['email'] });
  t.is(redact('from alice.smith+tag@mail.example.co.uk, to bob@x.io'), 'from [REDACTED:email], to [REDACTED:email]');
  t.is(redact('user@localhost and @handle and a@b'), 'user@localhost and @handle and a@b');
});

test('ipv4: valid octets only', (t) => {
  const redact = redactor({ detectors: ['ipv4'] });
  t.is(redact('from 10.0.0.1 to 255.255.255.255 via 0.0.0.0.'), 'from [REDACTED:ipv4] to [REDACTED:ipv4] via [REDACTED:ipv4].');
  t.is(redact('addr=192.168.1.20:8080'), 'addr=[REDACTED:ipv4]:8080');
  for (const text of ['256.1.1.1', '1.2.3.256', '1.2.3', 'version 1.2.3.4.5', '01.2.3.4', '1.2.3.04']) t.is(redact(text), text, text);
});

test('bearerToken keeps the scheme', (t) => {
  const redact = redactor({ detectors: ['bearerToken'] });
  t.is(redact('Authorization: Bearer eyJhbGciOi.J9.abc-def_123+/=='), 'Authorization: Bearer [REDACTED:bearerToken]');
  t.is(redact('authorization: bearer abcdefgh12345'), 'authorization: bearer [REDACTED:bearerToken]');
  t.is(redact('the bearer of bad news'), 'the bearer of bad news');
});

test('apiKey: key/value secrets in the common spellings', (t) => {
  const redact = redactor({ detectors: ['apiKey'] });
  t.is(redact('GET /x?api_key=abc123&page=2'), 'GET /x?api_key=[REDACTED:apiKey]&page=2');
  t.is(redact('apikey: "abc123" next'), 'apikey: "[REDACTED:apiKey]" next');
  t.is(redact('X-API-Key: k-123'), 'X-API-Key: [REDACTED:apiKey]');
  t.is(redact('{"api_key": "s3cr3t", "n": 1}'), '{"api_key": "[REDACTED:apiKey]", "n": 1}');
  t.is(
    redact('service_api_token=t0k access_token=a1 client_secret=c2'),
    'service_api_token=[REDACTED:apiKey] access_token=[REDACTED:apiKey] client_secret=[REDACTED:apiKey]',
  );
  t.is(redact('the api is key to success'), 'the api is key to success');
});

test('AWS access key ids and secret keys', (t) => {
  const redact = redactor({ detectors: ['awsAccessKey', 'awsSecretKey'] });
  t.is(redact('id AKIAIOSFODNN7EXAMPLE, ASIAIOSFODNN7EXAMPLE'), 'id [REDACTED:awsAccessKey], [REDACTED:awsAccessKey]');
  t.is(redact('XAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPL'), 'XAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPL');
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  t.is(secret.length, 40);
  t.is(redact(`aws_secret_access_key=${secret}`), 'aws_secret_access_key=[REDACTED:awsSecretKey]');
  t.is(redact(`AWS_SECRET_ACCESS_KEY: "${secret}"`), 'AWS_SECRET_ACCESS_KEY: "[REDACTED:awsSecretKey]"');
  t.is(redact(`aws_secret_access_key=${secret}X`), `aws_secret_access_key=${secret}X`);
  t.is(redact(`aws_secret_access_key=${secret.slice(1)}`), `aws_secret_access_key=${secret.slice(1)}`);
});

test('detectors run most specific first, whatever the config order', (t) => {
  const redact = redactor({ detectors: ['ipv4', 'email', 'apiKey', 'awsSecretKey'] });
  t.is(
    redact('aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY api_key=x from 10.1.2.3 by ops@example.com'),
    'aws_secret_access_key=[REDACTED:awsSecretKey] api_key=[REDACTED:apiKey] from [REDACTED:ipv4] by [REDACTED:email]',
  );
});

test('custom patterns and replacement (taken literally)', (t) => {
  t.is(redactor({ patterns: ['token=[A-Za-z0-9]+', 'pin \\d{4}'] })('token=abc9 pin 1234 ok'), '[REDACTED] [REDACTED] ok');
  t.is(redactor({ detectors: ['email'], patterns: ['secret'], replacement: '<$&>' })('a@b.io secret'), '<$&> <$&>');
});

test('redaction is idempotent', (t) => {
  const redact = redactor({ detectors: ['email', 'creditCard', 'ipv4', 'bearerToken', 'apiKey', 'awsAccessKey', 'awsSecretKey'] });
  const once = redact('Bearer abcdefghijk api_key=zzz 4111111111111111 a@b.io 1.2.3.4 AKIAIOSFODNN7EXAMPLE');
  t.is(
    once,
    'Bearer [REDACTED:bearerToken] api_key=[REDACTED:apiKey] [REDACTED:creditCard] [REDACTED:email] [REDACTED:ipv4] [REDACTED:awsAccessKey]',
  );
  t.is(redact(once), once);
});

test('fields are redacted recursively without mutating the input; labels are not', (t) => {
  const stage = createRedactStage(decodeOk(RedactConfig, { detectors: ['email'] }));
  const nested = { user: { email: 'a@b.io', id: 7 }, list: ['c@d.io', 1, null, { deep: ['e@f.io'] }], same: { x: 'plain' } };
  const input = logEntry({ message: 'by a@b.io', labels: { owner: 'ops@example.com' }, fields: { contact: 'x@y.org', n: 5, ...nested } });
  const { entry } = applyStage(stage, input);
  t.deepEqual(entry, {
    timestampNs: input.timestampNs,
    labels: { owner: 'ops@example.com' },
    message: 'by [REDACTED:email]',
    fields: {
      contact: '[REDACTED:email]',
      n: 5,
      user: { email: '[REDACTED:email]', id: 7 },
      list: ['[REDACTED:email]', 1, null, { deep: ['[REDACTED:email]'] }],
      same: { x: 'plain' },
    },
  });
  t.is(entry.fields['same'], nested.same, 'unchanged subtrees are not copied');
  t.deepEqual(nested.user, { email: 'a@b.io', id: 7 }, 'input objects are not edited');
  t.deepEqual(nested.list[3], { deep: ['e@f.io'] });
});

test('fields: false leaves fields alone', (t) => {
  const stage = createRedactStage(decodeOk(RedactConfig, { detectors: ['email'], fields: false }));
  const { entry } = applyStage(stage, logEntry({ message: 'a@b.io', fields: { e: 'a@b.io' } }));
  t.is(entry.message, '[REDACTED:email]');
  t.deepEqual(entry.fields, { e: 'a@b.io' });
});

test('scan stays linear on long token-like input', (t) => {
  const redact = redactor({ detectors: ['email', 'creditCard', 'ipv4', 'bearerToken', 'apiKey', 'awsAccessKey', 'awsSecretKey'] });
  const blob = 'A'.repeat(100_000) + '@' + '1'.repeat(50_000) + '.'.repeat(10) + 'x';
  const start = performance.now();
  t.is(redact(blob), blob);
  t.true(performance.now() - start < 1000, `took ${performance.now() - start} ms`);
});
