/**
 * `filter` stage: keeps only the entries matching `when`; the others are dropped with the
 * reason `filter_not_matched`.
 */
import * as t from 'io-ts';
import { closed } from '../../common/codecs.js';
import { compileCondition, ConditionCodec } from '../condition.js';
import type { Stage } from '../stage.js';

export const FilterConfig = closed('filter config', { when: ConditionCodec });
export type FilterConfig = t.TypeOf<typeof FilterConfig>;

export const FILTER_DROP_REASON = 'filter_not_matched';

export function createFilterStage(config: FilterConfig): Stage {
  const matches = compileCondition(config.when);
  return {
    type: 'filter',
    mutates: false,
    apply: (entry) => (matches(entry) ? undefined : FILTER_DROP_REASON),
  };
}
