import { fastify, LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/**
 * A module's HTTP routes (the web console, the OpenAI-compatible endpoint, …), registered on the
 * server's one HTTP port as an encapsulated Fastify plug-in: hooks and decorators a module adds stay
 * inside its own routes. `grpcAddress` is where the process's gRPC server listens, so a route can
 * call the services (and their access rules) exactly as any client does.
 */
export type HttpRoutes = (app: FastifyInstance, grpcAddress: string) => Promise<void> | void;

export interface HttpHostOptions {
  port: number;
  host: string;
  /** Serve HTTPS with this certificate (the gRPC server's own, when it serves TLS). */
  tls?: { cert: Buffer; key: Buffer };
  routes: readonly { name: string; routes: HttpRoutes }[];
  grpcAddress: string;
  logger: Logger;
}

export interface HttpHost {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts one Fastify server carrying every module's routes; resolves once it listens. */
export async function startHttpHost(options: HttpHostOptions): Promise<HttpHost> {
  const app = fastify({
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    loggerInstance: options.logger.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
  });
  for (const { name, routes } of options.routes) {
    await app.register(async (scoped) => routes(scoped, options.grpcAddress), { name });
  }
  try {
    await app.listen({ port: options.port, host: options.host });
  } catch (err) {
    await app.close();
    throw new Error(`HTTP server: cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`, { cause: err });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return { port, close: () => app.close() };
}
