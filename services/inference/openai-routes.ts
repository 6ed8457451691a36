/**
 * The OpenAI-compatible HTTP endpoint: POST /v1/completions, POST /v1/chat/completions (stream:
 * true → server-sent events ending with `data: [DONE]`) and GET /v1/models. Each request becomes a
 * call of the InferenceService's own handlers, in-process, with the caller's `Authorization` header
 * as its metadata, so the checks, the registry's access rules and the batch are exactly the gRPC
 * ones; failures come back in OpenAI's error shape (`{"error": {"message", "type", "param", "code"}}`).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Metadata, status } from '@grpc/grpc-js';
import type { RegistryClient } from '../client/index.js';
import { RpcError, type ServiceHandlers } from '../grpc/index.js';
import {
  FinishReason,
  GenerateRequestSchema,
  GenerateResponseSchema,
  type GenerateResponse,
  type InferenceService,
  type ModelInputSchema,
} from '../gen/ptune/v1/inference_pb.js';
import type { TaskRef } from '../gen/ptune/v1/common_pb.js';
import type { HttpRoutes } from '../server/index.js';
import { answeredModelName, parseModelName } from './model-name.js';

export interface OpenAiRoutesOptions {
  /** the served base model's registered name (resolves once the model is loaded) */
  readonly modelName: () => Promise<string>;
  /** the registry, for GET /v1/models */
  readonly registry: () => RegistryClient;
  /** the InferenceService's handlers (inferenceHandlers) */
  readonly handlers: ServiceHandlers<typeof InferenceService>;
}

const GENERATE_PATH = '/ptune.v1.InferenceService/Generate';

/** An HTTP failure in OpenAI's shape. */
class OpenAiError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

const HTTP_OF: Partial<Record<status, [number, string, string]>> = {
  [status.INVALID_ARGUMENT]: [400, 'invalid_request_error', 'invalid_value'],
  [status.FAILED_PRECONDITION]: [400, 'invalid_request_error', 'model_mismatch'],
  [status.NOT_FOUND]: [404, 'invalid_request_error', 'model_not_found'],
  [status.UNAUTHENTICATED]: [401, 'authentication_error', 'invalid_api_key'],
  [status.PERMISSION_DENIED]: [403, 'permission_error', 'permission_denied'],
  [status.RESOURCE_EXHAUSTED]: [429, 'rate_limit_error', 'queue_full'],
  [status.UNAVAILABLE]: [503, 'server_error', 'unavailable'],
};

/** the request field a gRPC error names, as the OpenAI request calls it */
const PARAM_OF = (field: string | undefined): string | null => {
  if (field === undefined) return null;
  if (field.startsWith('sampling.')) return field.slice('sampling.'.length).replace(/\[\d+\]$/, '');
  if (field.startsWith('prompt')) return 'model';
  if (field.startsWith('input.conversation')) return 'messages';
  if (field.startsWith('input')) return 'prompt';
  return field;
};

function fromRpc(err: unknown): OpenAiError {
  if (err instanceof OpenAiError) return err;
  if (!(err instanceof RpcError)) return new OpenAiError(500, 'internal error', 'server_error');
  const [httpStatus, type, code] = HTTP_OF[err.code] ?? [500, 'server_error', err.codeName.toLowerCase()];
  return new OpenAiError(httpStatus, err.message, type, PARAM_OF(err.details.field), code);
}

const errorBody = (e: OpenAiError) => ({ error: { message: e.message, type: e.type, param: e.param, code: e.code } });
const badRequest = (param: string, message: string) => new OpenAiError(400, `${param}: ${message}`, 'invalid_request_error', param);

interface CompletionBody {
  model?: unknown;
  prompt?: unknown;
  messages?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  temperature?: unknown;
  top_p?: unknown;
  top_k?: unknown;
  stop?: unknown;
  seed?: unknown;
  stream?: unknown;
  n?: unknown;
}

type Kind = 'completion' | 'chat';

export function openAiRoutes(options: OpenAiRoutesOptions): HttpRoutes {
  return (app: FastifyInstance) => {
    app.setErrorHandler((err, _request, reply) => {
      const e = err instanceof OpenAiError || err instanceof RpcError ? fromRpc(err) : undefined;
      // Fastify's own refusals (a body that is not JSON, too large) keep their status
      const statusCode = (err as { statusCode?: number }).statusCode ?? 500;
      void reply
        .code(e?.httpStatus ?? statusCode)
        .send(
          errorBody(e ?? new OpenAiError(statusCode, (err as Error).message, statusCode < 500 ? 'invalid_request_error' : 'server_error')),
        );
    });

    app.get('/v1/models', async (request) => {
      const base = await options.modelName().catch((err: unknown) => {
        throw new OpenAiError(503, `the base model is not ready: ${(err as Error).message}`, 'server_error', null, 'unavailable');
      });
      const namespace =
        typeof (request.query as { namespace?: unknown }).namespace === 'string' ? (request.query as { namespace: string }).namespace : '';
      const names = await promptModelNames(options.registry(), base, namespace, authorization(request));
      const created = Math.floor(Date.now() / 1000);
      return { object: 'list', data: [base, ...names].map((id) => ({ id, object: 'model', created, owned_by: 'ptune' })) };
    });

    app.post('/v1/completions', (request, reply) => complete('completion', request, reply));
    app.post('/v1/chat/completions', (request, reply) => complete('chat', request, reply));

    async function complete(kind: Kind, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
      const body = (request.body ?? {}) as CompletionBody;
      const abort = new AbortController();
      // the client went away before the answer was complete: cancel the call (the engine frees its
      // slot); wired before the first wait, which may be the model's first load
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      const call = await generateRequest(kind, body, options.modelName);
      if (abort.signal.aborted || reply.raw.destroyed) {
        // nobody to answer: nothing is sent (an undefined result would make Fastify log an error)
        reply.hijack();
        return undefined;
      }
      const stream = generateStream(options.handlers, call, request, abort.signal);
      const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
      const created = Math.floor(Date.now() / 1000);
      const first = await stream.next().catch((err: unknown) => {
        throw fromRpc(err);
      });
      if (body.stream === true) return streamEvents(kind, { id, created, model: String(body.model) }, first, stream, reply);
      let text = '';
      for (let next = first; next.done !== true; next = await stream.next().catch(rethrowAsOpenAi)) {
        const part = next.value.part;
        if (part.case === 'chunk') text += part.value.text;
        else if (part.case === 'summary') {
          const s = part.value;
          const choice =
            kind === 'chat'
              ? { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: finishName(s.finishReason) }
              : { index: 0, text, logprobs: null, finish_reason: finishName(s.finishReason) };
          return {
            id,
            object: kind === 'chat' ? 'chat.completion' : 'text_completion',
            created,
            model: answeredModelName(s.servedBy),
            choices: [choice],
            usage: {
              prompt_tokens: s.promptTokens,
              completion_tokens: s.completionTokens,
              total_tokens: s.promptTokens + s.completionTokens,
            },
          };
        }
      }
      throw new OpenAiError(500, 'the generation ended without its summary', 'server_error');
    }
  };
}

function rethrowAsOpenAi(err: unknown): never {
  throw fromRpc(err);
}

/** Server-sent events: one chunk object per token batch, then the finish, then `data: [DONE]`. */
async function streamEvents(
  kind: Kind,
  head: { id: string; created: number; model: string },
  first: IteratorResult<GenerateResponse>,
  stream: AsyncIterator<GenerateResponse>,
  reply: FastifyReply,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  // the client may be gone (its abort already freed the slot): nothing more is written then
  const send = (data: unknown): void => {
    if (!raw.destroyed) raw.write(`data: ${JSON.stringify(data)}\n\n`);
  };
  const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const event = (model: string, delta: { text?: string; role?: string }, finish: string | null) => ({
    ...head,
    model,
    object,
    choices: [
      kind === 'chat'
        ? {
            index: 0,
            delta: { ...(delta.role ? { role: delta.role } : {}), ...(delta.text !== undefined ? { content: delta.text } : {}) },
            logprobs: null,
            finish_reason: finish,
          }
        : { index: 0, text: delta.text ?? '', logprobs: null, finish_reason: finish },
    ],
  });
  try {
    if (kind === 'chat') send(event(head.model, { role: 'assistant', text: '' }, null));
    for (let next = first; next.done !== true; next = await stream.next()) {
      const part = next.value.part;
      if (part.case === 'chunk') send(event(head.model, { text: part.value.text }, null));
      else if (part.case === 'summary') {
        const s = part.value;
        send({
          ...event(answeredModelName(s.servedBy), {}, finishName(s.finishReason)),
          usage: {
            prompt_tokens: s.promptTokens,
            completion_tokens: s.completionTokens,
            total_tokens: s.promptTokens + s.completionTokens,
          },
        });
      }
    }
    if (!raw.destroyed) raw.write('data: [DONE]\n\n');
  } catch (err) {
    if (!raw.destroyed) send(errorBody(fromRpc(err)));
  } finally {
    raw.end();
  }
}

function finishName(reason: FinishReason): string {
  return reason === FinishReason.LENGTH ? 'length' : 'stop';
}

/** The gRPC request an OpenAI body asks for; 400 naming the parameter when a value has the wrong type. */
async function generateRequest(
  kind: Kind,
  body: CompletionBody,
  modelName: () => Promise<string>,
): Promise<MessageInitShape<typeof GenerateRequestSchema>> {
  if (typeof body.model !== 'string' || body.model === '')
    throw badRequest('model', 'is required: a prompt (namespace/task@alias) or the base model');
  const base = await modelName().catch((err: unknown) => {
    throw new OpenAiError(503, `the base model is not ready: ${(err as Error).message}`, 'server_error', null, 'unavailable');
  });
  const parsed = parseModelName(body.model, base);
  if ('error' in parsed) throw new OpenAiError(404, parsed.error, 'invalid_request_error', 'model', 'model_not_found');
  if (body.n !== undefined && body.n !== 1) throw badRequest('n', 'only 1 is supported');
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw badRequest('stream', 'must be true or false');
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  return {
    prompt: parsed.prompt,
    input: kind === 'chat' ? chatInput(body.messages) : textInput(body.prompt),
    sampling: {
      maxTokens:
        maxTokens === undefined || maxTokens === null
          ? 0
          : count(body.max_tokens !== undefined ? 'max_tokens' : 'max_completion_tokens', maxTokens),
      temperature: body.temperature === undefined ? 1 : number('temperature', body.temperature),
      topP: body.top_p === undefined ? 0 : number('top_p', body.top_p),
      topK: body.top_k === undefined ? 0 : count('top_k', body.top_k),
      stop: body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : strings('stop', body.stop),
      ...(body.seed === undefined || body.seed === null ? {} : { seed: BigInt(count('seed', body.seed)) }),
    },
  };
}

function textInput(prompt: unknown): MessageInitShape<typeof ModelInputSchema> {
  const text = Array.isArray(prompt) && prompt.length === 1 ? (prompt[0] as unknown) : prompt;
  if (typeof text !== 'string') throw badRequest('prompt', 'must be one string (or an array of one string)');
  return { kind: { case: 'text', value: text } };
}

function chatInput(messages: unknown): MessageInitShape<typeof ModelInputSchema> {
  if (!Array.isArray(messages)) throw badRequest('messages', 'must be an array of {role, content}');
  return {
    kind: {
      case: 'conversation',
      value: {
        messages: messages.map((m: unknown, i) => {
          const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
          if (typeof role !== 'string') throw badRequest(`messages[${i}].role`, 'must be a string');
          return { role, content: contentText(content, `messages[${i}].content`) };
        }),
      },
    },
  };
}

/** a message's content: a string, or an array of text parts */
function contentText(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((part: unknown, i) => {
        const p = (part ?? {}) as { type?: unknown; text?: unknown };
        if (p.type !== 'text' || typeof p.text !== 'string') throw badRequest(`${param}[${i}]`, 'only text parts are supported');
        return p.text;
      })
      .join('');
  throw badRequest(param, 'must be a string or an array of text parts');
}

function number(param: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badRequest(param, 'must be a number');
  return value;
}

function count(param: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || (param !== 'seed' && value > 2 ** 31 - 1))
    throw badRequest(param, 'must be a non-negative integer');
  return value;
}

function strings(param: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string'))
    throw badRequest(param, 'must be a string or an array of strings');
  return value as string[];
}

/**
 * `namespace/task@alias` for every alias of every task the caller may read whose version was
 * trained for the served base model (an alias on another model's version could not be served).
 */
async function promptModelNames(registry: RegistryClient, base: string, namespace: string, auth: string | undefined): Promise<string[]> {
  const call: { metadata: Record<string, string> } = { metadata: auth === undefined ? {} : { authorization: auth } };
  const names: string[] = [];
  let pageToken = '';
  do {
    const page = await registry.listTasks({ namespace, pageSize: 1000, pageToken }, call).catch((err: unknown) => {
      // a token of one namespace may not list them all: it sees the base model (and asks with ?namespace=)
      if (namespace === '' && err instanceof RpcError && err.code === status.PERMISSION_DENIED) return undefined;
      throw fromRpc(err);
    });
    if (page === undefined) return [];
    for (const task of page.tasks) {
      if (Object.keys(task.aliases).length === 0) continue;
      const served = await versionsFor(registry, task.ref!, base, new Set(Object.values(task.aliases)), call);
      for (const [alias, version] of Object.entries(task.aliases).sort(([a], [b]) => a.localeCompare(b)))
        if (served.has(version)) names.push(`${task.ref?.namespace}/${task.ref?.name}@${alias}`);
    }
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return names;
}

/** Which of `wanted` (version numbers of a task) were trained for base model `base`: newest first, paged until all are seen. */
async function versionsFor(
  registry: RegistryClient,
  task: TaskRef,
  base: string,
  wanted: ReadonlySet<number>,
  call: { metadata: Record<string, string> },
): Promise<Set<number>> {
  const found = new Set<number>();
  const lowest = Math.min(...wanted);
  let pageToken = '';
  do {
    const page = await registry
      .listPromptVersions({ task, baseModel: base, descending: true, pageSize: 1000, pageToken }, call)
      .catch(rethrowAsOpenAi);
    for (const v of page.versions) if (wanted.has(v.version)) found.add(v.version);
    if (page.versions.some((v) => v.version <= lowest)) break;
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return found;
}

function authorization(request: FastifyRequest): string | undefined {
  return request.headers.authorization;
}

/** The Generate handler's stream for one HTTP request: its Authorization header as the call's metadata, its disconnect as the abort. */
async function* generateStream(
  handlers: ServiceHandlers<typeof InferenceService>,
  call: MessageInitShape<typeof GenerateRequestSchema>,
  request: FastifyRequest,
  signal: AbortSignal,
): AsyncGenerator<GenerateResponse> {
  const metadata = new Metadata();
  const auth = authorization(request);
  if (auth !== undefined) metadata.set('authorization', auth);
  const context = {
    methodPath: GENERATE_PATH,
    metadata,
    peer: `${request.ip}:${request.socket.remotePort ?? 0}`,
    deadline: Infinity,
    signal,
  };
  for await (const message of handlers.generate(create(GenerateRequestSchema, call), context))
    yield create(GenerateResponseSchema, message);
}
