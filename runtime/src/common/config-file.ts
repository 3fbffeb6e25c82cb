/**
 * Reads a config file as YAML (JSON is a subset), every failure a ConfigError naming the
 * file; the caller decodes the document with its codec (docs/architecture.md §7).
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { ConfigError } from './config-error.js';

/** The parsed document (null for an empty file). `formats` names what the file may be in the error. */
export function readConfigFile(file: string, formats = 'YAML/JSON'): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read file: ${(error as Error).message}`]);
  }
  try {
    return YAML.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(file, [`not valid ${formats}: ${(error as Error).message}`]);
  }
}
