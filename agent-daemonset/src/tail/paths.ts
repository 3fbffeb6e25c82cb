/**
 * The kubelet's log layout: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log,
 * rotated to <restart>.log.<timestamp> (then gzipped, which is never read). Namespaces and
 * pod names are DNS names, so they never contain "_".
 */
import path from 'node:path';

export interface PodLogPath {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  /** The file is a rotated one (<n>.log.<suffix>), read only to finish a checkpointed file. */
  rotated: boolean;
}

const ACTIVE = /^\d+\.log$/;
const ROTATED = /^\d+\.log\..+$/;

/** `file` relative to the pods root, e.g. `team-a_api-7d9_0b1e…/api/0.log`. */
export function parsePodLogPath(relative: string): PodLogPath | undefined {
  const parts = relative.split(path.sep);
  if (parts.length !== 3) return undefined;
  const [podDir, container, name] = parts as [string, string, string];
  const rotated = ROTATED.test(name) && !name.endsWith('.gz') && !name.endsWith('.tmp');
  if (!ACTIVE.test(name) && !rotated) return undefined;
  const ids = podDir.split('_');
  if (ids.length !== 3 || ids.some((s) => s === '')) return undefined;
  const [namespace, pod, uid] = ids as [string, string, string];
  return { namespace, pod, uid, container, rotated };
}
