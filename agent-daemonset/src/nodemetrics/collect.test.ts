import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectNodeMetrics, parseDiskstats, parseMeminfo, parseMounts, parseNetdev, parseStat, type NodeSample } from './collect.js';

const PROC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../testdata/proc');
const read = (f: string) => fs.readFileSync(path.join(PROC, f), 'utf8');

function value(samples: NodeSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

test('/proc/stat: per-CPU seconds by mode (USER_HZ 100), guest apart, boot time and counters', (t) => {
  const s = parseStat(read('stat'));
  t.is(value(s, 'node_cpu_seconds_total', { cpu: '0', mode: 'user' }), 11.32);
  t.is(value(s, 'node_cpu_seconds_total', { cpu: '1', mode: 'idle' }), 113138.45);
  t.is(value(s, 'node_cpu_seconds_total', { cpu: '0', mode: 'steal' }), 0.12);
  t.is(value(s, 'node_cpu_guest_seconds_total', { cpu: '0', mode: 'user' }), 0.05);
  t.is(s.filter((x) => x.name === 'node_cpu_seconds_total').length, 16, 'the aggregate "cpu" line is not reported');
  t.is(value(s, 'node_boot_time_seconds'), 1062191376);
  t.is(value(s, 'node_context_switches_total'), 1990473);
  t.is(value(s, 'node_intr_total'), 114930548);
  t.is(value(s, 'node_forks_total'), 2915);
  t.is(value(s, 'node_procs_running'), 1);
});

test('/proc/meminfo: kB → bytes, parentheses like node_exporter, unitless counts without _bytes', (t) => {
  const s = parseMeminfo(read('meminfo'));
  t.is(value(s, 'node_memory_MemTotal_bytes'), 16304804 * 1024);
  t.is(value(s, 'node_memory_MemAvailable_bytes'), 9288636 * 1024);
  t.is(value(s, 'node_memory_Active_anon_bytes'), 3402224 * 1024);
  t.is(value(s, 'node_memory_HugePages_Total'), 0);
});

test('/proc/diskstats: whole disks only, sectors × 512, ms → s', (t) => {
  const s = parseDiskstats(read('diskstats'));
  t.deepEqual([...new Set(s.map((x) => x.labels.device))], ['sda']);
  t.is(value(s, 'node_disk_reads_completed_total'), 25354637);
  t.is(value(s, 'node_disk_read_bytes_total'), 1003346126 * 512);
  t.is(value(s, 'node_disk_written_bytes_total'), 505697032 * 512);
  t.is(value(s, 'node_disk_io_time_seconds_total'), 9653.308);
  t.is(value(s, 'node_disk_io_time_weighted_seconds_total'), 82621.804);
});

test('/proc/net/dev: every field per device', (t) => {
  const s = parseNetdev(read('net/dev'));
  t.is(value(s, 'node_network_receive_bytes_total', { device: 'eth0' }), 68210035552);
  t.is(value(s, 'node_network_receive_errs_total', { device: 'eth0' }), 1);
  t.is(value(s, 'node_network_transmit_colls_total', { device: 'eth0' }), 10);
  t.is(value(s, 'node_network_transmit_compressed_total', { device: 'eth0' }), 12);
  t.is(value(s, 'node_network_receive_packets_total', { device: 'lo' }), 2145);
});

test('mounts: pseudo filesystems and docker/containers paths left out, octal escapes decoded, ro flagged', (t) => {
  t.deepEqual(parseMounts(read('1/mounts')), [
    { device: '/dev/sda1', mountpoint: '/', fstype: 'ext4', readonly: false },
    { device: 'tmpfs', mountpoint: '/run', fstype: 'tmpfs', readonly: false },
    { device: '/dev/sdb1', mountpoint: '/mnt/with space', fstype: 'xfs', readonly: true },
  ]);
});

test('collectNodeMetrics over the fixtures: a missing /sys is reported, the rest still collected', async (t) => {
  const { samples, errors } = await collectNodeMetrics({ proc: PROC, sys: path.join(PROC, 'no-sys'), rootfs: '/' }, 1_700_000_000_000);
  t.true(errors.some((e) => e.startsWith('netclass:')));
  t.is(value(samples, 'node_load15'), 0.39);
  t.is(value(samples, 'node_time_seconds'), 1_700_000_000);
  // "/" of this machine, statfs'd through rootfs "/"
  const st = fs.statfsSync('/');
  t.is(value(samples, 'node_filesystem_size_bytes', { mountpoint: '/' }), st.blocks * st.bsize);
});

test('live /proc: the same reads give the same values', async (t) => {
  const { samples } = await collectNodeMetrics({ proc: '/proc', sys: '/sys', rootfs: '/' });
  const memTotal = Number(/^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
  t.is(value(samples, 'node_memory_MemTotal_bytes'), memTotal);
  const btime = Number(/^btime (\d+)/m.exec(fs.readFileSync('/proc/stat', 'utf8'))![1]);
  t.is(value(samples, 'node_boot_time_seconds'), btime);
  t.is(value(samples, 'node_network_up', { device: 'lo' }) !== undefined, true);
});
