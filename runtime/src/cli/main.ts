#!/usr/bin/env node
/**
 * The `sextant` command. Subcommands follow Loki's single-binary `-target` idea (docs/architecture.md §1);
 * this build has `up`, the all-in-one embedded platform.
 */
import type { Component } from './runtime.js';
import { VERSION } from '../common/version.js';

// Each command's module is imported when it runs: the agent (a DaemonSet on every node)
// should not carry SQLite, Kafka and OpenSearch clients in its memory.

const HELP = `sextant ${VERSION} — logs and metrics, collected, kept and queryable in Grafana

Usage: sextant <command> [options]

Commands:
  up          run ingestion, processor and query in one process with embedded storage
  agent       the node agent (DaemonSet): tail container logs, node metrics, ship to ingestion
  ingestion   the ingestion API in front of Kafka        (--config <file>)
  processor   Kafka → processor stages → OpenSearch       (--config <file>)
  query       the query APIs over OpenSearch (hot) and S3 (cold) (--config <file>)
  operator    reconcile Pipeline, Sink and RetentionPolicy resources into runtimes (Kubernetes)

Options:
  -h, --help     show help (also: sextant <command> --help)
  -v, --version  print the version

The distributed runtimes read a runtime configuration (examples/runtime/runtime-config.yaml) that the
operator renders from Pipeline resources (sextant operator, installed by helm/sextant).
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return (await import('./up.js')).runUp(rest);
    case 'agent':
      return (await import('./agent.js')).runAgent(rest);
    case 'operator':
      return (await import('./operator.js')).runOperator(rest);
    case 'ingestion':
    case 'processor':
    case 'query':
      return (await import('./runtime.js')).runRuntime(command, rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(
        command === undefined
          ? HELP
          : rest[0] === 'up'
            ? (await import('./up.js')).UP_HELP
            : rest[0] === 'agent'
              ? (await import('./agent.js')).AGENT_HELP
              : rest[0] === 'operator'
                ? (await import('./operator.js')).OPERATOR_HELP
                : ['ingestion', 'processor', 'query'].includes(rest[0] ?? '')
                  ? (await import('./runtime.js')).runtimeHelp(rest[0] as Component)
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
