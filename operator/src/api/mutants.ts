/**
 * Mutants of a valid object for the drift proof: one small change each (a field removed, a
 * value of the wrong type, an out-of-range or empty value, an unknown field). The cluster
 * test sends every mutant of every example to the API server and to the codec and requires
 * the same verdict, so a rule that exists on one side only shows up as a named mutant.
 */
export interface Mutant {
  /** Where and what, e.g. `spec.kafka.partitions = -1`. */
  what: string;
  object: unknown;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function setAt(root: Json, path: (string | number)[], value: Json | undefined): Json {
  const copy = structuredClone(root);
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}

function show(path: (string | number)[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/** Every mutant of `object` below `spec` (metadata and kind are left alone). */
export function mutantsOf(object: unknown): Mutant[] {
  const root = object as Json;
  const out: Mutant[] = [];
  const seen = new Set<string>([JSON.stringify(root)]);
  // Two changes can give the same object (a one-item list emptied or its item removed): keep the first.
  const add = (path: (string | number)[], value: Json | undefined, label: string) => {
    const object = setAt(root, path, value);
    const key = JSON.stringify(object);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ what: `${show(path)} ${label}`, object });
  };
  const visit = (value: Json, path: (string | number)[]) => {
    if (path.length > 1) add(path, undefined, 'removed');
    if (Array.isArray(value)) {
      add(path, {}, '= {} (object for a list)');
      add(path, [], '= []');
      value.forEach((v, i) => visit(v, [...path, i]));
    } else if (value !== null && typeof value === 'object') {
      add(path, 'text', '= "text" (string for an object)');
      add(path, { ...value, zzUnknown: 1 }, 'gets an unknown field');
      for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
    } else if (typeof value === 'string') {
      add(path, 42, '= 42 (number for a string)');
      add(path, '', '= ""');
      add(path, 'Not Valid!', '= "Not Valid!"');
      add(path, 'x'.repeat(300), '= 300 x');
    } else if (typeof value === 'number') {
      add(path, String(value), `= "${value}" (string for a number)`);
      add(path, -1, '= -1');
      add(path, 0, '= 0');
      add(path, 0.5, '= 0.5');
      add(path, 1e9, '= 1e9');
    } else if (typeof value === 'boolean') {
      add(path, 'yes', '= "yes" (string for a boolean)');
      add(path, !value, `= ${!value}`);
    }
  };
  const spec = (root as { spec?: Json }).spec;
  if (spec !== undefined) visit(spec, ['spec']);
  return out;
}
