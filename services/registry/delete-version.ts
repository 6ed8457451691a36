import type { DeletePromptVersionRequest } from '../gen/ptune/v1/registry_pb.js';
import type { PrismaClient } from '../storage/index.js';
import { lockTask } from './aliases.js';
import { checkTaskRef, failedPrecondition, formatTaskName, invalidArgument, notFound } from '../domain/index.js';

/**
 * Deletes a version: a tombstone (deleted_at) so its number is never reused and its lineage stays
 * readable. Refused while an alias points at it. The row no longer references its blob, so the orphan
 * sweeper reclaims the bytes after the grace period unless another version shares them.
 */
export async function deletePromptVersion(prisma: PrismaClient, request: DeletePromptVersionRequest, actor = 'anonymous'): Promise<void> {
  const ref = request.version;
  if (ref === undefined) throw invalidArgument('version', 'is required (task and version number)');
  const task = checkTaskRef(ref.task, 'version.task');
  if (ref.version === 0) throw invalidArgument('version.version', 'versions start at 1');
  await prisma.$transaction(async (tx) => {
    const taskId = await lockTask(tx, task);
    const row = await tx.promptVersion.findUnique({
      where: { taskId_version: { taskId, version: ref.version } },
      select: { id: true, deletedAt: true, aliases: { select: { name: true }, orderBy: { name: 'asc' } } },
    });
    if (row === null || row.deletedAt !== null)
      throw notFound(`task ${formatTaskName(task)} has no version ${ref.version}${row === null ? '' : ' (already deleted)'}`);
    if (row.aliases.length > 0) {
      const names = row.aliases.map((a) => `"${a.name}"`).join(', ');
      throw failedPrecondition(
        `version ${ref.version} of task ${formatTaskName(task)} is the target of alias ${names}; move or delete the alias first`,
        {
          aliases: row.aliases.map((a) => a.name).join(','),
        },
      );
    }
    await tx.promptVersion.update({ where: { id: row.id }, data: { deletedAt: new Date(), deletedBy: actor } });
  });
}
