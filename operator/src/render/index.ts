/** The render contract the controllers call (pure: no I/O). */
export {
  renderPipeline,
  referencedSecrets,
  CONFIG_HASH_ANNOTATION,
  type PipelineInputs,
  type RenderedPipeline,
  type OperatorSettings,
} from './pipeline.js';
export {
  renderAgentConfig,
  agentRouteFor,
  AGENT_ROUTES_CONFIGMAP,
  AGENT_ROUTES_KEY,
  AGENT_ROUTE_KEYS_SECRET,
  AGENT_ROUTE_KEYS_DIR,
  type AgentRoute,
  type AgentRouteSpec,
} from './agent.js';
export {
  FIELD_MANAGER,
  configMapName,
  deploymentName,
  serviceName,
  commonLabels,
  selectorLabels,
  COMPONENTS,
  type Component,
  type KubernetesObject,
} from './common.js';
