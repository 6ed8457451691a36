/**
 * InferenceService over a real registry (PGlite) and the real engine on the generated tiny model:
 * answers equal `generateText`'s token for token, the summary names the version that answered, an
 * alias move is served on the next request, and every bad input gets its status naming the field or
 * the name at fault.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { generateText } from '../engine/index.js';
import { FinishReason, type GenerateRequestSchema, type GenerateSummary } from '../gen/ptune/v1/inference_pb.js';
import { RpcError } from '../grpc/index.js';
import { NAMESPACE, startInferenceFixture, until, type InferenceFixture } from './test-fixture.js';

let f: InferenceFixture;
const PROMPT_TOKENS = 4;

beforeAll(async () => {
  f = await startInferenceFixture({ maxSlots: 2, maxQueue: 1 });
}, 180_000);
afterAll(async () => f?.close());

type Request = MessageInitShape<typeof GenerateRequestSchema>;

async function generate(request: Request): Promise<{ ids: number[]; text: string; summary: GenerateSummary }> {
  const ids: number[] = [];
  let text = '';
  let summary: GenerateSummary | undefined;
  for await (const message of f.inference.generate(request)) {
    if (message.part.case === 'chunk') {
      ids.push(...message.part.value.tokenIds);
      text += message.part.value.text;
    } else if (message.part.case === 'summary') summary = message.part.value;
  }
  if (summary === undefined) throw new Error('no summary');
  return { ids, text, summary };
}

async function failure(call: Promise<unknown>): Promise<RpcError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof RpcError)) throw new Error(`expected an RpcError, got ${String(err)}`);
  return err;
}

const drain = async (request: Request) => generate(request);
const text = (value: string) => ({ kind: { case: 'text' as const, value } });
const alias = (task: string, value: string) => ({
  task: { namespace: NAMESPACE, name: task },
  selector: { case: 'alias' as const, value },
});
const version = (task: string, value: number) => ({
  task: { namespace: NAMESPACE, name: task },
  selector: { case: 'version' as const, value },
});

describe('Generate', () => {
  it('greedy answers equal generateText for the bare model, a prompt-tuned and a prefix-tuned version', async () => {
    const input = 'Once upon a time';
    const bare = await generate({ input: text(input), sampling: { maxTokens: 12 } });
    const reference = await generateText(f.model, { text: input, maxTokens: 12 });
    expect(bare.ids).toEqual(reference.outputIds);
    expect(bare.text).toBe(reference.completion);
    expect(bare.summary.servedBy?.promptVersion).toBeUndefined();
    expect(bare.summary.servedBy?.baseModel).toMatchObject({ name: 'tiny', fingerprintSha256: f.model.fingerprint });
    expect(bare.summary).toMatchObject({ completionTokens: 12, finishReason: FinishReason.LENGTH });
    expect(bare.summary.promptTokens).toBe(reference.inputIds.length);

    const soft = await f.push('greet', PROMPT_TOKENS, 1, { alias: 'production' });
    const prefix = await f.push('prefixed', PROMPT_TOKENS, 2, { method: 'prefix_tuning', alias: 'production' });
    const [withPrompt, withPrefix] = await Promise.all([
      generate({ prompt: alias('greet', 'production'), input: text(input), sampling: { maxTokens: 12 } }),
      generate({ prompt: alias('prefixed', 'production'), input: text(input), sampling: { maxTokens: 12 } }),
    ]);
    expect(withPrompt.ids).toEqual((await generateText(f.model, { text: input, prompt: soft.tensor, maxTokens: 12 })).outputIds);
    expect(withPrefix.ids).toEqual((await generateText(f.model, { text: input, prefix: prefix.tensor, maxTokens: 12 })).outputIds);
    expect(withPrompt.ids).not.toEqual(bare.ids);
    expect(withPrompt.summary.servedBy?.promptVersion).toMatchObject({ task: { namespace: NAMESPACE, name: 'greet' }, version: 1 });
  });

  it('serves an alias move from the next request on, and no longer serves a deleted version', async () => {
    const first = await f.push('fresh', PROMPT_TOKENS, 10, { alias: 'production' });
    const second = await f.push('fresh', PROMPT_TOKENS, 11);
    const request = { prompt: alias('fresh', 'production'), input: text('The cat'), sampling: { maxTokens: 8 } };
    const before = await generate(request);
    expect(before.summary.servedBy?.promptVersion?.version).toBe(first.version);
    await f.client.registry.setAlias({ task: { namespace: NAMESPACE, name: 'fresh' }, alias: 'production', version: second.version });
    const after = await generate(request);
    expect(after.summary.servedBy?.promptVersion?.version).toBe(second.version);
    expect(after.ids).toEqual((await generateText(f.model, { text: 'The cat', prompt: second.tensor, maxTokens: 8 })).outputIds);

    const third = await f.push('fresh', PROMPT_TOKENS, 12);
    await generate({ ...request, prompt: version('fresh', third.version) });
    await f.client.registry.deletePromptVersion({ version: { task: { namespace: NAMESPACE, name: 'fresh' }, version: third.version } });
    const gone = await failure(drain({ ...request, prompt: version('fresh', third.version) }));
    expect(gone.code).toBe(status.NOT_FOUND);
  });

  it('the same seed gives the same sampled text; stop strings end it with STOP', async () => {
    const sampled = { input: text('Once'), sampling: { maxTokens: 16, temperature: 1, topP: 0.9, topK: 50, seed: 42n } };
    const [a, b] = [await generate(sampled), await generate(sampled)];
    expect(a.ids).toEqual(b.ids);
    const greedy = await generate({ input: text('Once'), sampling: { maxTokens: 16 } });
    const stop = greedy.text.slice(4, 6);
    const stopped = await generate({ input: text('Once'), sampling: { maxTokens: 16, stop: [stop] } });
    expect(stopped.summary.finishReason).toBe(FinishReason.STOP);
    expect(stopped.text).toBe(greedy.text.slice(0, greedy.text.indexOf(stop)));
  });

  it('NOT_FOUND names an unknown task, alias or version', async () => {
    await f.push('known', PROMPT_TOKENS, 3, { alias: 'production' });
    for (const [prompt, name] of [
      [alias('no-such-task', 'production'), 'no-such-task'],
      [alias('known', 'staging'), 'staging'],
      [version('known', 99), '99'],
    ] as const) {
      const err = await failure(drain({ prompt, input: text('hi') }));
      expect(err.code).toBe(status.NOT_FOUND);
      expect(err.message).toContain(name);
    }
  });

  it('FAILED_PRECONDITION for a prompt trained for another base model (fingerprint)', async () => {
    await f.push('elsewhere', PROMPT_TOKENS, 4, { alias: 'production', baseModel: 'tiny-other' });
    const err = await failure(drain({ prompt: alias('elsewhere', 'production'), input: text('hi') }));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.message).toContain('tiny-other');
  });

  it('INVALID_ARGUMENT naming the field: max_tokens beyond the context, sampling values out of range, no input', async () => {
    const context = f.model.spec.contextLength;
    const cases: [Request, string][] = [
      [{ input: text('hi'), sampling: { maxTokens: context } }, 'sampling.max_tokens'],
      [{ input: text('hi'), sampling: { temperature: 2.5 } }, 'sampling.temperature'],
      [{ input: text('hi'), sampling: { topP: 1.5 } }, 'sampling.top_p'],
      [{ input: text('hi'), sampling: { topK: f.model.spec.vocabSize + 1 } }, 'sampling.top_k'],
      [{ input: text('hi'), sampling: { stop: ['a', 'b', 'c', 'd', 'e'] } }, 'sampling.stop'],
      [{ input: text('hi'), sampling: { seed: 2n ** 60n } }, 'sampling.seed'],
      [{}, 'input'],
    ];
    for (const [request, field] of cases) {
      const err = await failure(drain(request));
      expect(err.code, field).toBe(status.INVALID_ARGUMENT);
      expect(err.details.field).toBe(field);
    }
    // the tiny model has no chat template
    const chat = await failure(
      drain({ input: { kind: { case: 'conversation', value: { messages: [{ role: 'user', content: 'hi' }] } } } }),
    );
    expect(chat.code).toBe(status.FAILED_PRECONDITION);
  });

  it('a client that disconnects mid-stream frees its slot at once; the other stream goes on', async () => {
    const long = { input: text('Once upon a time'), sampling: { maxTokens: 200 } };
    const abort = new AbortController();
    const other = generate(long);
    let chunks = 0;
    const cancelled = (async () => {
      for await (const message of f.inference.generate(long, { signal: abort.signal })) {
        if (message.part.case === 'chunk' && ++chunks === 2) abort.abort();
      }
    })();
    await expect(cancelled).rejects.toMatchObject({ code: status.CANCELLED });
    await until(() => f.runtime.engine.stats().running === 1);
    const done = await other;
    expect(done.summary.completionTokens).toBe(200);
    await until(() => f.runtime.engine.stats().running === 0);
  });

  it('RESOURCE_EXHAUSTED when more requests arrive than the slots and the queue hold', async () => {
    // 2 slots + a queue of 1: the fourth concurrent request is refused
    const aborts = [new AbortController(), new AbortController(), new AbortController()];
    const running = aborts.map((a) => {
      const stream = f.inference.generate({ input: text('Once'), sampling: { maxTokens: 200 } }, { signal: a.signal });
      const iterator = stream[Symbol.asyncIterator]();
      return iterator.next().then(() => iterator);
    });
    await until(() => f.runtime.engine.stats().running + f.runtime.engine.stats().queued === 3);
    const err = await failure(drain({ input: text('Once'), sampling: { maxTokens: 4 } }));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    for (const a of aborts) a.abort();
    await Promise.allSettled(running);
    await until(() => f.runtime.engine.stats().running + f.runtime.engine.stats().queued === 0);
  });
});

describe('Score', () => {
  it('returns each candidate log-probability per input and the best, as the engine computes them', async () => {
    const candidates = [' happy', ' sad', ' the'];
    const reply = await f.inference.score({ inputs: [text('I feel'), text('Once upon a')], candidates });
    expect(reply.results).toHaveLength(2);
    for (const [i, input] of ['I feel', 'Once upon a'].entries()) {
      const expected = await f.runtime.engine.score({
        inputIds: f.model.tokenizer.encode(input),
        candidates: candidates.map((c) => f.model.tokenizer.encode(c, { addBos: false, continuation: true })),
      });
      const got = reply.results[i];
      expect(got.logProbabilities).toEqual(expected);
      expect(got.best).toBe(expected.indexOf(Math.max(...expected)));
      for (const lp of got.logProbabilities) expect(lp).toBeLessThan(0);
    }
  });

  it('scores more inputs than the slots and the queue hold: one input at a time, never RESOURCE_EXHAUSTED', async () => {
    // the fixture's engine: 2 slots, a queue of 1
    const inputs = ['a', 'b', 'c', 'd', 'e', 'f'].map(text);
    const reply = await f.inference.score({ inputs, candidates: [' x', ' y'] });
    expect(reply.results).toHaveLength(6);
  });

  it('INVALID_ARGUMENT for no candidates or an empty one', async () => {
    expect((await failure(f.inference.score({ inputs: [text('a')], candidates: [] }))).details.field).toBe('candidates');
    expect((await failure(f.inference.score({ inputs: [text('a')], candidates: [''] }))).details.field).toBe('candidates[0]');
    expect((await failure(f.inference.score({ inputs: [], candidates: ['x'] }))).details.field).toBe('inputs');
  });
});
