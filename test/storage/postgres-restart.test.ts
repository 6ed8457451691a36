import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../services/storage/database.js';
import { createPromptVersion } from '../../services/storage/versions/create-prompt-version.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { seedBaseModel, seedTask, versionData } from '../support/storage-fixtures.js';

let postgres: TestPostgres;
let db: Database;

beforeAll(async () => {
  postgres = await startPostgres();
  db = await openDatabase({ url: await postgres.newDatabase(), migrate: true, poolSize: 4 });
});
afterAll(async () => {
  await db?.close();
  await postgres?.stop();
});

describe('a Postgres restart', () => {
  it('loses nothing committed, and the client carries on afterwards', async () => {
    const model = await seedBaseModel(db.prisma);
    const task = await seedTask(db.prisma);
    const before = [];
    for (let i = 0; i < 5; i++) before.push((await createPromptVersion(db.prisma, versionData(task, model))).version);

    await postgres.restart();

    // The pool's old connections died with the server; the first query after a restart may fail.
    const retry = async <T>(run: () => Promise<T>): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await run();
        } catch (err) {
          if (attempt >= 5) throw err;
        }
      }
    };
    const after = await retry(() => db.prisma.promptVersion.findMany({ where: { taskId: task.id }, orderBy: { version: 'asc' } }));
    expect(after).toEqual(before);
    const next = await retry(() => createPromptVersion(db.prisma, versionData(task, model)));
    expect(next.version.version).toBe(6);
  });
});
