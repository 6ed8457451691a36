/**
 * The OpenAI-compatible endpoint, driven by the official `openai` npm client unchanged (streaming and
 * not): answers equal the gRPC ones, `model` picks the prompt, errors come back with OpenAI's status
 * codes and shape.
 */
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateText } from '../engine/index.js';
import { NAMESPACE, startInferenceFixture, TEST_CHAT_TEMPLATE, until, type InferenceFixture } from './test-fixture.js';

let f: InferenceFixture;
let openai: OpenAI;
let soft: Float32Array;

beforeAll(async () => {
  f = await startInferenceFixture({ maxSlots: 2, maxQueue: 1 }, { chatTemplate: TEST_CHAT_TEMPLATE });
  openai = new OpenAI({ baseURL: f.openAiUrl, apiKey: 'unused-auth-is-off', maxRetries: 0 });
  ({ tensor: soft } = await f.push('feelings', 4, 5, { alias: 'production' }));
  await f.push('feelings', 4, 6);
}, 180_000);
afterAll(async () => f?.close());

async function apiError(call: Promise<unknown>): Promise<APIError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof APIError)) throw new Error(`expected an APIError, got ${String(err)}`);
  return err;
}

describe('POST /v1/completions', () => {
  it('answers with the named prompt version, as generateText does, and says which version answered', async () => {
    const reply = await openai.completions.create({
      model: `${NAMESPACE}/feelings@production`,
      prompt: 'I feel',
      max_tokens: 10,
      temperature: 0,
    });
    const reference = await generateText(f.model, { text: 'I feel', prompt: soft, maxTokens: 10 });
    expect(reply.choices[0].text).toBe(reference.completion);
    expect(reply.choices[0].finish_reason).toBe('length');
    expect(reply.model).toBe(`${NAMESPACE}/feelings@v1`);
    expect(reply.usage).toMatchObject({ prompt_tokens: reference.inputIds.length, completion_tokens: 10 });

    const v2 = await openai.completions.create({ model: `${NAMESPACE}/feelings@v2`, prompt: 'I feel', max_tokens: 4, temperature: 0 });
    expect(v2.model).toBe(`${NAMESPACE}/feelings@v2`);
    const latest = await openai.completions.create({
      model: `${NAMESPACE}/feelings@latest`,
      prompt: 'I feel',
      max_tokens: 4,
      temperature: 0,
    });
    expect(latest.model).toBe(`${NAMESPACE}/feelings@v2`);
  });

  it('streams server-sent events whose text adds up to the non-streamed answer', async () => {
    const request = { model: `${NAMESPACE}/feelings@production`, prompt: 'Once upon a time', max_tokens: 12, temperature: 0 };
    const whole = await openai.completions.create(request);
    let text = '';
    let finish: string | null = null;
    for await (const chunk of await openai.completions.create({ ...request, stream: true })) {
      text += chunk.choices[0].text;
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    expect(text).toBe(whole.choices[0].text);
    expect(finish).toBe('length');
  });

  it('the bare model answers under its own name', async () => {
    const reply = await openai.completions.create({ model: 'tiny', prompt: 'I feel', max_tokens: 6, temperature: 0 });
    expect(reply.choices[0].text).toBe((await generateText(f.model, { text: 'I feel', maxTokens: 6 })).completion);
    expect(reply.model).toBe('tiny');
  });
});

describe('POST /v1/chat/completions', () => {
  it("renders the conversation with the model's chat template; streamed deltas add up to the answer", async () => {
    const request = {
      model: `${NAMESPACE}/feelings@production`,
      messages: [{ role: 'user' as const, content: 'how are you?' }],
      max_tokens: 10,
      temperature: 0,
    };
    const reply = await openai.chat.completions.create(request);
    // the template renders "<s>user: how are you?\nassistant:"; BOS is the tokenizer's own
    const reference = await generateText(f.model, { text: 'user: how are you?\nassistant:', prompt: soft, maxTokens: 10 });
    expect(reply.choices[0].message).toMatchObject({ role: 'assistant', content: reference.completion });
    expect(reply.object).toBe('chat.completion');
    let content = '';
    for await (const chunk of await openai.chat.completions.create({ ...request, stream: true }))
      content += chunk.choices[0]?.delta.content ?? '';
    expect(content).toBe(reference.completion);
  });

  it('400 naming messages when there is none', async () => {
    const err = await apiError(openai.chat.completions.create({ model: 'tiny', messages: [] }));
    expect(err.status).toBe(400);
    expect(err.param).toBe('messages');
  });
});

describe('GET /v1/models', () => {
  it('lists the base model and namespace/task@alias of every aliased task', async () => {
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toContain('tiny');
    expect(ids).toContain(`${NAMESPACE}/feelings@production`);
  });

  it('leaves out an alias whose version was trained for another base model (it could not be served)', async () => {
    await f.push('elsewhere', 4, 7, { alias: 'production', baseModel: 'tiny-other' });
    await f.push('elsewhere', 4, 8, { alias: 'staging' });
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toContain(`${NAMESPACE}/elsewhere@staging`);
    expect(ids).not.toContain(`${NAMESPACE}/elsewhere@production`);
  });
});

describe('errors in OpenAI shape', () => {
  it('404 for an unknown task or alias, 400 for values out of range, with the parameter named', async () => {
    const unknown = await apiError(openai.completions.create({ model: `${NAMESPACE}/nothing@production`, prompt: 'x' }));
    expect(unknown.status).toBe(404);
    expect(unknown.message).toContain('nothing');
    const alias = await apiError(openai.completions.create({ model: `${NAMESPACE}/feelings@staging`, prompt: 'x' }));
    expect(alias.status).toBe(404);
    const bare = await apiError(openai.completions.create({ model: 'gpt-4o', prompt: 'x' }));
    expect(bare.status).toBe(404);
    expect(bare.param).toBe('model');

    const range = await apiError(openai.completions.create({ model: 'tiny', prompt: 'x', top_p: 3 }));
    expect(range.status).toBe(400);
    expect(range.param).toBe('top_p');
    const context = await apiError(openai.completions.create({ model: 'tiny', prompt: 'x', max_tokens: f.model.spec.contextLength }));
    expect(context.status).toBe(400);
    expect(context.param).toBe('max_tokens');
    expect(context.error).toMatchObject({ type: 'invalid_request_error' });
  });

  it('429 when more requests arrive than the slots and the queue hold; others still finish', async () => {
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const busy = controllers.map((c) =>
      openai.completions
        .create({ model: 'tiny', prompt: 'Once', max_tokens: 200, temperature: 0, stream: true }, { signal: c.signal })
        .then(async (stream) => {
          for await (const chunk of stream) void chunk;
        }),
    );
    const { engine } = f.runtime;
    await until(() => engine.stats().running + engine.stats().queued === 3);
    const refused = await apiError(openai.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 2 }));
    expect(refused.status).toBe(429);
    // a client going away mid-stream frees its slot
    for (const c of controllers) c.abort();
    await Promise.allSettled(busy);
    await until(() => engine.stats().running + engine.stats().queued === 0);
    const after = await openai.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 2, temperature: 0 });
    expect(after.usage?.completion_tokens).toBe(2);
  });
});
