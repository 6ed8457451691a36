/** The web console's address as a person types it: a wildcard bind is reached on loopback from the same machine. */
export function consoleUrl(host: string, httpPort: number): string {
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${httpPort}/`;
}
