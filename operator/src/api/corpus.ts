/**
 * Reads a corpus of specs (test/cluster/fixtures/invalid, operator/src/api/testdata/codec-only):
 * one object per file, with `# codec: <regex>` and optionally `# api-server: <regex>` lines
 * giving the message each must be rejected with. Shared by the unit and the cluster test.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export interface CorpusCase {
  file: string;
  text: string;
  object: { kind: string; metadata: { name: string } };
  apiServer?: RegExp;
  codec: RegExp;
}

export function readCorpus(dir: string): CorpusCase[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const line = (key: string) => new RegExp(`^# ${key}: (.*)$`, 'm').exec(text)?.[1];
      const codec = line('codec');
      if (codec === undefined) throw new Error(`${f}: no "# codec:" line`);
      const api = line('api-server');
      return {
        file: f,
        text,
        object: YAML.parse(text) as CorpusCase['object'],
        codec: new RegExp(codec),
        ...(api ? { apiServer: new RegExp(api) } : {}),
      };
    });
}
