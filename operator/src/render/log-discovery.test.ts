/**
 * A Pipeline's spec.logDiscovery reaches the runtime config as the runtime reads it; unset,
 * nothing is rendered (the runtime's defaults are Loki's); a bad label name is InvalidSpec.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { resolveRuntimeConfig } from '../../../runtime/src/platform/index.js';
import { InvalidSpecError } from '../api/v1alpha1.js';
import type { OperatorSettings } from './common.js';
import { renderPipeline, type PipelineInputs } from './pipeline.js';

const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testdata');
type Case = PipelineInputs & { settings: OperatorSettings };

function minimal(logDiscovery?: unknown): Case {
  const c = YAML.parse(fs.readFileSync(path.join(testdata, 'minimal.yaml'), 'utf8')) as Case;
  if (logDiscovery !== undefined) (c.pipeline.spec as Record<string, unknown>).logDiscovery = logDiscovery;
  return c;
}

const render = (c: Case) => renderPipeline(c, c.settings).runtimeConfig as Record<string, unknown>;
const defaults = () => resolveRuntimeConfig(render(minimal()), 'x').logDiscovery;

test('unset: no logDiscovery section, so the runtime keeps Loki 3 defaults', (t) => {
  const config = render(minimal());
  t.false('logDiscovery' in config);
  t.like(defaults(), { discoverLogLevels: true, discoverServiceName: ['service', 'app', 'application'] });
});

test('set: only the given fields are rendered, and the runtime reads them', (t) => {
  const config = render(minimal({ discoverServiceName: [], discoverLogLevels: false }));
  t.deepEqual(config.logDiscovery, { discoverServiceName: [], discoverLogLevels: false });
  t.deepEqual(resolveRuntimeConfig(config, 'x').logDiscovery, {
    discoverServiceName: [],
    discoverLogLevels: false,
    logLevelFields: defaults().logLevelFields,
  });
  const custom = render(minimal({ discoverServiceName: ['team', 'app'], logLevelFields: ['sev'] }));
  t.deepEqual(custom.logDiscovery, { discoverServiceName: ['team', 'app'], logLevelFields: ['sev'] });
});

test('a label name the runtime would refuse is InvalidSpec with its path', (t) => {
  const error = t.throws(() => render(minimal({ discoverServiceName: ['app.kubernetes.io/name'] })));
  t.true(error instanceof InvalidSpecError, String(error));
  t.regex(error!.message, /spec\.logDiscovery\.discoverServiceName\[0\]/);
});
