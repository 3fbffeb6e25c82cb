/**
 * Node metrics from /proc and /sys, named and computed like node_exporter's collectors
 * (cpu, meminfo, loadavg, diskstats, filesystem, netdev, netclass, stat) so dashboards and
 * queries written for node_exporter work unchanged. The roots are configurable: in the
 * DaemonSet the host's /proc, /sys and / are mounted under /host.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface NodeSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface HostPaths {
  proc: string;
  sys: string;
  /** The host's root filesystem, prefixed to mount points for statfs. */
  rootfs: string;
}

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture Kubernetes runs on. */
const USER_HZ = 100;
const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
/** node_exporter's --collector.diskstats.device-exclude default (partitions and virtual devices). */
const DISK_EXCLUDE = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;
/** node_exporter's --collector.filesystem.mount-points-exclude and fs-types-exclude defaults. */
const MOUNT_EXCLUDE = /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;
const FSTYPE_EXCLUDE =
  /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$/;

const NETDEV_FIELDS = [
  'receive_bytes',
  'receive_packets',
  'receive_errs',
  'receive_drop',
  'receive_fifo',
  'receive_frame',
  'receive_compressed',
  'receive_multicast',
  'transmit_bytes',
  'transmit_packets',
  'transmit_errs',
  'transmit_drop',
  'transmit_fifo',
  'transmit_colls',
  'transmit_carrier',
  'transmit_compressed',
] as const;

/** Collects every metric; a collector that fails is reported in `errors` and the rest still run. */
export async function collectNodeMetrics(paths: HostPaths, now = Date.now()): Promise<{ samples: NodeSample[]; errors: string[] }> {
  const samples: NodeSample[] = [];
  const errors: string[] = [];
  const run = async (name: string, fn: () => Promise<NodeSample[]> | NodeSample[]) => {
    try {
      samples.push(...(await fn()));
    } catch (error) {
      errors.push(`${name}: ${(error as Error).message}`);
    }
  };
  await run('stat', () => parseStat(read(paths.proc, 'stat')));
  await run('meminfo', () => parseMeminfo(read(paths.proc, 'meminfo')));
  await run('loadavg', () => parseLoadavg(read(paths.proc, 'loadavg')));
  await run('diskstats', () => parseDiskstats(read(paths.proc, 'diskstats')));
  await run('netdev', () => parseNetdev(readFirst(paths.proc, ['1/net/dev', 'net/dev'])));
  await run('netclass', () => netclass(paths.sys));
  await run('filesystem', () => filesystems(paths));
  samples.push({ name: 'node_time_seconds', labels: {}, value: now / 1000 });
  return { samples, errors };
}

function read(root: string, file: string): string {
  return fs.readFileSync(path.join(root, file), 'utf8');
}

function readFirst(root: string, files: string[]): string {
  let last: unknown;
  for (const f of files) {
    try {
      return read(root, f);
    } catch (error) {
      last = error;
    }
  }
  throw last as Error;
}

/** /proc/stat: node_cpu_seconds_total{cpu,mode}, node_cpu_guest_seconds_total, boot time, forks, context switches, interrupts, procs. */
export function parseStat(text: string): NodeSample[] {
  const out: NodeSample[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const key = f[0] ?? '';
    if (/^cpu\d+$/.test(key)) {
      const cpu = key.slice(3);
      CPU_MODES.forEach((mode, i) => {
        const v = f[i + 1];
        if (v !== undefined) out.push({ name: 'node_cpu_seconds_total', labels: { cpu, mode }, value: Number(v) / USER_HZ });
      });
      if (f[9] !== undefined)
        out.push({ name: 'node_cpu_guest_seconds_total', labels: { cpu, mode: 'user' }, value: Number(f[9]) / USER_HZ });
      if (f[10] !== undefined)
        out.push({ name: 'node_cpu_guest_seconds_total', labels: { cpu, mode: 'nice' }, value: Number(f[10]) / USER_HZ });
    } else if (key === 'btime') out.push({ name: 'node_boot_time_seconds', labels: {}, value: Number(f[1]) });
    else if (key === 'ctxt') out.push({ name: 'node_context_switches_total', labels: {}, value: Number(f[1]) });
    else if (key === 'intr') out.push({ name: 'node_intr_total', labels: {}, value: Number(f[1]) });
    else if (key === 'processes') out.push({ name: 'node_forks_total', labels: {}, value: Number(f[1]) });
    else if (key === 'procs_running') out.push({ name: 'node_procs_running', labels: {}, value: Number(f[1]) });
    else if (key === 'procs_blocked') out.push({ name: 'node_procs_blocked', labels: {}, value: Number(f[1]) });
  }
  return out;
}

/** /proc/meminfo: node_memory_<Key>_bytes (kB × 1024), or node_memory_<Key> for counts; "Active(anon)" → "Active_anon". */
export function parseMeminfo(text: string): NodeSample[] {
  const out: NodeSample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(line);
    if (!m) continue;
    const key = m[1]!.replace(/\(/g, '_').replace(/\)/g, '');
    const value = Number(m[2]);
    out.push(
      m[3] ? { name: `node_memory_${key}_bytes`, labels: {}, value: value * 1024 } : { name: `node_memory_${key}`, labels: {}, value },
    );
  }
  return out;
}

export function parseLoadavg(text: string): NodeSample[] {
  const [l1, l5, l15] = text.trim().split(/\s+/);
  return [
    { name: 'node_load1', labels: {}, value: Number(l1) },
    { name: 'node_load5', labels: {}, value: Number(l5) },
    { name: 'node_load15', labels: {}, value: Number(l15) },
  ];
}

/** /proc/diskstats with node_exporter's names and units (sectors of 512 bytes, ms → s). */
export function parseDiskstats(text: string): NodeSample[] {
  const out: NodeSample[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const device = f[2]!;
    if (DISK_EXCLUDE.test(device)) continue;
    const n = (i: number) => Number(f[i]);
    const labels = { device };
    out.push(
      { name: 'node_disk_reads_completed_total', labels, value: n(3) },
      { name: 'node_disk_reads_merged_total', labels, value: n(4) },
      { name: 'node_disk_read_bytes_total', labels, value: n(5) * 512 },
      { name: 'node_disk_read_time_seconds_total', labels, value: n(6) / 1000 },
      { name: 'node_disk_writes_completed_total', labels, value: n(7) },
      { name: 'node_disk_writes_merged_total', labels, value: n(8) },
      { name: 'node_disk_written_bytes_total', labels, value: n(9) * 512 },
      { name: 'node_disk_write_time_seconds_total', labels, value: n(10) / 1000 },
      { name: 'node_disk_io_now', labels, value: n(11) },
      { name: 'node_disk_io_time_seconds_total', labels, value: n(12) / 1000 },
      { name: 'node_disk_io_time_weighted_seconds_total', labels, value: n(13) / 1000 },
    );
  }
  return out;
}

/** /proc/net/dev: node_network_<direction>_<field>_total{device}. */
export function parseNetdev(text: string): NodeSample[] {
  const out: NodeSample[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const device = line.slice(0, colon).trim();
    const values = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    NETDEV_FIELDS.forEach((field, i) => {
      const v = values[i];
      if (v !== undefined) out.push({ name: `node_network_${field}_total`, labels: { device }, value: Number(v) });
    });
  }
  return out;
}

/** /sys/class/net/<device>/operstate → node_network_up (1 when "up"). */
function netclass(sys: string): NodeSample[] {
  const dir = path.join(sys, 'class/net');
  const out: NodeSample[] = [];
  for (const device of fs.readdirSync(dir)) {
    let state: string;
    try {
      state = fs.readFileSync(path.join(dir, device, 'operstate'), 'utf8').trim();
    } catch {
      continue;
    }
    out.push({ name: 'node_network_up', labels: { device }, value: state === 'up' ? 1 : 0 });
  }
  return out;
}

export interface Mount {
  device: string;
  mountpoint: string;
  fstype: string;
  readonly: boolean;
}

/** /proc/1/mounts (the host's mount namespace), without the pseudo filesystems node_exporter leaves out. */
export function parseMounts(text: string): Mount[] {
  const byPoint = new Map<string, Mount>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 4) continue;
    const [device, rawPoint, fstype, options] = f as [string, string, string, string];
    const mountpoint = rawPoint.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (FSTYPE_EXCLUDE.test(fstype) || MOUNT_EXCLUDE.test(mountpoint)) continue;
    byPoint.set(mountpoint, { device, mountpoint, fstype, readonly: options.split(',').includes('ro') });
  }
  return [...byPoint.values()];
}

async function filesystems(paths: HostPaths): Promise<NodeSample[]> {
  const mounts = parseMounts(readFirst(paths.proc, ['1/mounts', 'mounts']));
  const out: NodeSample[] = [];
  for (const m of mounts) {
    let st: fs.StatsFs;
    try {
      st = await fs.promises.statfs(path.join(paths.rootfs, m.mountpoint));
    } catch {
      out.push({ name: 'node_filesystem_device_error', labels: labelsOf(m), value: 1 });
      continue;
    }
    const labels = labelsOf(m);
    out.push(
      { name: 'node_filesystem_size_bytes', labels, value: st.blocks * st.bsize },
      { name: 'node_filesystem_free_bytes', labels, value: st.bfree * st.bsize },
      { name: 'node_filesystem_avail_bytes', labels, value: st.bavail * st.bsize },
      { name: 'node_filesystem_files', labels, value: st.files },
      { name: 'node_filesystem_files_free', labels, value: st.ffree },
      { name: 'node_filesystem_readonly', labels, value: m.readonly ? 1 : 0 },
      { name: 'node_filesystem_device_error', labels, value: 0 },
    );
  }
  return out;
}

function labelsOf(m: Mount): Record<string, string> {
  return { device: m.device, mountpoint: m.mountpoint, fstype: m.fstype };
}
