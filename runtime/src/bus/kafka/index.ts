/**
 * What the operator shares with the processor about Kafka (docs/architecture.md §5): the
 * client built from the runtime config's `kafka` section, and the pipeline's topics.
 */
export { createKafka } from './client.js';
export { ensureTopics, pipelineTopics } from './topics.js';
