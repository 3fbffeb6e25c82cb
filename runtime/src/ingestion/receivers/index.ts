/**
 * Every wire format ingestion speaks, one receiver per file. A new format is one new file
 * beside these and one line here (plus its docs and tests).
 */
import { native } from './native.js';
import { lokiPush } from './loki-push.js';
import { otlpLogs } from './otlp-logs.js';
import { otlpMetrics } from './otlp-metrics.js';
import { remoteWrite } from './remote-write.js';
import type { Receiver } from './receiver.js';

export const RECEIVERS: readonly Receiver[] = [native, remoteWrite, lokiPush, otlpLogs, otlpMetrics];
