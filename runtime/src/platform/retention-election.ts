/**
 * Which processor replica runs retention: the one that holds partition 0 of the pipeline's
 * first topic in the first sink's consumer group. The group coordinator already gives every
 * partition to exactly one member and moves it when a member leaves, crashes (session
 * timeout) or joins, so this election needs no lease, no Kubernetes API and no extra
 * connection — it works wherever the processor runs.
 *
 * Between "rebalance started" and "joined again" a member does not know what it holds and
 * counts as not elected, so the old holder stops before the new one starts (a member that
 * was expelled without noticing — frozen past its session timeout — keeps believing until
 * its next heartbeat tells it; the enforcers stay idempotent for that window). Without
 * Kafka nobody is elected and retention pauses: the processor then writes nothing either,
 * and the bucket lifecycle rule (where supported) keeps the cold tier bounded.
 */
import type { Signal } from '../model/types.js';
import { topicName, type RuntimeConfig } from './runtime-config.js';

/** The partition whose holder runs retention. */
export const ELECTION_PARTITION = 0;

/** The topic of the election: the pipeline's first signal's topic (every sink group consumes it). */
export function electionTopic(config: Pick<RuntimeConfig, 'pipeline' | 'signals'>): string {
  // The config codec rejects an empty `signals`; this guards callers that build configs by hand.
  const first: Signal | undefined = config.signals[0];
  if (first === undefined) throw new Error('electionTopic: the pipeline has no signals');
  return topicName(config, first);
}

export interface Election {
  elected: boolean;
  /** Why, for the log line of a change. */
  reason: string;
}

/** The election outcome of one assignment notice (undefined: rebalancing, crashed or stopped). */
export function electionOf(assignment: Record<string, number[]> | undefined, topic: string): Election {
  if (assignment === undefined) return { elected: false, reason: 'consumer group membership unknown (rebalancing, crashed or stopped)' };
  const held = assignment[topic] ?? [];
  return held.includes(ELECTION_PARTITION)
    ? { elected: true, reason: `holds partition ${ELECTION_PARTITION} of ${topic}` }
    : { elected: false, reason: `another member holds partition ${ELECTION_PARTITION} of ${topic}` };
}
