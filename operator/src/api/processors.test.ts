import test from 'ava';
import { decode } from '../../../runtime/src/common/index.js';
import { buildPipeline, ProcessorsCodec, STAGE_TYPES } from '../../../runtime/src/processor/index.js';
import { STAGE_SCHEMAS } from './processors.js';
import { decodeResource } from './v1alpha1.js';

/**
 * The runtime's closed() codecs list their fields in the "unknown field (valid: …)" error;
 * probing with an unknown key reads that list, so the CRD schema and the runtime's codec
 * are compared field by field without the runtime exporting anything for the purpose.
 */
function codecFields(stage: string): string[] {
  const built = buildPipeline([{ [stage]: { zzUnknownProbe: 1 } }]);
  if (built.ok) throw new Error(`stage ${stage} accepted an unknown field`);
  const line = built.errors.find((e) => e.includes('zzUnknownProbe'));
  const m = line ? /valid: ([^)]*)\)/.exec(line) : null;
  if (!m) throw new Error(`no field list in ${JSON.stringify(built.errors)}`);
  return m[1]!.split(', ').sort();
}

test('the CRD describes exactly the stage types the runtime knows', (t) => {
  t.deepEqual(Object.keys(STAGE_SCHEMAS).sort(), [...STAGE_TYPES].sort());
});

for (const stage of STAGE_TYPES) {
  test(`stage ${stage}: the CRD schema has exactly the fields of the runtime's codec`, (t) => {
    t.deepEqual(Object.keys(STAGE_SCHEMAS[stage]!.properties ?? {}).sort(), codecFields(stage));
  });
}

test("schema defaults of stage fields are the runtime codec's defaults", (t) => {
  // A minimal config of each stage, decoded by the runtime: every field the schema defaults must come out with that value.
  const minimal: Record<string, unknown> = {
    parse: { format: 'json' },
    redact: { detectors: ['email'] },
    filter: { when: { label: 'a', exists: true } },
    drop: { when: { label: 'a', exists: true } },
    sample: { rate: 0.5 },
    labels: { drop: ['x'] },
  };
  let compared = 0;
  for (const stage of STAGE_TYPES) {
    const decoded = decode(ProcessorsCodec, [{ [stage]: minimal[stage] }]);
    if (!decoded.ok) return t.fail(`${stage}: ${decoded.errors.join('; ')}`);
    const config = (decoded.value[0] as Record<string, Record<string, unknown>>)[stage]!;
    for (const [field, schema] of Object.entries(STAGE_SCHEMAS[stage]!.properties ?? {})) {
      if (schema.default === undefined) continue;
      t.deepEqual(config[field], schema.default, `${stage}.${field}`);
      compared++;
    }
  }
  t.is(compared, 3); // parse.target, redact.fields, sample.by
});

test('stage errors keep the runtime codec paths, joined to spec.processors', (t) => {
  const decoded = decodeResource('Pipeline', {
    apiVersion: 'sextant.dev/v1alpha1',
    kind: 'Pipeline',
    metadata: { name: 'p' },
    spec: {
      sources: { http: { apiKeysSecretRef: { name: 'k' } } },
      kafka: { brokers: ['k:9092'] },
      sinks: { hot: { sinkRef: { name: 'h' } } },
      processors: [
        { parse: { format: 'json' } },
        { redact: { patterns: ['('] } },
        { drop: { when: { label: 'x', equals: 'y', matches: 'z' } } },
        { bogus: {} },
      ],
    },
  });
  t.false(decoded.ok);
  if (decoded.ok) return;
  t.deepEqual(decoded.errors, [
    'spec.processors[1].redact.patterns[0]: invalid regular expression "(": missing closing ) (RE2 syntax; backreferences and lookaround assertions are unsupported)',
    'spec.processors[2].drop.when: a label condition needs exactly one of: equals, matches, in, exists; got equals, matches',
    'spec.processors[3]: unknown stage "bogus" (valid: parse, redact, filter, drop, sample, labels)',
  ]);
});
