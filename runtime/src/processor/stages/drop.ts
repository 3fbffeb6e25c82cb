/**
 * `drop` stage: drops the entries matching `when` with the reason `drop_matched`; the
 * inverse of `filter`.
 */
import * as t from 'io-ts';
import { closed } from '../../common/codecs.js';
import { compileCondition, ConditionCodec } from '../condition.js';
import type { Stage } from '../stage.js';

export const DropConfig = closed('drop config', { when: ConditionCodec });
export type DropConfig = t.TypeOf<typeof DropConfig>;

export const DROP_REASON = 'drop_matched';

export function createDropStage(config: DropConfig): Stage {
  const matches = compileCondition(config.when);
  return {
    type: 'drop',
    mutates: false,
    apply: (entry) => (matches(entry) ? DROP_REASON : undefined),
  };
}
