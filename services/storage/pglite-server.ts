import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** An embedded PGlite database, persisted in `dir`, reachable as Postgres on a loopback port. */
export interface PgliteServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * PGlite is one Postgres backend: one session. Its socket server therefore gets exactly one
 * connection (the default), and clients must size their pool to 1 — two connections would share
 * one session and see each other's open transactions.
 */
export async function startPgliteServer(dir: string | undefined): Promise<PgliteServer> {
  if (dir !== undefined) await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir === undefined ? {} : { dataDir: dir });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
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
