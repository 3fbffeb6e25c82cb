import test from 'ava';
import { cutUtf8, FileDecoder, salvageDockerLog, type DecodedEntry, type DecoderOptions } from './decoder.js';

function decode(input: string | Buffer, options: Partial<DecoderOptions> = {}, chunk = 7): DecodedEntry[] {
  const out: DecodedEntry[] = [];
  const d = new FileDecoder({ format: 'auto', maxLineBytes: 1024, ...options }, (e) => out.push(e));
  const buf = typeof input === 'string' ? Buffer.from(input) : input;
  for (let i = 0; i < buf.length; i += chunk) d.feed(buf.subarray(i, i + chunk), i); // split anywhere
  return out;
}

const T = '2026-11-26T10:00:00.000000001Z';

test('CRI lines split over any chunk boundaries; end offsets are line ends', (t) => {
  const text = `${T} stdout F one\n${T} stderr F two\n`;
  const out = decode(text, {}, 3);
  t.deepEqual(
    out.map((e) => [e.stream, e.message, e.endOffset]),
    [
      ['stdout', 'one', text.indexOf('\n') + 1],
      ['stderr', 'two', text.length],
    ],
  );
  t.is(out[0]!.timestampNs, 1795687200000000001n);
});

test('CRI P parts join up to F; the checkpoint never passes a held-back part', (t) => {
  const lines = [`${T} stdout P a-`, `${T} stderr F err`, `${T} stdout P b-`, `${T} stdout F c`];
  const text = lines.map((l) => l + '\n').join('');
  const out = decode(text);
  t.deepEqual(
    out.map((e) => e.message),
    ['err', 'a-b-c'],
  );
  t.is(out[0]!.endOffset, 0, 'stderr entry: the stdout part before it is still held');
  t.is(out[1]!.endOffset, text.length);
});

test('multiline: start pattern groups continuation lines; timeout emits the last group', (t) => {
  const out: DecodedEntry[] = [];
  const d = new FileDecoder({ format: 'cri', maxLineBytes: 1024, multiline: { startPattern: /^\S/, timeoutMs: 10 } }, (e) => out.push(e));
  const text = [`${T} stdout F Exception`, `${T} stdout F   at x`, `${T} stdout F next`, `${T} stdout F   at y`]
    .map((l) => l + '\n')
    .join('');
  d.feed(Buffer.from(text), 0);
  t.deepEqual(
    out.map((e) => e.message),
    ['Exception\n  at x'],
  );
  t.true(d.safeOffset(text.length) < text.length);
  d.tick(Date.now() + 20);
  t.deepEqual(
    out.map((e) => e.message),
    ['Exception\n  at x', 'next\n  at y'],
  );
  t.is(out[1]!.endOffset, text.length);
});

test('docker json-file lines, with a cut one salvaged', (t) => {
  const line = JSON.stringify({ log: 'hello "x"\n', stream: 'stderr', time: T });
  const out = decode(line + '\n');
  t.deepEqual([out[0]!.message, out[0]!.stream, out[0]!.fields], ['hello "x"', 'stderr', undefined]);
  t.is(salvageDockerLog('{"log":"abc\\u00e9de\\u00'), 'abcéde');
  t.is(salvageDockerLog('{"log":"ok\\n","stream":"stdout"'), 'ok');
  t.is(salvageDockerLog('not docker'), undefined);
});

test('lines over the limit are cut at a character boundary and flagged; memory stays bounded', (t) => {
  const big = 'é'.repeat(600); // 1200 bytes
  const out = decode(`${T} stdout F ${big}\n${T} stdout F ${'z'.repeat(100_000)}\n${T} stdout F after\n`, { maxLineBytes: 1000 }, 4096);
  t.is(Buffer.byteLength(out[0]!.message), 1000);
  t.is(out[0]!.message, 'é'.repeat(500));
  t.deepEqual(out[0]!.fields, { truncated: true });
  t.is(out[1]!.message, 'z'.repeat(1000));
  t.is(out[2]!.message, 'after');
  t.is(cutUtf8('aé', 2), 'a');
});

test('invalid UTF-8 is replaced and flagged; a U+FFFD that was really written is not flagged', (t) => {
  const out = decode(Buffer.concat([Buffer.from(`${T} stdout F a`), Buffer.from([0xff]), Buffer.from(`b\n${T} stdout F \uFFFD\n`)]));
  t.is(out[0]!.message, 'a\uFFFDb');
  t.deepEqual(out[0]!.fields, { invalid_utf8: true });
  t.is(out[1]!.fields, undefined);
});

test('unparseable lines are shipped raw and flagged; flush emits an unterminated last line', (t) => {
  const out: DecodedEntry[] = [];
  const d = new FileDecoder({ format: 'cri', maxLineBytes: 1024 }, (e) => out.push(e));
  d.feed(Buffer.from(`garbage\n${T} stdout P half`), 0);
  t.deepEqual(out[0]!.fields, { unparsed: true });
  d.flush(100);
  t.is(out[1]!.message, `${T} stdout P half`.slice(T.length + 10));
  t.deepEqual(out[1]!.fields, { partial: true }, 'a P part never completed by an F is flagged');
});
