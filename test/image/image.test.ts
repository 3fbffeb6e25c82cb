/**
 * The image that `make image` builds without Docker (tools/image/build.sh) against the
 * Dockerfile: the same entrypoint, command, user, working directory, environment and ports,
 * the same files under /app (the compiled sources of the three components without tests,
 * the production packages of package-lock.json), /data owned by the unprivileged user, and
 * a Node of the Dockerfile's major. Reads the archive only; `make test-image` builds it first.
 */
import test from 'ava';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDockerfile } from './dockerfile.js';
import { readOciArchive, type OciImage } from './oci.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const archive = process.env['IMAGE_OUT'] ?? path.join(repo, '.run/image/sextant.oci.tar');
const dockerfile = parseDockerfile(readFileSync(path.join(repo, 'Dockerfile'), 'utf8'));
const components = ['runtime', 'operator', 'agent-daemonset'];

let loaded: OciImage | undefined;
function image(): OciImage {
  if (!existsSync(archive)) throw new Error(`no image archive at ${archive}: run 'make image' first`);
  loaded ??= readOciArchive(archive);
  return loaded;
}
const paths = (): Set<string> => new Set(image().entries.map((e) => e.path));
const children = (dir: string): string[] =>
  [
    ...new Set(
      image()
        .entries.map((e) => e.path)
        .filter((p) => p.startsWith(`${dir}/`))
        .map((p) => p.slice(dir.length + 1).split('/')[0]!),
    ),
  ].sort();

// The .js files tsc writes for a component's sources, as the Dockerfile keeps them (no tests,
// no test kits: testkit.ts files and the agent's testkit/ folder).
function expectedDist(): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(repo, rel))) {
      const file = `${rel}/${name}`;
      if (statSync(path.join(repo, file)).isDirectory()) {
        if (file !== 'agent-daemonset/src/testkit') walk(file);
      } else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts') && name !== 'testkit.ts') {
        out.push(`app/dist/${file.replace(/\.ts$/, '.js')}`);
      }
    }
  };
  for (const c of components) walk(`${c}/src`);
  return out.sort();
}

test('the Dockerfile is read: an entrypoint, a numeric user and the copies into /app', (t) => {
  t.true(dockerfile.entrypoint.length > 0);
  t.regex(dockerfile.user, /^\d+:\d+$/);
  t.true(dockerfile.appCopies.includes('/app/node_modules'), JSON.stringify(dockerfile.appCopies));
});

test('same entrypoint, command, user and working directory as the Dockerfile', (t) => {
  const c = image().config.config;
  t.deepEqual(c.Entrypoint, dockerfile.entrypoint);
  t.deepEqual(c.Cmd, dockerfile.cmd);
  t.is(c.User, dockerfile.user);
  t.is(c.WorkingDir, dockerfile.workdir);
});

test('the environment and exposed ports of the Dockerfile', (t) => {
  const c = image().config.config;
  const env = Object.fromEntries((c.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  for (const [k, v] of Object.entries(dockerfile.env)) t.is(env[k], v, k);
  t.deepEqual(Object.keys(c.ExposedPorts ?? {}).sort(), [...dockerfile.exposed].sort());
  t.true((env['PATH'] ?? '').split(':').includes('/usr/local/bin'), 'node is found on PATH as in the node image');
});

test('the same top-level entries under /app and /app/dist as the Dockerfile copies', (t) => {
  const top = [...new Set(dockerfile.appCopies.map((p) => p.replace(/^\/app\//, '').split('/')[0]!))].sort();
  t.deepEqual(children('app'), top);
  const dist = dockerfile.appCopies.filter((p) => p.startsWith('/app/dist/')).map((p) => p.slice('/app/dist/'.length));
  t.deepEqual(children('app/dist'), dist.sort());
});

test('/app/dist holds the compiled sources of the three components, without tests or test kits', (t) => {
  const js = image()
    .entries.map((e) => e.path)
    .filter((p) => p.startsWith('app/dist/') && p.endsWith('.js'))
    .sort();
  t.deepEqual(js, expectedDist(), "stale image? run 'make image'");
  t.false(
    image().entries.some(
      (e) =>
        e.path.startsWith('app/dist/') &&
        (/\.test\.(js|d\.ts|js\.map)$/.test(e.path) ||
          /\/testkit\.(js|d\.ts|js\.map)$/.test(e.path) ||
          e.path.startsWith('app/dist/agent-daemonset/src/testkit')),
    ),
    'no test files',
  );
});

test('/app/node_modules holds exactly the production packages of package-lock.json', (t) => {
  const lock = JSON.parse(readFileSync(path.join(repo, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; optional?: boolean; os?: string[]; cpu?: string[]; libc?: string[] }>;
  };
  // npm installs an optional package only where its os, cpu and libc fit: the image is
  // Linux with Debian's glibc, on this machine's architecture.
  const fits = (v: { os?: string[]; cpu?: string[]; libc?: string[] }) =>
    (!v.os || v.os.includes('linux')) && (!v.cpu || v.cpu.includes(process.arch)) && (!v.libc || v.libc.includes('glibc'));
  const want = Object.entries(lock.packages)
    .filter(([k, v]) => k !== '' && !v.dev && (!v.optional || fits(v)))
    .map(([k]) => k)
    .sort();
  const root = /^app\/((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)*node_modules\/(?:@[^/]+\/)?[^/]+)\/package\.json$/;
  const got = image()
    .entries.map((e) => root.exec(e.path)?.[1])
    .filter((p): p is string => p !== undefined)
    .sort();
  t.deepEqual(got, want);
  // better-sqlite3 13 ships prebuilt N-API binaries; older ones were compiled at install.
  t.true(
    image().entries.some((e) =>
      [
        `app/node_modules/better-sqlite3/prebuilds/linux-${process.arch}.node`,
        'app/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      ].includes(e.path),
    ),
    'the native module for this platform is there',
  );
});

test('the folders the Dockerfile hands to the user are theirs; the rest is root-owned', (t) => {
  const byPath = new Map(image().entries.map((e) => [e.path, e]));
  t.true(Object.keys(dockerfile.owned).length > 0);
  for (const [dir, owner] of Object.entries(dockerfile.owned)) t.is(byPath.get(dir.replace(/^\//, ''))?.owner, owner, dir);
  const writable = image().entries.filter((e) => e.owner !== '0:0' && !Object.keys(dockerfile.owned).includes(`/${e.path}`));
  t.deepEqual(
    writable.map((e) => e.path),
    [],
  );
});

test('Node of the Dockerfile major, and the libraries it links against', (t) => {
  const all = paths();
  t.true(all.has('usr/local/bin/node'));
  for (const lib of ['lib64/ld-linux-x86-64.so.2', 'lib/x86_64-linux-gnu/libc.so.6', 'usr/lib/x86_64-linux-gnu/libstdc++.so.6']) {
    t.true(all.has(lib), lib);
  }
  const labels = image().config.config.Labels ?? {};
  t.is(
    labels['dev.sextant.node-version']?.split('.')[0],
    dockerfile.nodeMajor,
    'NODE_VERSION of tools/image/build.sh vs the Dockerfile ARG',
  );
});

test('labels and the name ctr/kind/Docker import it under', (t) => {
  const labels = image().config.config.Labels ?? {};
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
  t.is(labels['org.opencontainers.image.version'], pkg.version);
  t.is(labels['org.opencontainers.image.title'], 'sextant');
  t.regex(image().index.manifests[0]?.annotations?.['io.containerd.image.name'] ?? '', /^[a-z0-9.-]+\/[a-z0-9/_-]+:[\w.-]+$/);
});
