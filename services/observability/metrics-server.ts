import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** The port infra/k8s declares for /metrics (container port "metrics", prometheus.io/port). */
export const DEFAULT_METRICS_PORT = 9090;

export interface MetricsServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Default "0.0.0.0". */
  readonly host?: string;
  readonly registry: Registry;
}

export interface MetricsServer {
  readonly port: number;
  /** Stops listening and closes idle keep-alive connections. */
  close(): Promise<void>;
}

/** Serves GET /metrics (Prometheus text format) and GET /healthz over plain HTTP. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry } = options;
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') return reply(response, 404, `not found: ${path} (try /metrics or /healthz)\n`);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return reply(response, 405, `method ${request.method} not allowed on ${path}\n`);
    }
    if (path === '/healthz') return reply(response, 200, 'ok\n');
    registry.metrics().then(
      (text) => reply(response, 200, text, registry.contentType),
      (error: unknown) => reply(response, 500, `collecting metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
    );
  });

  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`metrics server cannot listen on ${host}:${options.port}: ${error.message}`, { cause: error })));
    server.listen(options.port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

function reply(response: http.ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
