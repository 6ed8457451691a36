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
  /**
   * When the port is taken: "fail" (default; a coordinator's port is declared in its manifests) or
   * "free-port", listen on any free port instead (several workers on one host; the caller logs it).
   */
  readonly whenBusy?: 'fail' | 'free-port';
}

export interface MetricsServer {
  readonly port: number;
  /** true when the requested port was taken and `port` is a free one picked instead */
  readonly movedFromBusyPort: boolean;
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
  const listen = (port: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const fail = (error: NodeJS.ErrnoException): void =>
        reject(
          Object.assign(new Error(`metrics server cannot listen on ${host}:${port}: ${error.message}`, { cause: error }), {
            code: error.code,
          }),
        );
      server.once('error', fail);
      server.listen(port, host, () => {
        server.removeListener('error', fail);
        resolve();
      });
    });
  let movedFromBusyPort = false;
  try {
    await listen(options.port);
  } catch (error) {
    if (options.whenBusy !== 'free-port' || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    await listen(0);
    movedFromBusyPort = true;
  }
  return {
    port: (server.address() as AddressInfo).port,
    movedFromBusyPort,
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
