/**
 * CRI container log lines, as the kubelet's runtimes (containerd, CRI-O) write them under
 * /var/log/pods: `<RFC3339Nano time> <stdout|stderr> <tags> <message>`, where the first
 * tag is `F` for a full line or `P` for a partial one (a long line split by the runtime;
 * later tags, separated by `:`, are reserved by the CRI spec and ignored here).
 */
import { parseRfc3339 as parseRfc3339Ns } from '../../model/timestamp.js';

export interface CriLine {
  timestampNs: bigint;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  message: string;
}

export type CriResult = ({ ok: true } & CriLine) | { ok: false; error: string };

export function parseCriLine(line: string): CriResult {
  const timeEnd = line.indexOf(' ');
  if (timeEnd < 0) return { ok: false, error: 'expected "<time> <stream> <tag> <message>"' };
  const timestampNs = parseRfc3339Ns(line.slice(0, timeEnd));
  if (timestampNs === undefined) {
    return { ok: false, error: `invalid timestamp ${JSON.stringify(line.slice(0, timeEnd))}` };
  }
  const streamEnd = line.indexOf(' ', timeEnd + 1);
  if (streamEnd < 0) return { ok: false, error: 'expected "<time> <stream> <tag> <message>"' };
  const stream = line.slice(timeEnd + 1, streamEnd);
  if (stream !== 'stdout' && stream !== 'stderr') {
    return { ok: false, error: `invalid stream ${JSON.stringify(stream)}: expected stdout or stderr` };
  }
  // The runtime writes "<tag> <message>"; an empty message may come without the space.
  let tagEnd = line.indexOf(' ', streamEnd + 1);
  if (tagEnd < 0) tagEnd = line.length;
  const tags = line.slice(streamEnd + 1, tagEnd);
  const colon = tags.indexOf(':');
  const tag = colon < 0 ? tags : tags.slice(0, colon);
  if (tag !== 'P' && tag !== 'F') return { ok: false, error: `invalid tag ${JSON.stringify(tags)}: expected P or F` };
  return { ok: true, timestampNs, stream, partial: tag === 'P', message: line.slice(tagEnd + 1) };
}
