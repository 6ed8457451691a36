import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { Limits } from '../config/index.js';
import type { Role } from './roles.js';

/** Database look-ups a rule may need to find the namespace of what a request names. */
export interface ScopeLookup {
  jobNamespace(jobId: string): Promise<string | undefined>;
  tokenNamespace(tokenId: string): Promise<string | undefined>;
  activeJobs(namespace: string): Promise<number>;
}

/**
 * Where a call's namespace comes from:
 * - `namespaces`: named in the request (every one must be the caller's);
 * - `lookup`: the namespace of the job / token the request names (undefined: the target does not
 *   exist, the handler answers NOT_FOUND; or, for inference, no prompt is named: the bare model);
 * - `global`: the target belongs to no namespace (base models, content-addressed datasets): the role
 *   alone decides;
 * - `caller`: the call lists across namespaces; `filterReply` keeps only what the caller may see;
 * - `worker`: the worker protocol (role worker, every namespace).
 */
export type Scope<Req, Res> =
  | { readonly kind: 'namespaces'; readonly of: (request: Req) => readonly string[] }
  | { readonly kind: 'lookup'; readonly of: (request: Req, lookup: ScopeLookup) => Promise<string | undefined> }
  | { readonly kind: 'global' }
  | { readonly kind: 'caller'; readonly filterReply: (reply: Res, visible: (namespace: string) => boolean) => Res }
  | { readonly kind: 'worker' };

/** What a successful write records in the audit log. */
export interface AuditRule<Req, Res> {
  readonly action: string;
  readonly target: (request: Req, reply: Res) => string;
  readonly details?: (request: Req, reply: Res) => Record<string, unknown>;
}

/**
 * The access rule of one RPC. For a client-streaming RPC, `Req` is the first message of the stream
 * (the header that names the target).
 */
export interface Rule<Req, Res> {
  /** role needed; a function when the request itself raises it (e.g. pushing with an alias) */
  readonly role: Role | ((request: Req) => Role);
  readonly scope: Scope<Req, Res>;
  /** throws RpcError(RESOURCE_EXHAUSTED) when the request exceeds a limit */
  readonly limits?: (request: Req, context: { limits: Limits; lookup: ScopeLookup; namespaces: readonly string[] }) => Promise<void> | void;
  readonly audit?: AuditRule<Req, Res>;
  /**
   * Writes the authenticated actor into the request's own "who" field (created_by, updated_by), so
   * the rows a write leaves name the token, not whatever the client claimed.
   */
  readonly stampActor?: (request: Req, actor: string) => void;
  /**
   * Client streams: the payload bytes one message carries, and the most the whole stream may carry;
   * the stream fails with RESOURCE_EXHAUSTED as soon as it goes over, whatever its header declared.
   */
  readonly streamCap?: { readonly bytes: (message: Req) => number; readonly max: (limits: Limits) => number; readonly what: string };
}

/** One rule per method of a generated service: a method without a rule does not compile. */
export type ServiceRules<S extends GenService<GenServiceMethods>> = {
  readonly [K in keyof S['method']]: Rule<MessageShape<S['method'][K]['input']>, MessageShape<S['method'][K]['output']>>;
};

export type AnyRule = Rule<MessageShape<DescMessage>, MessageShape<DescMessage>>;
