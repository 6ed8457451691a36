import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { CreateTaskRequest, ListTasksRequest, TaskSchema } from '../gen/ptune/v1/registry_pb.js';
import { Prisma, type PrismaClient } from '../storage/index.js';
import {
  alreadyExists,
  checkNamespace,
  checkTaskRef,
  decodePageToken,
  formatTaskName,
  invalidArgument,
  isUniqueViolation,
  pageSize,
  paginate,
  stringKey,
  type TaskName,
} from '../domain/index.js';
import { findTask } from './resolve.js';

type TaskMessage = MessageInitShape<typeof TaskSchema>;
const MAX_DESCRIPTION = 4096;

const WITH_ALIASES = { aliases: { include: { version: { select: { version: true } } } } } as const;
type TaskWithAliases = Prisma.TaskGetPayload<{ include: typeof WITH_ALIASES }>;

function toTask(row: TaskWithAliases): TaskMessage {
  return {
    ref: { namespace: row.namespace, name: row.name },
    description: row.description,
    latestVersion: row.nextVersion - 1,
    aliases: Object.fromEntries(row.aliases.map((a) => [a.name, a.version.version])),
    createdBy: row.createdBy,
    createdAt: timestampFromDate(row.createdAt),
  };
}

export async function createTask(prisma: PrismaClient, request: CreateTaskRequest): Promise<{ task: TaskMessage; created: boolean }> {
  const ref = checkTaskRef(request.task, 'task');
  if (request.description.length > MAX_DESCRIPTION)
    throw invalidArgument('description', `is ${request.description.length} characters; the limit is ${MAX_DESCRIPTION}`);
  return ensureTask(prisma, ref, request.description, request.createdBy);
}

/** Creates the task, or returns it when it exists with the same description (idempotent). */
export async function ensureTask(
  prisma: PrismaClient,
  ref: TaskName,
  description: string,
  createdBy: string,
): Promise<{ task: TaskMessage; created: boolean }> {
  const existing = await prisma.task.findUnique({ where: { namespace_name: ref }, include: WITH_ALIASES });
  if (existing !== null) return { task: sameOrConflict(existing, description), created: false };
  try {
    const row = await prisma.task.create({ data: { ...ref, description, createdBy: createdBy || 'anonymous' }, include: WITH_ALIASES });
    return { task: toTask(row), created: true };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const winner = await prisma.task.findUniqueOrThrow({ where: { namespace_name: ref }, include: WITH_ALIASES });
    return { task: sameOrConflict(winner, description), created: false };
  }
}

function sameOrConflict(row: TaskWithAliases, description: string): TaskMessage {
  if (row.description !== description) {
    throw alreadyExists(`task ${formatTaskName(row)} already exists with a different description (${JSON.stringify(row.description)})`);
  }
  return toTask(row);
}

export async function getTask(prisma: PrismaClient, ref: TaskName): Promise<TaskMessage> {
  const row = await findTask(prisma, ref);
  return toTask(await prisma.task.findUniqueOrThrow({ where: { id: row.id }, include: WITH_ALIASES }));
}

export async function listTasks(prisma: PrismaClient, request: ListTasksRequest): Promise<{ tasks: TaskMessage[]; nextPageToken: string }> {
  if (request.namespace !== '') checkNamespace(request.namespace, 'namespace');
  const scope = `tasks:${request.namespace}`;
  const size = pageSize(request.pageSize);
  const after = decodePageToken(request.pageToken, scope, stringKey(2)) as [string, string] | undefined;
  const rows = await prisma.task.findMany({
    where: {
      ...(request.namespace === '' ? {} : { namespace: request.namespace }),
      ...(after === undefined ? {} : { OR: [{ namespace: { gt: after[0] } }, { namespace: after[0], name: { gt: after[1] } }] }),
    },
    orderBy: [{ namespace: 'asc' }, { name: 'asc' }],
    take: size + 1,
    include: WITH_ALIASES,
  });
  const { page, nextPageToken } = paginate(rows, size, scope, (r) => [r.namespace, r.name]);
  return { tasks: page.map(toTask), nextPageToken };
}
