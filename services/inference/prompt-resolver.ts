/**
 * Which prompt answers a request: resolved through the registry's GetPrompt on every request, with
 * the caller's token (so the registry's access rules decide and an alias move or a deleted version
 * is seen at once), cheaply: the payload sha256 last seen for the same selector goes out as
 * `if_none_match`, so an unchanged alias costs a small reply and the decoded prompt comes from a
 * cache keyed by sha256 (immutable content: never stale).
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { RegistryClient } from '../client/index.js';
import type { BaseModelRefSchema, PromptVersionRefSchema } from '../gen/ptune/v1/common_pb.js';
import type { PromptSelector, PromptVersion } from '../gen/ptune/v1/registry_pb.js';
import { decodeStoredPrompt, type LoadedModel, type ServedPrompt } from '../engine/index.js';
import { failedPrecondition } from '../domain/index.js';

/** Which prompt version and base model answered (ServedBy on the wire). */
export interface ServedBy {
  readonly promptVersion?: MessageInitShape<typeof PromptVersionRefSchema>;
  readonly baseModel: MessageInitShape<typeof BaseModelRefSchema>;
}

export interface ResolvedPrompt {
  /** undefined: the bare model */
  readonly prompt?: ServedPrompt;
  readonly servedBy: ServedBy;
}

export interface PromptResolverOptions {
  readonly registry: () => RegistryClient;
  readonly model: LoadedModel;
  /** the registered name of the served base model */
  readonly modelName: string;
  /** decoded prompts kept (least recently used dropped first); default 256 */
  readonly maxPrompts?: number;
}

export interface PromptResolver {
  /** `authorization`: the caller's header, forwarded as is. Registry errors (NOT_FOUND, PERMISSION_DENIED …) pass through. */
  resolve(selector: PromptSelector | undefined, authorization: string | undefined, signal?: AbortSignal): Promise<ResolvedPrompt>;
}

export function createPromptResolver(options: PromptResolverOptions): PromptResolver {
  const { model, modelName } = options;
  const maxPrompts = options.maxPrompts ?? 256;
  const decoded = new Map<string, ServedPrompt>();
  const lastSha = new Map<string, string>();
  const baseModel = { name: modelName, fingerprintSha256: model.fingerprint };

  const remember = (sha: string, prompt: ServedPrompt): void => {
    decoded.delete(sha);
    decoded.set(sha, prompt);
    if (decoded.size > maxPrompts) decoded.delete(decoded.keys().next().value as string);
  };
  const cached = (sha: string): ServedPrompt | undefined => {
    const prompt = decoded.get(sha);
    if (prompt !== undefined) remember(sha, prompt);
    return prompt;
  };

  return {
    async resolve(selector, authorization, signal) {
      const metadata: Record<string, string> = authorization === undefined ? {} : { authorization };
      if (selector === undefined) {
        // the bare model: the registry still authenticates the caller (any valid token reads base models)
        await options.registry().getBaseModel({ name: modelName }, { metadata, signal });
        return { servedBy: { baseModel } };
      }
      const key = selectorKey(selector);
      const known = lastSha.get(key);
      const ask = (ifNoneMatch: string) => options.registry().getPrompt({ prompt: selector, ifNoneMatch }, { metadata, signal });
      let reply = await ask(known !== undefined && decoded.has(known) ? known : '');
      // evicted between the check and the reply: ask again for the bytes
      if (reply.notModified && cached(reply.payloadSha256) === undefined) reply = await ask('');
      const version = reply.version;
      if (version === undefined) throw new Error('GetPrompt answered without version metadata');
      const name = versionName(version);
      checkBaseModel(version, name, modelName, model.fingerprint);
      let prompt = cached(reply.payloadSha256);
      if (prompt === undefined) {
        let stored;
        try {
          stored = decodeStoredPrompt(reply.safetensors, name, model.spec);
        } catch (err) {
          throw failedPrecondition(`prompt ${name} does not fit base model ${modelName}: ${(err as Error).message}`);
        }
        prompt = { id: reply.payloadSha256, stored };
        remember(reply.payloadSha256, prompt);
      }
      lastSha.set(key, reply.payloadSha256);
      return { prompt, servedBy: { baseModel, promptVersion: { task: version.task, version: version.version } } };
    },
  };
}

function checkBaseModel(version: PromptVersion, name: string, modelName: string, fingerprint: string): void {
  const trainedFor = version.baseModel;
  if (trainedFor?.fingerprintSha256 === fingerprint) return;
  throw failedPrecondition(
    `prompt ${name} was trained for base model ${trainedFor?.name ?? '?'} (fingerprint ${trainedFor?.fingerprintSha256 ?? '?'}); ` +
      `this server serves ${modelName} (fingerprint ${fingerprint})`,
    { field: 'prompt' },
  );
}

/** "team-a/feelings@3" */
export function versionName(version: Pick<PromptVersion, 'task' | 'version'>): string {
  return `${version.task?.namespace ?? ''}/${version.task?.name ?? ''}@${version.version}`;
}

function selectorKey(selector: PromptSelector): string {
  return `${selector.task?.namespace ?? ''}/${selector.task?.name ?? ''}|${selector.selector.case ?? ''}:${String(selector.selector.value ?? '')}`;
}
