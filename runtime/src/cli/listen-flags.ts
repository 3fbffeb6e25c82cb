/**
 * `--port`/`SEXTANT_PORT` and `--host`/`SEXTANT_HOST`, the same for every runtime: the flag
 * wins over the env variable, which wins over the config file (or the built-in default), so
 * several runtimes on one host can share one config file.
 */
export interface ListenAddress {
  host: string;
  port: number;
}

export function listenAddress(
  flags: { port?: string; host?: string },
  env: NodeJS.ProcessEnv,
  fallback: ListenAddress,
): ListenAddress | { error: string } {
  const portText = flags.port ?? env.SEXTANT_PORT;
  let port = fallback.port;
  if (portText !== undefined) {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) return { error: `invalid --port "${portText}": expected 0-65535` };
  }
  return { host: flags.host ?? env.SEXTANT_HOST ?? fallback.host, port };
}
