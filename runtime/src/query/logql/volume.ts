/**
 * Loki's index volume (`index/volume`, `index/volume_range`), answered from the entries:
 * `sum by (<grouping>) (bytes_over_time(<selector>[range]))`. Sextant keeps no index of
 * volumes, so this is a metric query like any other, under the same limits.
 */
import type { LabelMatcher, StorageReader } from '../../storage/reader.js';
import type { MetricExpr } from './ast.js';
import { evaluateLogQLInstant, evaluateLogQLRange, type MetricQueryLimits } from './evaluate.js';

export interface VolumeQuery {
  matchers: LabelMatcher[];
  /** The labels to group by: Loki's `targetLabels`, else the selector's label names. */
  grouping: string[];
}

function volumeExpr(q: VolumeQuery, rangeNs: bigint): MetricExpr {
  return {
    type: 'vectorAggregation',
    op: 'sum',
    grouping: q.grouping,
    without: false,
    expr: {
      type: 'rangeAggregation',
      op: 'bytes_over_time',
      selector: { matchers: q.matchers, lineFilters: [], pipeline: [] },
      rangeNs,
      offsetNs: 0n,
    },
  };
}

/** The bytes per group in (startNs, endNs], largest first, at most `limit` groups. */
export async function volume(
  q: VolumeQuery & { startNs: bigint; endNs: bigint; limit: number },
  reader: StorageReader,
  limits: MetricQueryLimits = {},
) {
  const rangeNs = q.endNs - q.startNs > 0n ? q.endNs - q.startNs : 1n;
  const result = await evaluateLogQLInstant(volumeExpr(q, rangeNs), reader, q.endNs, limits);
  if (result.resultType === 'vector') result.samples = result.samples.sort((a, b) => b.value - a.value).slice(0, q.limit);
  return result;
}

/** The bytes per group and step. */
export async function volumeRange(
  q: VolumeQuery & { startNs: bigint; endNs: bigint; stepNs: bigint },
  reader: StorageReader,
  limits: MetricQueryLimits = {},
) {
  return await evaluateLogQLRange(volumeExpr(q, q.stepNs), reader, q.startNs, q.endNs, q.stepNs, limits);
}
