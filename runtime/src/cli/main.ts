#!/usr/bin/env node
/**
 * The `sextant` command. Subcommands follow Loki's single-binary `-target` idea (DESIGN §1);
 * this build has `up`, the all-in-one embedded platform.
 */
import { runUp, UP_HELP } from './up.js';
import { VERSION } from '../common/version.js';

const HELP = `sextant ${VERSION} — logs and metrics, collected, kept and queryable in Grafana

Usage: sextant <command> [options]

Commands:
  up          run ingestion, processor and query in one process with embedded storage

Options:
  -h, --help     show help (also: sextant <command> --help)
  -v, --version  print the version

The distributed runtimes (ingestion, processor, query against Kafka/OpenSearch/S3), the
operator and the node agent are planned; see the README's roadmap.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return runUp(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(command === undefined ? HELP : rest[0] === 'up' ? UP_HELP : HELP);
      return command === undefined ? 2 : 0;
    case '-v':
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    default:
      process.stderr.write(`sextant: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`sextant: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
