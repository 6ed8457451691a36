/**
 * The API as the signed-in user: the console's one channel to the process's gRPC server, with the
 * user's bearer token on every call, so every read and write obeys exactly the API's access rules.
 */
import { AccessService, TokenRole } from '../gen/ptune/v1/access_pb.js';
import { PromptRegistryService } from '../gen/ptune/v1/registry_pb.js';
import { TrainingService } from '../gen/ptune/v1/training_pb.js';
import type { AccessClient, RegistryClient, TrainingClient } from '../client/index.js';
import { status } from '@grpc/grpc-js';
import { createClient, RpcError, type CallOptions, type GrpcTransport } from '../grpc/index.js';

export interface UserApi {
  readonly registry: RegistryClient;
  readonly training: TrainingClient;
  readonly access: AccessClient;
}

/** Who the token belongs to (AccessService.WhoAmI). */
export interface Caller {
  readonly actor: string;
  readonly namespace: string;
  readonly role: 'reader' | 'trainer' | 'admin' | 'worker' | 'unknown';
}

export function userApi(transport: GrpcTransport, token: string): UserApi {
  const metadata: Record<string, string> = token === '' ? {} : { authorization: `Bearer ${token}` };
  return {
    registry: withMetadata(createClient(PromptRegistryService, transport), metadata),
    training: withMetadata(createClient(TrainingService, transport), metadata),
    access: withMetadata(createClient(AccessService, transport), metadata),
  };
}

function withMetadata<C extends object>(client: C, metadata: Readonly<Record<string, string>>): C {
  return Object.fromEntries(
    Object.entries(client).map(([name, call]) => [
      name,
      (request: unknown, options: CallOptions = {}) =>
        (call as (request: unknown, options: CallOptions) => unknown)(request, { ...options, metadata }),
    ]),
  ) as C;
}

const ROLES: ReadonlyMap<TokenRole, Caller['role']> = new Map([
  [TokenRole.READER, 'reader'],
  [TokenRole.TRAINER, 'trainer'],
  [TokenRole.ADMIN, 'admin'],
  [TokenRole.WORKER, 'worker'],
]);

/** A server without access control (no AccessService: no tokens at all) lets everyone act as admin of every namespace. */
const NO_ACCESS_CONTROL: Caller = { actor: 'local', namespace: '*', role: 'admin' };

export async function whoAmI(api: UserApi): Promise<Caller> {
  try {
    const reply = await api.access.whoAmI({});
    return { actor: reply.actor, namespace: reply.namespace, role: ROLES.get(reply.role) ?? 'unknown' };
  } catch (err) {
    if (err instanceof RpcError && err.code === status.UNIMPLEMENTED) return NO_ACCESS_CONTROL;
    throw err;
  }
}

/** Whether the caller's token covers a namespace (the API decides every call; this only picks the page to show). */
export function covers(caller: Caller, namespace: string): boolean {
  return caller.namespace === '*' || caller.namespace === namespace;
}
