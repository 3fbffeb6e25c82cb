/**
 * Queries of the corpus that Sextant does not evaluate yet. Each must answer 400 bad_data
 * "unsupported: …" (never a wrong answer); the test fails when one starts to work, so the
 * list only shrinks. docs/query-languages.md names the constructs.
 */
export const EXPECTED_UNSUPPORTED: ReadonlySet<string> = new Set<string>([]);
