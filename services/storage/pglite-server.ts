import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** An embedded PGlite database, persisted in `dir`, reachable as Postgres on a loopback port. */
export interface PgliteServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * PGlite is one Postgres backend, one session. The socket server multiplexes connections onto it and
 * serializes transactions (while one connection is inside a transaction, only its queries run), so
 * isolation holds, but session state is shared and there is no parallelism: clients should use a pool
 * of 1. The server still accepts a few connections because it frees a closed connection's slot
 * asynchronously, and a quick close-then-reconnect would otherwise be refused.
 */
const MAX_SOCKET_CONNECTIONS = 8;

export async function startPgliteServer(dir: string | undefined): Promise<PgliteServer> {
  if (dir !== undefined) await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir === undefined ? {} : { dataDir: dir });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: MAX_SOCKET_CONNECTIONS });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    url: `postgresql://postgres:postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
