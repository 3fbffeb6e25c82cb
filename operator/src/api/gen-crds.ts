/** `npm run gen:crds`: writes crds/*.yaml from operator/src/api (see crds.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_FILES, crdYaml } from './crds.js';
import type { KindName } from './v1alpha1.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
for (const kind of Object.keys(CRD_FILES) as KindName[]) {
  const file = path.join(root, 'crds', CRD_FILES[kind]);
  fs.writeFileSync(file, await crdYaml(kind));
  console.log(`wrote ${path.relative(root, file)}`);
}
