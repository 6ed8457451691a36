/**
 * The web console's address as a person types it: a wildcard bind is reached on loopback from the
 * same machine; under TLS the HTTP port speaks HTTPS (with the gRPC certificate).
 */
export function consoleUrl(host: string, httpPort: number, tls: boolean): string {
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${tls ? 'https' : 'http'}://${local.includes(':') ? `[${local}]` : local}:${httpPort}/`;
}
