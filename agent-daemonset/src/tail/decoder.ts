/**
 * Bytes of one container log file → log entries. Splits lines at "\n" (never inside a
 * UTF-8 sequence), parses CRI or docker json-file lines with the processor's parsers,
 * joins CRI partial (`P`) lines up to their `F` line, applies an optional multiline rule
 * (a start pattern plus a timeout), truncates what is over the line limit and flags it,
 * and replaces invalid UTF-8. Never throws on content.
 *
 * Every entry carries `endOffset`: the file offset up to which everything has been turned
 * into entries. It never passes the start of a line still held back (a partial or
 * multiline group not yet complete), so a checkpoint at `endOffset` loses nothing.
 */
import { isUtf8 } from 'node:buffer';
import { parseCriLine } from '../../../runtime/src/processor/index.js';
import { parseDockerLine } from '../../../runtime/src/processor/index.js';
import { nowNs } from '../../../runtime/src/model/index.js';
import type { LogFormat } from '../config.js';

export interface DecodedEntry {
  timestampNs: bigint;
  stream: 'stdout' | 'stderr';
  message: string;
  /** Set only when something about the entry needs saying (truncated, invalid_utf8, …). */
  fields: Record<string, unknown> | undefined;
  endOffset: number;
}

export interface DecoderOptions {
  format: LogFormat;
  /** Longest message (UTF-8 bytes); longer ones are cut at a character boundary and flagged. */
  maxLineBytes: number;
  multiline?: { startPattern: { test(text: string): boolean }; timeoutMs: number };
}

export interface DecoderStats {
  lines: number;
  truncated: number;
  invalidUtf8: number;
  unparsed: number;
}

const NEWLINE = 0x0a;

/** Held-back text of one stream: CRI partial parts, then the multiline group being built. */
interface StreamState {
  partParts: string[];
  partBytes: number;
  partStart: number;
  partTs: bigint;
  partFlags: Flags;
  group: string[] | undefined;
  groupBytes: number;
  groupStart: number;
  groupTs: bigint;
  groupFlags: Flags;
  groupEnd: number;
  groupAt: number;
}

interface Flags {
  partial?: boolean;
  truncated?: boolean;
  invalidUtf8?: boolean;
  unparsed?: boolean;
}

export class FileDecoder {
  readonly stats: DecoderStats = { lines: 0, truncated: 0, invalidUtf8: 0, unparsed: 0 };
  private format: LogFormat;
  private readonly maxRaw: number;
  /** Bytes of an unfinished line (no "\n" yet), at most maxRaw. */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private carryStart = 0;
  /** The unfinished line went over maxRaw: its tail is skipped up to the next "\n". */
  private skipping = false;
  private readonly streams = new Map<string, StreamState>();

  constructor(
    private readonly options: DecoderOptions,
    private readonly emit: (entry: DecodedEntry) => void,
  ) {
    this.format = options.format;
    // Room for the CRI prefix or docker's JSON escaping around a message at the limit.
    this.maxRaw = options.maxLineBytes * 2 + 1024;
  }

  /** Feeds `chunk`, read from the file at `offset` (contiguous with the previous chunk). */
  feed(chunk: Buffer, offset: number): void {
    let start = 0;
    const end = chunk.length;
    while (start < end) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        this.hold(chunk, start, end, offset);
        return;
      }
      if (this.carryBytes > 0 || this.skipping) {
        this.hold(chunk, start, nl, offset);
        const line = Buffer.concat(this.carry, this.carryBytes);
        const truncated = this.skipping;
        const lineStart = this.carryStart;
        this.carry = [];
        this.carryBytes = 0;
        this.skipping = false;
        this.line(line, 0, line.length, lineStart, offset + nl + 1, truncated);
      } else {
        this.line(chunk, start, nl, offset + start, offset + nl + 1, false);
      }
      start = nl + 1;
    }
  }

  /** Emits multiline groups idle for longer than the rule's timeout. */
  tick(now: number): void {
    const rule = this.options.multiline;
    if (!rule) return;
    for (const [stream, s] of this.streams) {
      if (s.group && now - s.groupAt >= rule.timeoutMs) this.flushGroup(stream as 'stdout' | 'stderr', s);
    }
  }

  /**
   * The file is finished (deleted or rotated away, at its end): emits an unterminated last
   * line, unfinished partial lines (flagged `partial`) and open multiline groups.
   */
  flush(endOffset: number): void {
    if (this.carryBytes > 0 || this.skipping) {
      const line = Buffer.concat(this.carry, this.carryBytes);
      const truncated = this.skipping;
      const start = this.carryStart;
      this.carry = [];
      this.carryBytes = 0;
      this.skipping = false;
      this.line(line, 0, line.length, start, endOffset, truncated);
    }
    for (const [stream, s] of this.streams) {
      if (s.partParts.length > 0) {
        const text = s.partParts.join('');
        s.partParts = [];
        s.partBytes = 0;
        this.assemble(stream as 'stdout' | 'stderr', s.partTs, text, false, { ...s.partFlags, partial: true }, s.partStart, endOffset);
      }
      if (s.group) this.flushGroup(stream as 'stdout' | 'stderr', s);
    }
  }

  /** Offset before which nothing is held back (the checkpoint may not pass it). */
  safeOffset(end: number): number {
    let safe = this.carryBytes > 0 || this.skipping ? Math.min(end, this.carryStart) : end;
    for (const s of this.streams.values()) {
      if (s.partParts.length > 0) safe = Math.min(safe, s.partStart);
      if (s.group) safe = Math.min(safe, s.groupStart);
    }
    return safe;
  }

  private hold(chunk: Buffer, from: number, to: number, offset: number): void {
    if (to <= from) return;
    if (this.carryBytes === 0 && !this.skipping) this.carryStart = offset + from;
    if (this.skipping) return;
    const room = this.maxRaw - this.carryBytes;
    if (to - from > room) {
      this.pushCarry(chunk.subarray(from, from + room));
      this.skipping = true;
      return;
    }
    this.pushCarry(chunk.subarray(from, to));
  }

  private pushCarry(part: Buffer): void {
    // Copied: the reader reuses its buffer for the next chunk.
    this.carry.push(Buffer.from(part));
    this.carryBytes += part.length;
  }

  private line(buf: Buffer, from: number, to: number, lineStart: number, lineEnd: number, rawTruncated: boolean): void {
    this.stats.lines++;
    if (to > from && buf[to - 1] === 0x0d) to--; // CRLF
    let text = buf.toString('utf8', from, to);
    const flags: Flags = {};
    if (rawTruncated) flags.truncated = true;
    if (text.includes('\uFFFD') && !isUtf8(buf.subarray(from, to))) flags.invalidUtf8 = true;
    if (this.format === 'auto') this.format = text.startsWith('{') ? 'docker' : 'cri';

    let ts: bigint;
    let stream: 'stdout' | 'stderr' = 'stdout';
    let partial = false;
    if (this.format === 'cri') {
      const p = parseCriLine(text);
      if (p.ok) {
        ts = p.timestampNs;
        stream = p.stream;
        partial = p.partial;
        text = p.message;
      } else {
        ts = nowNs();
        flags.unparsed = true;
      }
    } else if (this.format === 'docker') {
      const p = rawTruncated ? undefined : parseDockerLine(text);
      if (p?.ok) {
        ts = p.timestampNs;
        stream = p.stream;
        text = p.message;
      } else {
        ts = nowNs();
        const salvaged = salvageDockerLog(text);
        if (salvaged !== undefined) text = salvaged;
        else flags.unparsed = true;
      }
    } else {
      ts = nowNs();
    }
    this.assemble(stream, ts, text, partial, flags, lineStart, lineEnd);
  }

  private state(stream: string): StreamState {
    let s = this.streams.get(stream);
    if (!s) {
      s = {
        partParts: [],
        partBytes: 0,
        partStart: 0,
        partTs: 0n,
        partFlags: {},
        group: undefined,
        groupBytes: 0,
        groupStart: 0,
        groupTs: 0n,
        groupFlags: {},
        groupEnd: 0,
        groupAt: 0,
      };
      this.streams.set(stream, s);
    }
    return s;
  }

  private assemble(
    stream: 'stdout' | 'stderr',
    ts: bigint,
    text: string,
    partial: boolean,
    flags: Flags,
    lineStart: number,
    lineEnd: number,
  ): void {
    const s = this.state(stream);
    if (partial || s.partParts.length > 0) {
      if (s.partParts.length === 0) {
        s.partStart = lineStart;
        s.partTs = ts;
        s.partFlags = {};
      }
      mergeFlags(s.partFlags, flags);
      const bytes = byteLength(text);
      if (s.partBytes + bytes > this.options.maxLineBytes) {
        if (s.partBytes < this.options.maxLineBytes) {
          s.partParts.push(cutUtf8(text, this.options.maxLineBytes - s.partBytes));
          s.partBytes = this.options.maxLineBytes;
        }
        s.partFlags.truncated = true;
      } else {
        s.partParts.push(text);
        s.partBytes += bytes;
      }
      if (partial) return;
      text = s.partParts.join('');
      ts = s.partTs;
      flags = s.partFlags;
      lineStart = s.partStart;
      s.partParts = [];
      s.partBytes = 0;
    }
    const rule = this.options.multiline;
    if (!rule) {
      this.out(ts, stream, text, flags, lineEnd);
      return;
    }
    if (s.group && !rule.startPattern.test(text)) {
      mergeFlags(s.groupFlags, flags);
      const bytes = byteLength(text) + 1;
      if (s.groupBytes + bytes > this.options.maxLineBytes) {
        if (s.groupBytes < this.options.maxLineBytes) {
          s.group.push(cutUtf8(text, this.options.maxLineBytes - s.groupBytes - 1));
          s.groupBytes = this.options.maxLineBytes;
        }
        s.groupFlags.truncated = true;
      } else {
        s.group.push(text);
        s.groupBytes += bytes;
      }
      s.groupEnd = lineEnd;
      s.groupAt = Date.now();
      return;
    }
    if (s.group) this.flushGroup(stream, s);
    s.group = [text];
    s.groupBytes = byteLength(text);
    s.groupStart = lineStart;
    s.groupTs = ts;
    s.groupFlags = { ...flags };
    s.groupEnd = lineEnd;
    s.groupAt = Date.now();
  }

  private flushGroup(stream: 'stdout' | 'stderr', s: StreamState): void {
    const group = s.group!;
    s.group = undefined;
    this.out(s.groupTs, stream, group.join('\n'), s.groupFlags, s.groupEnd);
  }

  private out(ts: bigint, stream: 'stdout' | 'stderr', message: string, flags: Flags, lineEnd: number): void {
    if (message.length * 3 > this.options.maxLineBytes && byteLength(message) > this.options.maxLineBytes) {
      message = cutUtf8(message, this.options.maxLineBytes);
      flags.truncated = true;
    }
    let fields: Record<string, unknown> | undefined;
    if (flags.truncated || flags.invalidUtf8 || flags.unparsed || flags.partial) {
      fields = {};
      if (flags.partial) fields.partial = true;
      if (flags.truncated) {
        fields.truncated = true;
        this.stats.truncated++;
      }
      if (flags.invalidUtf8) {
        fields.invalid_utf8 = true;
        this.stats.invalidUtf8++;
      }
      if (flags.unparsed) {
        fields.unparsed = true;
        this.stats.unparsed++;
      }
    }
    this.emit({ timestampNs: ts, stream, message, fields, endOffset: this.safeOffset(lineEnd) });
  }
}

function mergeFlags(into: Flags, from: Flags): void {
  if (from.partial) into.partial = true;
  if (from.truncated) into.truncated = true;
  if (from.invalidUtf8) into.invalidUtf8 = true;
  if (from.unparsed) into.unparsed = true;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes, cut at a character boundary. */
export function cutUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // back off a continuation byte
  return buf.toString('utf8', 0, end);
}

/**
 * The `log` text of a docker json-file line that could not be parsed whole (cut at the
 * line limit): the JSON string after `{"log":"`, up to where it was cut.
 */
export function salvageDockerLog(line: string): string | undefined {
  const prefix = '{"log":"';
  if (!line.startsWith(prefix)) return undefined;
  let body = line.slice(prefix.length);
  const m = /^((?:[^"\\]|\\.)*)"/.exec(body);
  if (m) body = m[1]!;
  // Drop a trailing half escape (`\`, `\u12`) left by the cut, then decode.
  for (let trim = 0; trim <= 6 && trim <= body.length; trim++) {
    try {
      const text = JSON.parse(`"${body.slice(0, body.length - trim)}"`) as string;
      return text.endsWith('\n') ? text.slice(0, -1) : text;
    } catch {
      // try a shorter tail
    }
  }
  return undefined;
}
