import type { Prisma, PrismaClient, PromptVersion } from '../generated/client.js';
import { isUniqueViolation } from '../../domain/index.js';
import { allocateVersion } from './allocate-version.js';

/** Everything a version row holds except what the database assigns (id, version, createdAt). */
export type NewPromptVersion = Omit<Prisma.PromptVersionUncheckedCreateInput, 'id' | 'version' | 'createdAt'>;

export interface CreatedPromptVersion {
  version: PromptVersion;
  /** False when `requestId` matched an existing version of the task, which is returned unchanged. */
  created: boolean;
}

/**
 * Inserts a prompt version with the next number of its task, in one transaction. The blob it points
 * to must already be written and verified. A repeated `requestId` for the same task returns the
 * version created the first time instead of a new one.
 */
export async function createPromptVersion(prisma: PrismaClient, data: NewPromptVersion): Promise<CreatedPromptVersion> {
  const existing = await findByRequestId(prisma, data);
  if (existing) return { version: existing, created: false };
  try {
    const version = await prisma.$transaction(async (tx) => {
      const number = await allocateVersion(tx, data.taskId);
      return tx.promptVersion.create({ data: { ...data, version: number } });
    });
    return { version, created: true };
  } catch (err) {
    // Two creates with one requestId raced: the loser's unique violation means the winner's row exists.
    const winner = isUniqueViolation(err) ? await findByRequestId(prisma, data) : null;
    if (winner) return { version: winner, created: false };
    throw err;
  }
}

async function findByRequestId(prisma: PrismaClient, data: NewPromptVersion): Promise<PromptVersion | null> {
  if (data.requestId === undefined || data.requestId === null) return null;
  return prisma.promptVersion.findUnique({ where: { taskId_requestId: { taskId: data.taskId, requestId: data.requestId } } });
}
