/**
 * `sextant agent` content handling and routing against a real `sextant up`: CRI partial
 * lines, multiline groups (start pattern + timeout), invalid UTF-8 and 10 MB lines (CRI
 * and docker json-file), routing by namespace / pod name with per-route API keys, logs of
 * unmatched pods not shipped, one dead route not stopping the others, and node metrics
 * checked against the same /proc and statfs reads (and node_exporter when it runs).
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSextant, tempDataDir, type SextantProcess } from '../support/sextant-process.js';
import {
  containerDir,
  criLine,
  criTime,
  freePort,
  metricSum,
  parseMetrics,
  searchAll,
  startAgentProcess,
  tempDir,
  waitFor,
  type AgentProcess,
  type StoredEntry,
} from '../../agent-daemonset/src/testkit/agent-process.js';

const KEYS = ['agent-content-key-a', 'agent-content-key-b'];
const KEY = KEYS[0]!;
const T0_MS = Date.now() - 1_800_000;
const START_NS = BigInt(T0_MS - 7_200_000) * 1_000_000n;
const END_NS = BigInt(Date.now() + 3_600_000) * 1_000_000n;
const FAST_TAIL = { pollInterval: '50ms', rescanInterval: '200ms', rotateWait: '1s' };

let sextant: SextantProcess;
const cleanup: string[] = [];

test.before(async () => {
  sextant = await startSextant({ dataDir: tempDataDir('sextant-agent-content-'), apiKey: KEYS.join(','), args: ['--sync', 'normal'] });
  cleanup.push(sextant.dataDir);
});

test.after.always(async () => {
  await sextant?.stop();
  for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
});

function dirs(prefix: string): { root: string; state: string } {
  const base = tempDir(prefix);
  cleanup.push(base);
  return { root: path.join(base, 'pods'), state: path.join(base, 'state') };
}

async function entriesOf(query: string, n: number, timeoutMs = 30_000): Promise<StoredEntry[]> {
  const found = await waitFor(
    `${n} entries for ${query}`,
    async () => {
      const e = await searchAll(sextant.url, KEY, query, START_NS, END_NS);
      return e.length >= n ? e : undefined;
    },
    timeoutMs,
    200,
  );
  return found!;
}

test.serial('CRI partial lines are joined; multiline groups by start pattern, the last one by timeout', async (t) => {
  const { root, state } = dirs('agent-it-multiline-');
  const app = path.join(containerDir(root, 'partial', 'app-0', 'app'), '0.log');
  fs.writeFileSync(
    app,
    [
      criLine(T0_MS, 0, 'first half, ', 'P'),
      criLine(T0_MS, 1, 'an error line on stderr', 'F', 'stderr'),
      criLine(T0_MS, 2, 'second half, ', 'P'),
      criLine(T0_MS, 3, 'end'),
      criLine(T0_MS, 4, 'single'),
    ].join(''),
  );
  const java = path.join(containerDir(root, 'partial', 'java-0', 'java'), '0.log');
  fs.writeFileSync(
    java,
    [
      criLine(T0_MS, 10, 'ERROR boom'),
      criLine(T0_MS, 11, '\tat a.B.c(B.java:1)'),
      criLine(T0_MS, 12, '\tat d.E.f(E.java:2)'),
      criLine(T0_MS, 13, 'INFO next'),
      criLine(T0_MS, 14, 'ERROR last'),
      criLine(T0_MS, 15, '\tat x.Y.z(Y.java:3)'),
    ].join(''),
  );
  const agent = await startAgentProcess({
    root,
    stateDir: state,
    config: {
      routes: [{ name: 'partial', endpoint: sextant.url, apiKey: { value: KEY }, namespaces: ['partial'] }],
      multiline: [{ containers: ['java'], startPattern: '^(ERROR|WARN|INFO) ', timeout: '500ms' }],
      tail: FAST_TAIL,
      batch: { maxWait: '100ms' },
    },
  });
  try {
    const appEntries = await entriesOf('{namespace="partial", container="app"}', 3);
    t.deepEqual(
      appEntries.map((e) => [e.labels.stream, e.message, e.timestamp]),
      [
        ['stdout', 'first half, second half, end', criTime(T0_MS, 0)],
        ['stderr', 'an error line on stderr', criTime(T0_MS, 1)],
        ['stdout', 'single', criTime(T0_MS, 4)],
      ].sort((a, b) => (a[2]! < b[2]! ? -1 : 1)),
    );
    const javaEntries = await entriesOf('{namespace="partial", container="java"}', 3);
    t.deepEqual(
      javaEntries.map((e) => [e.message, e.timestamp]),
      [
        ['ERROR boom\n\tat a.B.c(B.java:1)\n\tat d.E.f(E.java:2)', criTime(T0_MS, 10)],
        ['INFO next', criTime(T0_MS, 13)],
        ['ERROR last\n\tat x.Y.z(Y.java:3)', criTime(T0_MS, 14)],
      ],
    );
  } finally {
    await agent.stop();
  }
});

test.serial(
  'invalid UTF-8 is replaced and flagged; 10 MB lines (CRI and docker) are truncated and flagged; the agent survives',
  async (t) => {
    const { root, state } = dirs('agent-it-content-');
    const maxLineBytes = 64 * 1024;
    const cri = path.join(containerDir(root, 'content', 'cri-0', 'app'), '0.log');
    const big = 'x'.repeat(10 * 1024 * 1024);
    fs.writeFileSync(
      cri,
      Buffer.concat([
        Buffer.from(`${criTime(T0_MS, 0)} stdout F bad bytes `),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from(' end\n'),
        Buffer.from(criLine(T0_MS, 1, big)),
        Buffer.from(criLine(T0_MS, 2, 'after the big one')),
      ]),
    );
    const docker = path.join(containerDir(root, 'content', 'docker-0', 'app'), '0.log');
    const dockerLine = (log: string, i: number) => JSON.stringify({ log: `${log}\n`, stream: 'stdout', time: criTime(T0_MS, i) }) + '\n';
    fs.writeFileSync(
      docker,
      dockerLine('docker before', 10) + dockerLine('y'.repeat(10 * 1024 * 1024), 11) + dockerLine('docker after', 12),
    );
    const agent: AgentProcess = await startAgentProcess({
      root,
      stateDir: state,
      config: {
        routes: [{ name: 'content', endpoint: sextant.url, apiKey: { value: KEY }, namespaces: ['content'] }],
        tail: { ...FAST_TAIL, maxLineBytes },
        batch: { maxWait: '100ms' },
      },
    });
    try {
      const criEntries = await entriesOf('{namespace="content", pod="cri-0"}', 3);
      t.is(criEntries[0]!.message, 'bad bytes \uFFFD\uFFFD\uFFFD end');
      // detected_level: ingestion's level discovery (runtime/src/ingestion/log-discovery.ts) finds none in these lines.
      t.deepEqual(criEntries[0]!.fields, { invalid_utf8: true, detected_level: 'unknown' });
      t.is(criEntries[1]!.message, 'x'.repeat(maxLineBytes));
      t.deepEqual(criEntries[1]!.fields, { truncated: true, detected_level: 'unknown' });
      t.is(criEntries[1]!.timestamp, criTime(T0_MS, 1), 'the CRI prefix survives the cut');
      t.is(criEntries[2]!.message, 'after the big one');

      const dockerEntries = await entriesOf('{namespace="content", pod="docker-0"}', 3);
      const byMessage = new Map(dockerEntries.map((e) => [e.message.slice(0, 20), e]));
      t.truthy(byMessage.get('docker before'));
      t.truthy(byMessage.get('docker after'));
      const cut = dockerEntries.find((e) => e.message.startsWith('yyy'))!;
      t.is(cut.message, 'y'.repeat(maxLineBytes));
      t.deepEqual(cut.fields, { truncated: true, detected_level: 'unknown' });
      t.is((await fetch(`http://127.0.0.1:${agent.port}/healthz`)).status, 200);
      const m = await agent.metrics();
      t.is(metricSum(m, 'sextant_agent_lines_flagged_total', 'flag="truncated"'), 2);
      t.is(metricSum(m, 'sextant_agent_lines_flagged_total', 'flag="invalid_utf8"'), 1);
      t.is(metricSum(m, 'sextant_agent_entries_dropped_total'), 0);
    } finally {
      await agent.stop();
    }
  },
);

test.serial(
  'routing by namespace and pod name with per-route keys; unmatched pods are not shipped; a dead route does not stop the others',
  async (t) => {
    const { root, state } = dirs('agent-it-routing-');
    const write = (ns: string, pod: string, n: number) => {
      const lines: string[] = [];
      for (let i = 0; i < n; i++) lines.push(criLine(T0_MS, i, `${ns}/${pod} line ${i}`));
      fs.writeFileSync(path.join(containerDir(root, ns, pod, 'c'), '0.log'), lines.join(''));
    };
    write('team-a', 'api-0', 300);
    write('default', 'web-1', 200);
    write('default', 'db-0', 100); // matches no route
    write('other', 'x-0', 100); // matches no route
    write('dead', 'y-0', 100); // routed to an endpoint that is down
    const dead = await freePort();
    const agent = await startAgentProcess({
      root,
      stateDir: state,
      config: {
        routes: [
          { name: 'team-a', endpoint: sextant.url, apiKey: { value: KEYS[0] }, namespaces: ['team-a'] },
          { name: 'web', endpoint: sextant.url, apiKey: { env: 'WEB_KEY' }, pods: ['web-.*'] },
          { name: 'dead', endpoint: `http://127.0.0.1:${dead}`, namespaces: ['dead'] },
        ],
        tail: FAST_TAIL,
        batch: { maxWait: '100ms' },
        retry: { initialBackoff: '100ms', maxBackoff: '500ms' },
      },
      env: { WEB_KEY: KEYS[1]! },
    });
    try {
      t.is((await entriesOf('{namespace="team-a"}', 300)).length, 300);
      t.is((await entriesOf('{pod="web-1"}', 200)).length, 200);
      await waitFor('unrouted lines counted', async () => metricSum(await agent.metrics(), 'sextant_agent_lines_unrouted_total') === 200);
      t.is((await searchAll(sextant.url, KEY, '{pod="db-0"}', START_NS, END_NS)).length, 0);
      t.is((await searchAll(sextant.url, KEY, '{namespace="other"}', START_NS, END_NS)).length, 0);
      const m = await agent.metrics();
      t.is(metricSum(m, 'sextant_agent_entries_shipped_total', 'route="team-a"'), 300);
      t.is(metricSum(m, 'sextant_agent_entries_shipped_total', 'route="web"'), 200);
      t.is(metricSum(m, 'sextant_agent_entries_shipped_total', 'route="dead"'), 0);
      t.true(metricSum(m, 'sextant_agent_request_failures_total', 'route="dead"') > 0);
    } finally {
      await agent.stop();
    }
  },
);

test.serial(
  'node metrics reach the ingestion with the values of the same /proc and statfs reads (and node_exporter where it runs)',
  async (t) => {
    const { root, state } = dirs('agent-it-nodemetrics-');
    fs.mkdirSync(root, { recursive: true });
    const agent = await startAgentProcess({
      root,
      stateDir: state,
      config: {
        routes: [{ name: 'metrics', endpoint: sextant.url, apiKey: { value: KEY }, logs: false, nodeMetrics: true }],
        nodeMetrics: { interval: '1s' },
      },
    });
    const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
      const res = await fetch(`${sextant.url}/api/v1/query?${new URLSearchParams({ query: q })}`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      return ((await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
    };
    try {
      await waitFor('node metrics shipped', async () => metricSum(await agent.metrics(), 'sextant_agent_node_samples_shipped_total') > 0);
      const meminfo = fs.readFileSync('/proc/meminfo', 'utf8');
      const memTotal = Number(/^MemTotal:\s+(\d+) kB/m.exec(meminfo)![1]) * 1024;
      const [mem] = await query('node_memory_MemTotal_bytes{node="it-node"}');
      t.is(Number(mem!.value[1]), memTotal);
      const stat = fs.readFileSync('/proc/stat', 'utf8');
      const btime = Number(/^btime (\d+)/m.exec(stat)![1]);
      t.is(Number((await query('node_boot_time_seconds'))[0]!.value[1]), btime);
      const cpus = stat.split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
      t.is((await query('node_cpu_seconds_total{mode="idle"}')).length, cpus);
      const load = await query('node_load1');
      t.true(Number(load[0]!.value[1]) >= 0);
      t.true((await query('node_network_receive_bytes_total{device="lo"}')).length === 1);
      const disks = await query('node_disk_read_bytes_total');
      t.true(disks.length > 0, 'at least one disk');
      const rootFs = (await query('node_filesystem_size_bytes{mountpoint="/"}'))[0];
      if (rootFs) {
        const st = fs.statfsSync('/');
        t.is(Number(rootFs.value[1]), st.blocks * st.bsize);
      } else t.log('"/" is a filesystem node_exporter leaves out (e.g. overlay): size not compared');

      // node_exporter on the same machine (started by test/infra), where it runs.
      const port = process.env.NODE_EXPORTER_PORT ?? '19100';
      const exporter = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (r) => r.text(),
        () => undefined,
      );
      if (!exporter) {
        t.log(`node_exporter not reachable on port ${port}: comparison skipped`);
        return;
      }
      const ne = parseMetrics(exporter);
      t.is(ne.get('node_memory_MemTotal_bytes'), memTotal);
      t.is(ne.get('node_boot_time_seconds'), btime);
      const neIdle = [...ne.keys()].filter((k) => k.startsWith('node_cpu_seconds_total{') && k.includes('mode="idle"'));
      t.is(neIdle.length, cpus);
      t.log(`compared with node_exporter on ${os.hostname()}:${port}`);
    } finally {
      await agent.stop();
    }
  },
);
