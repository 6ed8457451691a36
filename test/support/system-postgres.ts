import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chown, readdir, writeFile, rm, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A Postgres server process: what the test fixture needs from either source of binaries. */
export interface PostgresProcess {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Debian/Ubuntu `postgresql` server binaries (the newest version under /usr/lib/postgresql), if installed. */
export async function findSystemPostgresBin(): Promise<string | undefined> {
  const root = '/usr/lib/postgresql';
  const versions = await readdir(root).catch(() => [] as string[]);
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return newest.map((v) => path.join(root, v, 'bin')).find((bin) => existsSync(path.join(bin, 'postgres')));
}

interface SystemPostgresOptions {
  bin: string;
  dataDir: string;
  port: number;
  user: string;
  password: string;
  log: string[];
}

/** initdb + postgres from `bin`, run as the `postgres` OS user when we are root (Postgres refuses root). */
export async function systemPostgres(options: SystemPostgresOptions): Promise<PostgresProcess> {
  const ids = os.userInfo().uid === 0 ? osUserIds('postgres') : {};
  await mkdir(options.dataDir, { recursive: true });
  if (ids.uid !== undefined && ids.gid !== undefined) await chown(options.dataDir, ids.uid, ids.gid);
  const pwFile = path.join(path.dirname(options.dataDir), 'pwfile');
  await writeFile(pwFile, `${options.password}\n`, { mode: 0o644 });
  try {
    await run(
      path.join(options.bin, 'initdb'),
      [
        `--pgdata=${options.dataDir}`,
        '--auth=scram-sha-256',
        `--username=${options.user}`,
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--no-sync',
      ],
      ids,
      options.log,
    );
  } finally {
    await rm(pwFile, { force: true });
  }
  let child: ChildProcess | undefined;
  return {
    start: () =>
      new Promise<void>((resolve, reject) => {
        child = spawn(
          path.join(options.bin, 'postgres'),
          ['-D', options.dataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
          { ...ids, stdio: ['ignore', 'ignore', 'pipe'] },
        );
        child.stderr?.on('data', (chunk: Buffer) => {
          options.log.push(chunk.toString());
          if (chunk.toString().includes('ready to accept connections')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`postgres exited with code ${code}:\n${options.log.slice(-10).join('')}`)));
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child === undefined || child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

function osUserIds(name: string): { uid?: number; gid?: number } {
  return {
    uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim()),
  };
}

function run(file: string, args: string[], ids: { uid?: number; gid?: number }, log: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...ids, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} exited with code ${code}:\n${log.slice(-10).join('')}`)),
    );
  });
}
