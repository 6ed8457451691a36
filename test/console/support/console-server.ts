/**
 * A real all-in-one ptune server for the console's browser tests: gRPC and the HTTP port (the
 * console's routes) on loopback, tokens required, one in-process worker, embedded PGlite or a
 * Postgres URL. Tokens of each role are minted straight into its database.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createToken, mintProcessWorkerToken, revokeToken, withAccessControl, type Role } from '../../../services/auth/index.js';
import { allInOneModules } from '../../../services/cli/commands/all-in-one.js';
import { connect, type PtuneClient } from '../../../services/client/index.js';
import { startServer, type RunningServer } from '../../../services/server/index.js';

/** The namespace the tests work in, and one its tokens must never see into. */
export const NAMESPACE = 'acme';
export const OTHER_NAMESPACE = 'globex';

/** Who signs in: a role in NAMESPACE, `stranger` a reader of OTHER_NAMESPACE only, `root` admin of every namespace. */
export type Person = 'admin' | 'trainer' | 'reader' | 'stranger' | 'root';

const PEOPLE: Readonly<Record<Person, { namespace: string; role: Role }>> = {
  admin: { namespace: NAMESPACE, role: 'admin' },
  trainer: { namespace: NAMESPACE, role: 'trainer' },
  reader: { namespace: NAMESPACE, role: 'reader' },
  stranger: { namespace: OTHER_NAMESPACE, role: 'reader' },
  root: { namespace: '*', role: 'admin' },
};

export interface ConsoleServer {
  readonly server: RunningServer;
  /** The console's base URL, http://127.0.0.1:<httpPort> (no trailing slash). */
  readonly url: string;
  /** The token text of each person. */
  readonly tokens: Readonly<Record<Person, string>>;
  /** A gRPC client holding a person's token (closed with the server). */
  client(person: Person): PtuneClient;
  /** A fresh token of a role in a namespace, and a way to revoke it. */
  mintToken(namespace: string, role: Role): Promise<{ text: string; revoke(): Promise<void> }>;
  close(): Promise<void>;
}

export interface ConsoleServerOptions {
  /** Postgres URL; default embedded PGlite in a temporary data directory. */
  databaseUrl?: string;
  /** In-process workers (default 1; 0 when a test needs jobs to stay queued). */
  workers?: number;
}

export async function startConsoleServer(options: ConsoleServerOptions = {}): Promise<ConsoleServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ptune-console-'));
  const workerToken = mintProcessWorkerToken();
  const modules = allInOneModules({
    workers: { count: options.workers ?? 1, connection: { token: workerToken.text } },
    sweeper: { intervalMs: 0 },
  });
  let server: RunningServer;
  try {
    server = await startServer({
      modules: withAccessControl(modules, { authenticate: true, host: '127.0.0.1', processTokens: [workerToken], tokenCacheMs: 0 }),
      dataDir,
      databaseUrl: options.databaseUrl,
      migrate: true,
      port: 0,
      httpPort: 0,
      logger: pino({ level: process.env.PTUNE_TEST_LOG ?? 'silent' }),
    });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const clients: PtuneClient[] = [];
  const close = async (): Promise<void> => {
    for (const client of clients) client.close();
    await server.close(1000);
    await rm(dataDir, { recursive: true, force: true });
  };
  if (server.httpPort === undefined) {
    await close();
    throw new Error('the all-in-one server started no HTTP port: is the console module in allInOneModules()?');
  }
  const prisma = server.context.prisma;
  const mintToken = async (namespace: string, role: Role) => {
    const { token, text } = await createToken(prisma, { namespace, role, createdBy: 'console-test' });
    return { text, revoke: async () => void (await revokeToken(prisma, token.id)) };
  };
  const tokens = {} as Record<Person, string>;
  for (const [person, { namespace, role }] of Object.entries(PEOPLE)) tokens[person as Person] = (await mintToken(namespace, role)).text;
  return {
    server,
    url: `http://127.0.0.1:${server.httpPort}`,
    tokens,
    client(person) {
      const client = connect(server.address, { token: tokens[person] });
      clients.push(client);
      return client;
    },
    mintToken,
    close,
  };
}
