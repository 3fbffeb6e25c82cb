/**
 * A real Prometheus 3 for tests, built once per version from the Go module proxy
 * (`go install github.com/prometheus/prometheus/cmd/prometheus@<version>`) and cached as
 * $XDG_CACHE_HOME (~/.cache)/sextant/prometheus-<version>/prometheus. Debian ships only 2.x,
 * which speaks remote_write 1.0; 3.x is the real 2.0 sender. Built without the web UI's
 * assets (the tests use the API alone). $PROMETHEUS3_BIN skips the build.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The module's v0.3xx versions are Prometheus 3.x releases (v0.316.0 is 3.16.0). */
export const PROMETHEUS3_VERSION = 'v0.316.0';

export async function prometheus3Binary(version = PROMETHEUS3_VERSION): Promise<string> {
  if (process.env['PROMETHEUS3_BIN']) return process.env['PROMETHEUS3_BIN'];
  const dir = path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'sextant', `prometheus-${version}`);
  const binary = path.join(dir, 'prometheus');
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  // Built into a folder of its own, renamed into place whole: a build cut short leaves no binary.
  const partial = fs.mkdtempSync(path.join(path.dirname(dir), `prometheus-${version}.tmp-`));
  const started = Date.now();
  console.error(`building Prometheus ${version} (go install, once; cached in ${dir}) …`);
  const progress = setInterval(
    () => console.error(`… still building Prometheus ${version} (${Math.round((Date.now() - started) / 1000)} s)`),
    30_000,
  );
  try {
    // Outside any module (cwd: the temp folder) so go.work or a go.mod around cannot change it.
    await run('go', ['install', `github.com/prometheus/prometheus/cmd/prometheus@${version}`], {
      cwd: partial,
      env: { ...process.env, GOBIN: partial, GOFLAGS: '-buildvcs=false', GOWORK: 'off' },
      maxBuffer: 64 << 20,
    });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(partial, dir);
  } catch (error) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw new Error(`building Prometheus ${version} failed: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
  } finally {
    clearInterval(progress);
  }
  console.error(`built Prometheus ${version} in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}
