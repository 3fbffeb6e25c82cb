/**
 * Docker json-file log lines: `{"log":"GET /x\n","stream":"stdout","time":"2026-...Z"}`.
 * Docker keeps the line's newline inside `log`; it is removed here because Sextant's
 * message is the line without its terminator.
 */
import { isPlainObject } from '../../common/codecs.js';
import { parseRfc3339 as parseRfc3339Ns } from '../../model/timestamp.js';

export interface DockerLine {
  timestampNs: bigint;
  stream: 'stdout' | 'stderr';
  message: string;
}

export type DockerResult = ({ ok: true } & DockerLine) | { ok: false; error: string };

export function parseDockerLine(line: string): DockerResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    return { ok: false, error: `invalid JSON: ${(error as Error).message}` };
  }
  if (!isPlainObject(parsed)) return { ok: false, error: 'expected a JSON object' };
  const { log, stream, time } = parsed;
  if (typeof log !== 'string') return { ok: false, error: '"log" must be a string' };
  if (stream !== 'stdout' && stream !== 'stderr') return { ok: false, error: '"stream" must be "stdout" or "stderr"' };
  if (typeof time !== 'string') return { ok: false, error: '"time" must be a string' };
  const timestampNs = parseRfc3339Ns(time);
  if (timestampNs === undefined) return { ok: false, error: `invalid "time" ${JSON.stringify(time)}` };
  const message = log.endsWith('\r\n') ? log.slice(0, -2) : log.endsWith('\n') ? log.slice(0, -1) : log;
  return { ok: true, timestampNs, stream, message };
}
