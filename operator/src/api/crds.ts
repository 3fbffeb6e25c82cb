/**
 * The CustomResourceDefinitions, built from the same nodes the codecs come from
 * (./v1alpha1.ts). `npm run gen:crds` writes them to crds/; crds.test.ts fails when the
 * files are stale, so the YAML in crds/ (and the Helm chart, which copies it) is always
 * what this module says.
 */
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import YAML from 'yaml';
import type { CelRule, OpenApiSchema } from './schema.js';
import { API_VERSION, CATEGORY, GROUP, KINDS, NAME_RULES, SPEC_NODES, STATUS_NODES, VERSION, type KindName } from './v1alpha1.js';

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean' | 'number';
  jsonPath: string;
  description: string;
  priority?: number;
}

const ready: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether the resource is ready.',
};
const reason: PrinterColumn = {
  name: 'Reason',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  description: 'Why it is (not) ready, e.g. SinkNotFound.',
};
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' };

const COLUMNS: Record<KindName, PrinterColumn[]> = {
  Pipeline: [
    ready,
    reason,
    { name: 'Signals', type: 'string', jsonPath: '.spec.signals', description: 'Signals carried.' },
    { name: 'Ingestion', type: 'string', jsonPath: '.status.endpoints.ingestion', description: 'Ingestion API URL.', priority: 1 },
    {
      name: 'Query',
      type: 'string',
      jsonPath: '.status.endpoints.query',
      description: 'Query API URL (the Grafana datasource).',
      priority: 1,
    },
    age,
  ],
  Sink: [
    ready,
    reason,
    // A column cannot compute the backend's name; the field that only that backend has stands for it.
    {
      name: 'OpenSearch',
      type: 'string',
      jsonPath: '.spec.opensearch.endpoints[0]',
      description: 'First OpenSearch endpoint (opensearch backend).',
    },
    { name: 'Bucket', type: 'string', jsonPath: '.spec.s3.bucket', description: 'S3 bucket (s3 backend).' },
    age,
  ],
  RetentionPolicy: [
    { name: 'Logs-Hot', type: 'string', jsonPath: '.spec.logs.hot', description: 'Hot retention of logs.' },
    { name: 'Logs-Cold', type: 'string', jsonPath: '.spec.logs.cold', description: 'Cold retention of logs.' },
    { name: 'Metrics-Hot', type: 'string', jsonPath: '.spec.metrics.hot', description: 'Hot retention of metrics.' },
    { name: 'Metrics-Cold', type: 'string', jsonPath: '.spec.metrics.cold', description: 'Cold retention of metrics.' },
    age,
  ],
};

const KIND_DESCRIPTIONS: Record<KindName, string> = {
  Pipeline:
    'A Sextant log and metric pipeline. The operator runs it as three Deployments (ingestion, processor, query) with a runtime config rendered from this spec, and routes the selected pods’ logs to it through the node agent.',
  Sink: 'Where Pipelines store data: an OpenSearch cluster (hot tier) or an S3 bucket (cold tier). Referenced by Pipelines in the same namespace.',
  RetentionPolicy: 'How long Pipelines keep each signal in the hot and cold tiers. Referenced by Pipelines in the same namespace.',
};

export function customResourceDefinition(kind: KindName): Record<string, unknown> {
  const names = KINDS[kind];
  const nameRule = NAME_RULES[kind];
  const rootRules: CelRule[] = nameRule ? [{ rule: nameRule.cel, message: nameRule.message }] : [];
  const schema: OpenApiSchema = {
    type: 'object',
    description: KIND_DESCRIPTIONS[kind],
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: `${API_VERSION}` },
      kind: { type: 'string', description: kind },
      metadata: { type: 'object' },
      spec: SPEC_NODES[kind].schema,
      ...(STATUS_NODES[kind] ? { status: STATUS_NODES[kind].schema } : {}),
    },
    ...(rootRules.length > 0 ? { 'x-kubernetes-validations': rootRules } : {}),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'sextant', 'app.kubernetes.io/part-of': 'sextant' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: names.kind,
        listKind: `${names.kind}List`,
        plural: names.plural,
        singular: names.singular,
        shortNames: [...names.shortNames],
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          ...(STATUS_NODES[kind] ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: COLUMNS[kind],
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  };
}

export const CRD_FILES: Record<KindName, string> = {
  Pipeline: `${GROUP}_pipelines.yaml`,
  Sink: `${GROUP}_sinks.yaml`,
  RetentionPolicy: `${GROUP}_retentionpolicies.yaml`,
};

/** The text of crds/<file>: a header saying where it comes from, then the CRD, in the repository's prettier style (make lint). */
export async function crdYaml(kind: KindName): Promise<string> {
  const header =
    '# Generated by `npm run gen:crds` from operator/src/api/v1alpha1.ts. Do not edit: change the TypeScript and regenerate.\n';
  const text = header + YAML.stringify(customResourceDefinition(kind), { lineWidth: 0, aliasDuplicateObjects: false });
  const options = (await prettier.resolveConfig(fileURLToPath(import.meta.url))) ?? {};
  return prettier.format(text, { ...options, parser: 'yaml' });
}
