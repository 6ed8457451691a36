import type { Prisma } from '../generated/client.js';

/**
 * Hands out the next version number of a task. Call it inside the transaction that inserts the
 * version row: the UPDATE takes the task row's lock, so a concurrent creator for the same task waits
 * until this transaction ends and then reads the bumped counter (READ COMMITTED re-evaluates the
 * row). If the transaction rolls back, the bump rolls back with it: numbers stay dense and unique.
 */
export async function allocateVersion(tx: Prisma.TransactionClient, taskId: string): Promise<number> {
  const rows = await tx.$queryRaw<{ version: number }[]>`
    UPDATE task SET next_version = next_version + 1 WHERE id = ${taskId}::uuid RETURNING next_version - 1 AS version`;
  if (rows.length !== 1) throw new Error(`task ${taskId} does not exist; create the task before adding versions`);
  return rows[0].version;
}
