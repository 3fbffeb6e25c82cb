/**
 * Reads an OCI image archive (a tar of an OCI layout, as tools/image/build.sh writes it):
 * its config and the entries of its layers, through the tar command (no extraction to disk).
 */
import { execFileSync } from 'node:child_process';

export interface ImageConfig {
  config: {
    User?: string;
    Entrypoint?: string[];
    Cmd?: string[];
    WorkingDir?: string;
    Env?: string[];
    ExposedPorts?: Record<string, unknown>;
    Labels?: Record<string, string>;
  };
}

export interface LayerEntry {
  path: string; // without the leading ./ or /, e.g. app/dist/runtime/src/cli/main.js
  type: string; // the tar listing's first mode character: - d l
  owner: string; // uid:gid
}

const MAX = 512 * 1024 * 1024;

function member(archive: string, name: string): Buffer {
  for (const candidate of [`./${name}`, name]) {
    try {
      return execFileSync('tar', ['-xOf', archive, candidate], { maxBuffer: MAX, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // try the other spelling of the member name
    }
  }
  throw new Error(`${archive}: no member ${name}`);
}

function blob(archive: string, digest: string): Buffer {
  return member(archive, `blobs/${digest.replace(':', '/')}`);
}

export interface OciImage {
  index: { manifests: { digest: string; annotations?: Record<string, string> }[] };
  config: ImageConfig;
  entries: LayerEntry[];
}

export function readOciArchive(archive: string): OciImage {
  const index = JSON.parse(member(archive, 'index.json').toString('utf8')) as OciImage['index'];
  if (index.manifests.length !== 1) throw new Error(`${archive}: expected one manifest, found ${index.manifests.length}`);
  const manifest = JSON.parse(blob(archive, index.manifests[0]!.digest).toString('utf8')) as {
    config: { digest: string };
    layers: { digest: string; mediaType: string }[];
  };
  const config = JSON.parse(blob(archive, manifest.config.digest).toString('utf8')) as ImageConfig;
  const entries: LayerEntry[] = [];
  for (const layer of manifest.layers) {
    const gzip = layer.mediaType.endsWith('gzip');
    const listing = execFileSync('tar', [gzip ? '-tvzf' : '-tvf', '-', '--numeric-owner'], {
      input: blob(archive, layer.digest),
      maxBuffer: MAX,
    }).toString('utf8');
    for (const line of listing.split('\n')) {
      // drwxr-xr-x 65532/65532 0 2026-12-07 02:10 ./data/    (symlinks end in " -> target")
      const m = /^(\S)\S*\s+(\d+)\/(\d+)\s+\d+\s+\S+\s+\S+\s+(.*)$/.exec(line);
      if (!m) continue;
      const path = m[4]!
        .replace(/ -> .*$/, '')
        .replace(/^\.?\//, '')
        .replace(/\/$/, '');
      if (path === '' || path === '.') continue;
      entries.push({ type: m[1]!, owner: `${m[2]}:${m[3]}`, path });
    }
  }
  return { index, config, entries };
}
