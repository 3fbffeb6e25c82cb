/**
 * The public contract of the processor (docs/architecture.md §5): the stage specs and their
 * codecs, which the operator builds the CRD schema from and validates Pipelines with, and
 * the container log line parsers the agent shares with the `parse` stage.
 */
export { buildPipeline, ProcessorConfigCodec, ProcessorsCodec, STAGE_TYPES, type Pipeline, type ProcessorConfig } from './pipeline.js';
export { DETECTOR_NAMES, type DetectorName } from './detectors.js';
export { parseCriLine, type CriLine, type CriResult } from './parsers/cri.js';
export { parseDockerLine, type DockerLine, type DockerResult } from './parsers/docker.js';
