/**
 * `sextant agent` delivery against a real `sextant up` receiver (both child processes):
 * rotation by rename and by copytruncate under load, restart mid-file (SIGTERM: exactly
 * once at the ingestion; SIGKILL: no loss), an ingestion outage (spool used, no loss), and
 * a full spool (tailing pauses, nothing dropped). Every line is counted through the native
 * search API; "exactly once at the ingestion" is the receiver's own duplicate counter
 * (records it received twice) staying at zero.
 *
 * AGENT_IT_OUTAGE_SECONDS sets the outage length (default 10; the figure is 60).
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';
import {
  containerDir,
  criLine,
  freePort,
  metricSum,
  receiverMetric,
  searchAll,
  startAgentProcess,
  tempDir,
  waitFor,
  type AgentProcess,
} from '../../agent-daemonset/src/testkit/agent-process.js';

const KEY = 'agent-it-key';
const T0_MS = Date.now() - 1_800_000; // lines are timestamped from half an hour ago, 1 µs apart
const START_NS = BigInt(T0_MS - 60_000) * 1_000_000n;
const END_NS = BigInt(Date.now() + 3_600_000) * 1_000_000n;
const OUTAGE_SECONDS = Number(process.env.AGENT_IT_OUTAGE_SECONDS ?? 10);
const DUPLICATES = 'sextant_storage_duplicates_total{signal="logs"}';
const ACCEPTED = 'sextant_ingest_events_accepted_total{signal="logs"}';

const FAST_TAIL = { pollInterval: '50ms', rescanInterval: '200ms', rotateWait: '1s' };

let sextant: SextantProcess;
const cleanup: string[] = [];

test.before(async () => {
  sextant = await startSextant({ dataDir: tempDataDir('sextant-agent-it-'), apiKey: KEY, args: ['--sync', 'normal'] });
  cleanup.push(sextant.dataDir);
});

test.after.always(async () => {
  await sextant?.stop();
  for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
});

function route(name: string, namespace: string, endpoint = sextant.url) {
  return { name, endpoint, apiKey: { value: KEY }, namespaces: [namespace] };
}

/** Message of line i of a test (unique per namespace, parsed back by `seq`). */
function message(ns: string, i: number): string {
  return `${ns} seq=${i} GET /items/${i % 100} 200 ${'p'.repeat(60)}`;
}

/** Every line index seen through the search API, with missing and duplicated ones named. */
async function countLines(url: string, ns: string, n: number): Promise<{ stored: number; missing: number[]; duplicated: number[] }> {
  const entries = await searchAll(url, KEY, `{namespace="${ns}"}`, START_NS, END_NS);
  const seen = new Uint32Array(n);
  for (const e of entries) {
    const m = / seq=(\d+) /.exec(e.message);
    if (m) seen[Number(m[1])]!++;
  }
  const missing: number[] = [];
  const duplicated: number[] = [];
  seen.forEach((c, i) => {
    if (c === 0) missing.push(i);
    if (c > 1) duplicated.push(i);
  });
  return { stored: entries.length, missing, duplicated };
}

async function shipped(agent: AgentProcess, routeName: string): Promise<number> {
  return metricSum(await agent.metrics(), 'sextant_agent_entries_shipped_total', `route="${routeName}"`);
}

async function waitStored(url: string, ns: string, n: number, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `${n} entries of ${ns}`,
    async () => (await searchAll(url, KEY, `{namespace="${ns}"}`, START_NS, END_NS)).length >= n,
    timeoutMs,
    500,
  );
}

function dirs(prefix: string): { root: string; state: string } {
  const base = tempDir(prefix);
  cleanup.push(base);
  return { root: path.join(base, 'pods'), state: path.join(base, 'state') };
}

test.serial('rotation by rename and by copytruncate under load delivers every line exactly once', async (t) => {
  const ns = 'rotation';
  const N = 40_000;
  const { root, state } = dirs('agent-it-rotation-');
  const file = path.join(containerDir(root, ns, 'writer-0', 'app'), '0.log');
  fs.writeFileSync(file, '');
  const dupBefore = await receiverMetric(sextant.url, DUPLICATES);
  const agent = await startAgentProcess({
    root,
    stateDir: state,
    config: { routes: [route('rot', ns)], tail: FAST_TAIL, batch: { maxEntries: 1000, maxWait: '100ms' } },
  });
  try {
    let rotations = 0;
    let fileStart = 0; // first line of the file under the live name
    for (let i = 0; i < N;) {
      const chunk: string[] = [];
      for (let k = 0; k < 200 && i < N; k++, i++) chunk.push(criLine(T0_MS, i, message(ns, i)));
      fs.appendFileSync(file, chunk.join(''));
      if (i % 5000 === 0 && i < N) {
        // A rotation is seen (and classified) only for a file the agent has open: written and
        // rotated between two of its scans, the file is read all the same but its rotation
        // can only be counted as kind="unseen" (that is why this count used to be short).
        // So the agent must have read a line of this file before it is rotated; it may still
        // lag behind the writer (the copy is then read on from the agent's offset).
        const opened = fileStart + 1;
        await waitFor(
          'the agent reading the current file',
          async () => metricSum(await agent.metrics(), 'sextant_agent_lines_read_total') >= opened,
          30_000,
          10,
        );
        rotations++;
        if (rotations % 2 === 1) {
          fs.renameSync(file, `${file}.${rotations}`); // kubelet-style rename; the writer reopens
          fileStart = i;
        } else {
          fs.copyFileSync(file, `${file}.${rotations}`); // logrotate copytruncate, no write in between
          fs.truncateSync(file, 0);
          fileStart = i;
        }
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor('all lines shipped', async () => (await shipped(agent, 'rot')) >= N, 120_000);
    const result = await countLines(sextant.url, ns, N);
    t.deepEqual(result.missing.slice(0, 10), [], `${result.missing.length} lines missing`);
    t.deepEqual(result.duplicated, []);
    t.is(result.stored, N);
    const m = await agent.metrics();
    t.is(metricSum(m, 'sextant_agent_rotations_total', 'kind="rename"'), 4);
    t.is(metricSum(m, 'sextant_agent_rotations_total', 'kind="copytruncate"'), 3);
    t.is(metricSum(m, 'sextant_agent_rotations_total', 'kind="unseen"'), 0);
    t.is(metricSum(m, 'sextant_agent_rotations_total', 'kind="truncate"'), 0, 'no truncation without its copy');
    t.is(await shipped(agent, 'rot'), N, 'each entry acknowledged once');
    t.is((await receiverMetric(sextant.url, DUPLICATES)) - dupBefore, 0, 'the ingestion received no entry twice');
  } finally {
    await agent.stop();
  }
});

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test.serial(
    `restart mid-file (${signal}) resumes at the checkpoint: every line once${signal === 'SIGTERM' ? ', exactly once at the ingestion' : ''}`,
    async (t) => {
      const ns = `restart-${signal.toLowerCase()}`;
      const N = 60_000;
      const { root, state } = dirs(`agent-it-${ns}-`);
      const file = path.join(containerDir(root, ns, 'app-0', 'app'), '0.log');
      const lines: string[] = [];
      for (let i = 0; i < N; i++) lines.push(criLine(T0_MS, i, message(ns, i)));
      fs.writeFileSync(file, lines.join(''));
      const dupBefore = await receiverMetric(sextant.url, DUPLICATES);
      const acceptedBefore = await receiverMetric(sextant.url, ACCEPTED);
      const config = { routes: [route('restart', ns)], tail: FAST_TAIL, batch: { maxEntries: 500, maxWait: '100ms' } };
      const first = await startAgentProcess({ root, stateDir: state, config });
      let before = 0;
      try {
        before = await waitFor(
          'a part of the file shipped',
          async () => {
            const n = await shipped(first, 'restart');
            return n >= 5_000 ? n : 0;
          },
          60_000,
          10,
        );
      } finally {
        if (signal === 'SIGTERM') t.is(await first.stop(), 0);
        else await first.kill();
      }
      t.true(before < N, `the first run must stop mid-file (shipped ${before})`);
      const checkpoint = JSON.parse(fs.readFileSync(path.join(state, 'checkpoints.json'), 'utf8')) as { files: { offset: number }[] };
      t.true(checkpoint.files[0]!.offset > 0 && checkpoint.files[0]!.offset < fs.statSync(file).size);

      const second = await startAgentProcess({ root, stateDir: state, config });
      try {
        await waitStored(sextant.url, ns, N);
        const result = await countLines(sextant.url, ns, N);
        t.deepEqual(result.missing.slice(0, 10), [], `${result.missing.length} lines missing`);
        t.deepEqual(result.duplicated, []);
        const received = (await receiverMetric(sextant.url, DUPLICATES)) - dupBefore;
        const accepted = (await receiverMetric(sextant.url, ACCEPTED)) - acceptedBefore;
        if (signal === 'SIGTERM') {
          t.is(received, 0, 'no entry reached the ingestion twice');
          t.is(accepted, N, 'the ingestion accepted every line exactly once over both runs');
        } else {
          // The checkpoint is written (fsync + rename) after each acknowledgement; a SIGKILL
          // loses the acknowledgements not yet written, so those batches are sent again.
          t.log(`after SIGKILL: ${received} entries re-sent (stored once by their deterministic ids); accepted ${accepted} for ${N}`);
          t.true(received < N / 4, 'only the last few batches are sent again');
        }
      } finally {
        await second.stop();
      }
    },
  );
}

test.serial(`ingestion down for ${OUTAGE_SECONDS}s then back: the spool is used and no line is lost`, async (t) => {
  const ns = 'outage';
  const N1 = 5_000;
  const N2 = 20_000;
  const port = await freePort();
  const dataDir = tempDataDir('sextant-agent-it-outage-');
  cleanup.push(dataDir);
  let receiver = await startSextant({ dataDir, apiKey: KEY, args: ['--port', String(port), '--sync', 'normal'] });
  const { root, state } = dirs('agent-it-outage-');
  const file = path.join(containerDir(root, ns, 'app-0', 'app'), '0.log');
  const write = (from: number, to: number) => {
    const lines: string[] = [];
    for (let i = from; i < to; i++) lines.push(criLine(T0_MS, i, message(ns, i)));
    fs.appendFileSync(file, lines.join(''));
  };
  write(0, N1);
  const agent = await startAgentProcess({
    root,
    stateDir: state,
    config: {
      routes: [route('outage', ns, receiver.url)],
      tail: FAST_TAIL,
      batch: { maxEntries: 500, maxWait: '100ms' },
      queue: { memoryBytes: 16 * 1024, spoolBytes: 64 * 1024 * 1024 },
      retry: { initialBackoff: '100ms', maxBackoff: '1s' },
    },
  });
  try {
    await waitFor('the first lines shipped', async () => (await shipped(agent, 'outage')) >= N1);
    await receiver.stop();
    const downAt = Date.now();
    write(N1, N1 + N2 / 2);
    fs.renameSync(file, `${file}.1`); // a rotation during the outage
    write(N1 + N2 / 2, N1 + N2);
    const spooled = await waitFor(
      'batches in the spool',
      async () => metricSum(await agent.metrics(), 'sextant_agent_spool_bytes'),
      30_000,
    );
    t.true(spooled > 0);
    const m = await agent.metrics();
    t.true(metricSum(m, 'sextant_agent_retries_total') > 0);
    t.true(metricSum(m, 'sextant_agent_request_failures_total', 'reason="network"') > 0);
    const left = OUTAGE_SECONDS * 1000 - (Date.now() - downAt);
    if (left > 0) await new Promise((r) => setTimeout(r, left)); // the outage itself is the test's parameter
    receiver = await startSextant({ dataDir, apiKey: KEY, args: ['--port', String(port), '--sync', 'normal'] });
    await waitStored(receiver.url, ns, N1 + N2);
    const result = await countLines(receiver.url, ns, N1 + N2);
    t.deepEqual(result.missing.slice(0, 10), [], `${result.missing.length} lines missing`);
    t.deepEqual(result.duplicated, []);
    await waitFor('spool drained', async () => metricSum(await agent.metrics(), 'sextant_agent_spool_bytes') === 0, 30_000);
    t.is(fs.readdirSync(path.join(state, 'spool', 'outage')).filter((f) => f.endsWith('.batch')).length, 0);
    t.is(metricSum(await agent.metrics(), 'sextant_agent_entries_dropped_total'), 0);
  } finally {
    await agent.stop();
    await receiver.stop();
  }
});

test.serial('spool limit reached: tailing pauses, nothing is dropped, all arrives once the ingestion is back', async (t) => {
  const ns = 'spoolfull';
  const N = 30_000;
  const port = await freePort();
  const { root, state } = dirs('agent-it-spoolfull-');
  const file = path.join(containerDir(root, ns, 'app-0', 'app'), '0.log');
  const lines: string[] = [];
  for (let i = 0; i < N; i++) lines.push(criLine(T0_MS, i, `${message(ns, i)} ${(i * 7919).toString(36)}`));
  fs.writeFileSync(file, lines.join(''));
  const spoolLimit = 128 * 1024;
  const agent = await startAgentProcess({
    root,
    stateDir: state,
    config: {
      routes: [route('full', ns, `http://127.0.0.1:${port}`)],
      tail: FAST_TAIL,
      batch: { maxEntries: 500, maxWait: '100ms' },
      queue: { memoryBytes: 16 * 1024, spoolBytes: spoolLimit },
      retry: { initialBackoff: '100ms', maxBackoff: '500ms' },
    },
  });
  let receiver: SextantProcess | undefined;
  try {
    // Paused with the spool in use (before the first failure a full memory queue pauses
    // without spilling, so wait for both).
    await waitFor(
      'the route paused with a full spool',
      async () => {
        const m = await agent.metrics();
        return (
          metricSum(m, 'sextant_agent_route_paused', 'route="full"') === 1 && metricSum(m, 'sextant_agent_spool_bytes') > spoolLimit / 2
        );
      },
      60_000,
    );
    // Spills planned before the pause may still be writing; when one lands it frees memory and
    // the route reads on until memory is full again (that burst made this check fail). Settled:
    // no spill being written and the line count held still over a few batch maxWaits.
    const spoolDir = path.join(state, 'spool', 'full');
    const writing = () => fs.readdirSync(spoolDir).some((f) => f.endsWith('.tmp'));
    const onDisk = () =>
      fs
        .readdirSync(spoolDir)
        .filter((f) => f.endsWith('.batch'))
        .reduce((sum, f) => sum + fs.statSync(path.join(spoolDir, f)).size, 0);
    const seen: number[] = [];
    await waitFor(
      'the pause settled (spills written, no reading)',
      async () => {
        const before = await agent.metrics();
        await new Promise((r) => setTimeout(r, 300));
        const after = await agent.metrics();
        const lines = metricSum(after, 'sextant_agent_lines_read_total');
        seen.push(lines);
        return (
          metricSum(after, 'sextant_agent_route_paused', 'route="full"') === 1 &&
          !writing() &&
          lines === metricSum(before, 'sextant_agent_lines_read_total')
        );
      },
      60_000,
    );
    t.log(`lines read while the pause settled: ${seen.join(', ')}`);
    // Stays paused: give the tailer time to (wrongly) read on, then check it did not.
    const m1 = await agent.metrics();
    await new Promise((r) => setTimeout(r, 1000));
    const m2 = await agent.metrics();
    t.is(metricSum(m2, 'sextant_agent_lines_read_total'), metricSum(m1, 'sextant_agent_lines_read_total'), 'no reading while paused');
    t.true(metricSum(m2, 'sextant_agent_lines_read_total') < N);
    t.true(metricSum(m2, 'sextant_agent_spool_bytes') <= spoolLimit);
    t.is(metricSum(m2, 'sextant_agent_spool_bytes'), onDisk(), 'the gauge is what the spool holds on disk, headers included');
    t.true(onDisk() <= spoolLimit, `the spool limit holds on disk (${onDisk()} bytes)`);
    t.true(metricSum(m2, 'sextant_agent_spool_bytes') > 0);
    t.is(metricSum(m2, 'sextant_agent_entries_dropped_total'), 0);
    receiver = await startSextant({
      dataDir: tempDataDir('sextant-agent-it-full-'),
      apiKey: KEY,
      args: ['--port', String(port), '--sync', 'normal'],
    });
    cleanup.push(receiver.dataDir);
    await waitStored(receiver.url, ns, N);
    const result = await countLines(receiver.url, ns, N);
    t.deepEqual(result.missing.slice(0, 10), [], `${result.missing.length} lines missing`);
    t.deepEqual(result.duplicated, []);
    const m3 = await agent.metrics();
    t.is(metricSum(m3, 'sextant_agent_lines_read_total'), N);
    t.is(metricSum(m3, 'sextant_agent_entries_dropped_total'), 0);
    t.is(metricSum(m3, 'sextant_agent_route_paused', 'route="full"'), 0);
  } finally {
    await agent.stop();
    await receiver?.stop();
  }
});
