/** Structured JSON logs (bunyan). The level comes from SEXTANT_LOG_LEVEL (default info). */
import bunyan from 'bunyan';

export type Logger = bunyan;

export function createLogger(name: string, level = process.env.SEXTANT_LOG_LEVEL ?? 'info'): Logger {
  return bunyan.createLogger({
    name,
    level: level as bunyan.LogLevel,
    serializers: { err: bunyan.stdSerializers.err },
  });
}

/** A logger that discards everything, for tests and benchmarks. */
export function silentLogger(): Logger {
  return bunyan.createLogger({ name: 'silent', streams: [{ level: 'fatal', stream: process.stderr }], level: bunyan.FATAL + 1 });
}
