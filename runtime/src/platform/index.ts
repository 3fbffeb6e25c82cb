/**
 * The runtime config document, a public contract (docs/architecture.md §2a): the operator
 * renders it and validates what it rendered with the runtimes' own decoder.
 */
export {
  parseApiKeys,
  requireFor,
  resolveRuntimeConfig,
  topicName,
  type RuntimeConfig,
  type RuntimeConfigDocument,
} from './runtime-config.js';
export { OPENSEARCH_BULK_DEFAULTS } from '../storage/opensearch/config.js';
