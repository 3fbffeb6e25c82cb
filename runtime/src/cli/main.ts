#!/usr/bin/env node
/**
 * The `sextant` command. Subcommands follow Loki's single-binary `-target` idea (DESIGN §1);
 * this build has `up`, the all-in-one embedded platform.
 */
import { runRuntime, runtimeHelp, type Component } from './runtime.js';
import { AGENT_HELP, runAgent } from './agent.js';
import { runUp, UP_HELP } from './up.js';
import { VERSION } from '../common/version.js';

const HELP = `sextant ${VERSION} — logs and metrics, collected, kept and queryable in Grafana

Usage: sextant <command> [options]

Commands:
  up          run ingestion, processor and query in one process with embedded storage
  agent       the node agent (DaemonSet): tail container logs, node metrics, ship to ingestion
  ingestion   the ingestion API in front of Kafka        (--config <file>)
  processor   Kafka → processor stages → OpenSearch       (--config <file>)
  query       the query APIs over OpenSearch/S3 (planned) (--config <file>)

Options:
  -h, --help     show help (also: sextant <command> --help)
  -v, --version  print the version

The distributed runtimes read a runtime configuration (examples/runtime-config.yaml). The
operator and the node agent are planned; see the README's roadmap.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return runUp(rest);
    case 'agent':
      return runAgent(rest);
    case 'ingestion':
    case 'processor':
    case 'query':
      return runRuntime(command, rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(
        command === undefined
          ? HELP
          : rest[0] === 'up'
            ? UP_HELP
            : rest[0] === 'agent'
              ? AGENT_HELP
              : ['ingestion', 'processor', 'query'].includes(rest[0] ?? '')
                ? runtimeHelp(rest[0] as Component)
                : HELP,
      );
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
