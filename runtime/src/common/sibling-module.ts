/**
 * The URL of a module next to `base` (an import.meta.url), for what loads code by URL (a
 * worker thread, a dynamic import in one): built, the tree is .js; run from source under tsx
 * (the unit tests), it is .ts.
 */
export function siblingModule(base: string, relativeWithoutExtension: string): string {
  return new URL(`${relativeWithoutExtension}${base.endsWith('.ts') ? '.ts' : '.js'}`, base).href;
}
