import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.js';
import { seedBaseModel, seedTask, versionData } from '../../../test/support/storage-fixtures.js';
import { openDatabase, type Database } from '../database.js';
import { createPromptVersion } from './create-prompt-version.js';

let postgres: TestPostgres;
let db: Database;

beforeAll(async () => {
  postgres = await startPostgres();
  db = await openDatabase({ url: await postgres.newDatabase(), migrate: true, poolSize: 20 });
});
afterAll(async () => {
  await db?.close();
  await postgres?.stop();
});

describe('createPromptVersion on real Postgres', () => {
  it('gives 20 concurrent creates for one task the distinct numbers 1..20', async () => {
    const model = await seedBaseModel(db.prisma);
    const task = await seedTask(db.prisma);
    const results = await Promise.all(Array.from({ length: 20 }, () => createPromptVersion(db.prisma, versionData(task, model))));
    const numbers = results.map((r) => r.version.version).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await db.prisma.task.findUniqueOrThrow({ where: { id: task.id } })).nextVersion).toBe(21);
  });

  it('numbers each task on its own, concurrently', async () => {
    const model = await seedBaseModel(db.prisma);
    const [a, b] = await Promise.all([seedTask(db.prisma), seedTask(db.prisma)]);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => createPromptVersion(db.prisma, versionData(i % 2 === 0 ? a : b, model))),
    );
    for (const task of [a, b]) {
      const numbers = results
        .filter((r) => r.version.taskId === task.id)
        .map((r) => r.version.version)
        .sort((x, y) => x - y);
      expect(numbers).toEqual([1, 2, 3, 4, 5]);
    }
  });

  it('a failed create rolls its number back: the next create gets it', async () => {
    const model = await seedBaseModel(db.prisma);
    const task = await seedTask(db.prisma);
    await createPromptVersion(db.prisma, versionData(task, model));
    const missingParent = '00000000-0000-4000-8000-000000000000';
    await expect(createPromptVersion(db.prisma, versionData(task, model, { parentVersionId: missingParent }))).rejects.toThrow();
    const next = await createPromptVersion(db.prisma, versionData(task, model));
    expect(next.version.version).toBe(2);
  });

  it('concurrent creates with one request id make exactly one version', async () => {
    const model = await seedBaseModel(db.prisma);
    const task = await seedTask(db.prisma);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => createPromptVersion(db.prisma, versionData(task, model, { requestId: 'same-request' }))),
    );
    expect(new Set(results.map((r) => r.version.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await db.prisma.promptVersion.count({ where: { taskId: task.id } })).toBe(1);
  });

  it('refuses a version for a task that does not exist', async () => {
    const model = await seedBaseModel(db.prisma);
    const task = await seedTask(db.prisma);
    const ghost = { ...task, id: '00000000-0000-4000-8000-000000000001' };
    await expect(createPromptVersion(db.prisma, versionData(ghost, model))).rejects.toThrow(/does not exist/);
  });
});
