import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_FILES, crdYaml, customResourceDefinition } from './crds.js';
import { retentionSeconds, DURATION_PATTERN, celSeconds } from './duration.js';
import type { OpenApiSchema } from './schema.js';
import { KINDS, type KindName } from './v1alpha1.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const kinds = Object.keys(KINDS) as KindName[];

for (const kind of kinds) {
  test(`crds/${CRD_FILES[kind]} is what operator/src/api generates (run npm run gen:crds)`, async (t) => {
    const file = path.join(root, 'crds', CRD_FILES[kind]);
    t.true(fs.existsSync(file), `${file} is missing: run npm run gen:crds`);
    t.is(fs.readFileSync(file, 'utf8'), await crdYaml(kind), `crds/${CRD_FILES[kind]} is stale: run npm run gen:crds`);
  });
}

interface Visit {
  path: string;
  schema: OpenApiSchema;
}

function walk(schema: OpenApiSchema, at: string, out: Visit[] = []): Visit[] {
  out.push({ path: at, schema });
  for (const [k, v] of Object.entries(schema.properties ?? {})) walk(v, `${at}.${k}`, out);
  if (schema.items) walk(schema.items, `${at}[]`, out);
  if (schema.additionalProperties) walk(schema.additionalProperties, `${at}{}`, out);
  return out;
}

function rootSchema(kind: KindName): OpenApiSchema {
  const crd = customResourceDefinition(kind) as { spec: { versions: Array<{ schema: { openAPIV3Schema: OpenApiSchema } }> } };
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
}

for (const kind of kinds) {
  test(`${kind}: every field has a description (kubectl explain reads well)`, (t) => {
    const nodes = walk(rootSchema(kind), kind).filter((v) => v.path !== `${kind}.metadata`);
    const missing = nodes.filter((v) => !v.schema.description || v.schema.description.trim().length < 3).map((v) => v.path);
    t.deepEqual(missing, []);
    t.true(nodes.length >= 10, `${nodes.length} nodes`);
  });

  test(`${kind}: every default is stated in the description (kubectl explain does not print defaults)`, (t) => {
    const silent = walk(rootSchema(kind), kind)
      .filter((v) => v.schema.default !== undefined && !/default/i.test(v.schema.description ?? ''))
      .map((v) => v.path);
    t.deepEqual(silent, []);
  });

  test(`${kind}: the schema is structural (a type on every node unless int-or-string or preserve-unknown-fields)`, (t) => {
    const untyped = walk(rootSchema(kind), kind)
      .filter((v) => !v.schema.type && !v.schema['x-kubernetes-int-or-string'] && !v.schema['x-kubernetes-preserve-unknown-fields'])
      .map((v) => v.path);
    t.deepEqual(untyped, []);
  });

  test(`${kind}: lists, maps and strings that CEL rules read are bounded (the API server's CEL cost budget)`, (t) => {
    const unbounded = walk(rootSchema(kind), kind)
      .filter((v) => v.path.startsWith(`${kind}.spec`))
      .filter(
        (v) =>
          (v.schema.type === 'array' && v.schema.maxItems === undefined) ||
          (v.schema.additionalProperties && v.schema.maxProperties === undefined),
      )
      .map((v) => v.path);
    t.deepEqual(unbounded, []);
  });
}

test('short names do not collide with built-in resources', (t) => {
  // kubectl api-resources of a v1.37 cluster: short names in use by built-ins and common add-ons.
  const builtIn = [
    'cm',
    'cs',
    'csr',
    'deploy',
    'ds',
    'ep',
    'ev',
    'hpa',
    'ing',
    'limits',
    'netpol',
    'no',
    'ns',
    'pc',
    'pdb',
    'po',
    'pv',
    'pvc',
    'quota',
    'rc',
    'rs',
    'sa',
    'sc',
    'sts',
    'svc',
    'crd',
    'crds',
    'sp',
    'spc',
  ];
  for (const kind of kinds) for (const s of KINDS[kind].shortNames) t.false(builtIn.includes(s), `${kind} short name ${s}`);
});

test('duration grammar: parse, pattern and the CEL expression agree on examples', (t) => {
  const cases: Array<[string, number | undefined]> = [
    ['7d', 7 * 86400],
    ['36h', 36 * 3600],
    ['90s', 90],
    ['1h30m', 5400],
    ['1y', 365 * 86400],
    ['2w3d', 17 * 86400],
    ['0s', 0],
    ['', undefined],
    ['7', undefined],
    ['d', undefined],
    ['30m1h', undefined],
    ['5ms', undefined],
    ['1.5h', undefined],
    ['7D', undefined],
    ['9999999d', undefined],
    ['999999y', 999999 * 365 * 86400],
  ];
  const pattern = new RegExp(DURATION_PATTERN);
  for (const [text, seconds] of cases) {
    t.is(retentionSeconds(text), seconds, text);
    t.is(text.length >= 2 && pattern.test(text), seconds !== undefined, `pattern on ${JSON.stringify(text)}`);
  }
  // The CEL expression mirrors retentionSeconds term by term: evaluate it here with JS stand-ins for find/replace/int.
  const js = celSeconds('s')
    .replace(/s\.find\('([^']+)'\)/g, (_m, re: string) => `((s.match(new RegExp('${re}')) ?? [''])[0])`)
    .replace(/\.replace\('(\w)', ''\)/g, ".replace('$1', '')")
    .replace(/int\(/g, 'Number(');
  const evaluate = new Function('s', `return ${js};`) as (s: string) => number;
  for (const [text, seconds] of cases) if (seconds !== undefined) t.is(evaluate(text), seconds, `CEL on ${text}`);
});
