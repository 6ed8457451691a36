import type { PrismaClient } from '../storage/index.js';
import type { ScopeLookup } from './rule.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Namespace look-ups for the access guard; malformed ids find nothing (the handler then rejects them). */
export function createScopeLookup(prisma: PrismaClient): ScopeLookup {
  return {
    async jobNamespace(jobId) {
      if (!UUID.test(jobId)) return undefined;
      return (await prisma.job.findUnique({ where: { id: jobId }, select: { namespace: true } }))?.namespace;
    },
    async tokenNamespace(tokenId) {
      if (tokenId === '' || tokenId.length > 64) return undefined;
      return (await prisma.apiToken.findUnique({ where: { id: tokenId }, select: { namespace: true } }))?.namespace;
    },
    activeJobs: (namespace) => prisma.job.count({ where: { namespace, state: { in: ['QUEUED', 'RUNNING'] } } }),
  };
}
