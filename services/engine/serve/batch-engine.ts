/**
 * The continuous-batching engine behind the contract in ./engine.ts. One loop owns the model; each
 * turn it runs a queued score, or admits queued requests into free slots (their prompt's
 * keys/values from the prefix cache), prefills one chunk of every new text, and runs one decode
 * step for every decoding slot (one token each, every slot with its own prompt, position and
 * cached length). Finished or aborted requests leave their slot at once; the next request takes
 * it on the next turn.
 *
 * Shapes: decode steps are [maxSlots × 1 token], prefill [1 × 32] (one new text, reading its slot
 * in place) or [maxSlots × 32] (several), scoring [k × c] (k: the candidates, c: the longest of
 * them, each rounded up to a power of two; c from 4 to 32); the cache length is a bucket (64, 256,
 * 1024, … up to the context) fitting the longest running request's prompt + text + max_tokens,
 * re-laid out when that changes bucket.
 */
import { heldPrecision } from '../graph/weight-bank.js';
import type { StoredPrompt } from '../methods/serving.js';
import type { LoadedModel } from '../model/load-model.js';
import { Rng } from '../model/rng.js';
import { Channel } from './channel.js';
import type {
  EngineStats,
  GeneratedToken,
  GenerateRequest,
  GenerateStream,
  GenerateSummary,
  InferenceEngine,
  InferenceEngineOptions,
  SamplingSettings,
  ScoreRequest,
} from './engine.js';
import { EngineBusyError, EngineClosedError, InferenceInputError } from './errors.js';
import { InputRows } from './input-rows.js';
import { PrefixCache } from './prefix-cache.js';
import { prefill, storedPrefixKv, virtualTokensKv } from './prefix-kv.js';
import { sampleToken } from './sampler.js';
import { SlotCache, slotCacheBytes, type SequenceKv } from './slot-cache.js';
import { StepRunner, type StepSequence } from './step-runner.js';
import { TextStream } from './text-stream.js';
import { checkPrompt, checkSampling, checkTokens } from './validate-request.js';

const defaults = { maxSlots: 8, maxQueue: 64, prefixCacheBytes: 256 * 2 ** 20, prefillChunk: 32, maxCacheBytes: 4 * 2 ** 30 };

/** Cache-length buckets: 64, 256, 1024, … and the context itself. */
export function cacheBuckets(context: number): number[] {
  const out: number[] = [];
  for (let n = 64; n < context; n *= 4) out.push(n);
  return [...out, context];
}

interface Request {
  request: GenerateRequest;
  sampling: SamplingSettings;
  promptLength: number;
  need: number;
  rng: Rng;
  text: TextStream;
  tokens: Channel<GeneratedToken>;
  /** tokens whose text is not settled yet */
  pending: number[];
  summary: { resolve(s: GenerateSummary): void; reject(e: unknown): void };
  arrived: number;
  firstToken?: number;
  generated: number;
  /** cached positions of its slot (prefilled so far while not decoding) */
  position: number;
  /** its text is prefilled: one token per decode step from now on */
  decoding: boolean;
  /** removes its abort listener */
  detach?: () => void;
  last: number;
  done: boolean;
  slot?: number;
}

interface ScoreJob {
  request: ScoreRequest;
  need: number;
  resolve(scores: number[]): void;
  reject(e: unknown): void;
}

function checkOption(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new InferenceInputError(`engine option ${name} must be an integer ≥ ${min} (got ${value})`);
  return value;
}

class BatchEngine implements InferenceEngine {
  private readonly runner: StepRunner;
  private readonly rows: InputRows;
  private readonly buckets: number[];
  private readonly slots: (Request | undefined)[];
  private readonly queue: Request[] = [];
  private readonly scores: ScoreJob[] = [];
  private readonly prefixes: PrefixCache;
  private readonly maxQueue: number;
  private readonly prefillChunk: number;
  private readonly maxCacheBytes: number;
  private cache: SlotCache;
  private tokensGenerated = 0;
  private looping: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly model: LoadedModel,
    options: InferenceEngineOptions,
  ) {
    const maxSlots = checkOption('maxSlots', options.maxSlots ?? defaults.maxSlots, 1);
    this.maxQueue = checkOption('maxQueue', options.maxQueue ?? defaults.maxQueue, 0);
    this.prefillChunk = checkOption('prefillChunk', options.prefillChunk ?? defaults.prefillChunk, 1);
    this.maxCacheBytes = checkOption('maxCacheBytes', options.maxCacheBytes ?? defaults.maxCacheBytes, 1);
    this.prefixes = new PrefixCache(checkOption('prefixCacheBytes', options.prefixCacheBytes ?? defaults.prefixCacheBytes, 0));
    const weightsHeld = heldPrecision(options.weightsDtype);
    this.runner = new StepRunner(model, {
      executionProvider: options.executionProvider,
      threads: options.threads,
      spinning: options.spinning,
      weightsHeld,
    });
    this.rows = new InputRows(model, weightsHeld);
    this.buckets = cacheBuckets(model.spec.contextLength);
    this.slots = Array<Request | undefined>(maxSlots).fill(undefined);
    this.cache = new SlotCache(model.spec, maxSlots, this.buckets[0]);
  }

  generate(request: GenerateRequest): GenerateStream {
    if (this.closed) throw new EngineClosedError('the inference engine is closed');
    const promptLength = checkPrompt(request.prompt, this.model);
    checkTokens('input_ids', request.inputIds, this.model);
    const need = checkSampling(request.sampling, promptLength, request.inputIds.length, this.model);
    const bytes = slotCacheBytes(this.model.spec, this.slots.length, this.bucketFor(need));
    if (bytes > this.maxCacheBytes)
      throw new InferenceInputError(
        `max_tokens ${request.sampling.maxTokens}: ${need} positions × ${this.slots.length} slots need a ${(bytes / 2 ** 30).toFixed(1)} GiB key/value cache, over this engine's ${(this.maxCacheBytes / 2 ** 30).toFixed(1)} GiB`,
      );
    const free = this.slots.filter((s) => !s).length;
    if (this.queue.length >= this.maxQueue + free)
      throw new EngineBusyError(
        `the engine is busy: ${this.slots.length} slots running and ${this.queue.length} requests queued (max ${this.maxQueue})`,
      );
    let summary!: Request['summary'];
    const done = new Promise<GenerateSummary>((resolve, reject) => (summary = { resolve, reject }));
    // a caller that stops at the failed token stream never awaits the summary: its rejection is handled here
    done.catch(() => undefined);
    const r: Request = {
      request,
      sampling: request.sampling,
      promptLength,
      need,
      rng: Rng.fromSeed(request.sampling.seed ?? 0),
      text: new TextStream(this.model.tokenizer, request.sampling.stop),
      tokens: new Channel<GeneratedToken>(),
      pending: [],
      summary,
      arrived: performance.now(),
      generated: 0,
      position: 0,
      decoding: false,
      last: 0,
      done: false,
    };
    if (request.signal?.aborted) this.finish(r, 'cancelled');
    else {
      const onAbort = (): void => this.finish(r, 'cancelled');
      request.signal?.addEventListener('abort', onAbort, { once: true });
      r.detach = () => request.signal?.removeEventListener('abort', onAbort);
      this.queue.push(r);
      this.kick();
    }
    return { tokens: r.tokens, summary: done };
  }

  score(request: ScoreRequest): Promise<number[]> {
    if (this.closed) return Promise.reject(new EngineClosedError('the inference engine is closed'));
    try {
      const P = checkPrompt(request.prompt, this.model);
      checkTokens('input_ids', request.inputIds, this.model);
      if (request.candidates.length === 0) throw new InferenceInputError('candidates is empty: at least one continuation is needed');
      request.candidates.forEach((c, i) => checkTokens(`candidates[${i}]`, c, this.model));
      const longest = Math.max(...request.candidates.map((c) => c.length));
      const need = P + request.inputIds.length + longest;
      if (need > this.model.spec.contextLength)
        throw new InferenceInputError(
          `candidates: ${P} virtual + ${request.inputIds.length} input + ${longest} candidate tokens exceed the context of ${this.model.spec.contextLength}`,
        );
      // every candidate gets its own copy of the input's keys/values (runScore): bounded like the running cache
      const rows = 2 ** Math.ceil(Math.log2(request.candidates.length));
      const bytes = slotCacheBytes(this.model.spec, rows, this.bucketFor(need));
      if (bytes > this.maxCacheBytes)
        throw new InferenceInputError(
          `candidates: ${request.candidates.length} candidates of ${need} positions need a ${(bytes / 2 ** 30).toFixed(1)} GiB key/value cache, over this engine's ${(this.maxCacheBytes / 2 ** 30).toFixed(1)} GiB: send fewer candidates or a shorter input`,
        );
      if (this.scores.length >= this.maxQueue + this.slots.length)
        throw new EngineBusyError(`the engine is busy: ${this.scores.length} scores queued`);
      return new Promise((resolve, reject) => {
        const job: ScoreJob = { request, need, resolve, reject };
        this.scores.push(job);
        // a caller gone before its turn leaves the queue at once
        request.signal?.addEventListener(
          'abort',
          () => {
            const at = this.scores.indexOf(job);
            if (at < 0) return;
            this.scores.splice(at, 1);
            reject(new InferenceInputError('score cancelled'));
          },
          { once: true },
        );
        this.kick();
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  stats(): EngineStats {
    return {
      running: this.slots.filter(Boolean).length,
      queued: this.queue.length,
      slots: this.slots.length,
      prefixCacheHits: this.prefixes.hits,
      prefixCacheMisses: this.prefixes.misses,
      prefixCacheBytes: this.prefixes.bytes,
      tokensGenerated: this.tokensGenerated,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of [...this.queue, ...this.slots]) if (r) this.finish(r, 'cancelled');
    for (const job of this.scores.splice(0)) job.reject(new EngineClosedError('the inference engine closed'));
    await this.looping;
    await this.runner.release();
  }

  private kick(): void {
    this.looping ??= this.loop().finally(() => {
      this.looping = undefined;
      // work queued between the loop's last look and this callback would otherwise wait for the next request
      if (!this.closed && (this.queue.length > 0 || this.scores.length > 0)) this.kick();
    });
  }

  private async loop(): Promise<void> {
    try {
      while (!this.closed) {
        // one score per turn: running streams still get their decode step between scores
        const job = this.scores.shift();
        if (job) await this.runScore(job).then(job.resolve, job.reject);
        await this.admit();
        if (!this.slots.some(Boolean)) {
          if (this.queue.length === 0 && this.scores.length === 0) return;
          continue;
        }
        // one chunk of prefill, then one decode step: a long text never stalls the running streams for long
        await this.prefillRound();
        if (this.slots.some((r) => r?.decoding)) await this.decodeStep();
      }
    } catch (e) {
      // a failed run leaves the cache in an unknown state: every request in flight fails with it,
      // and the next ones start from a fresh cache
      for (const r of [...this.queue, ...this.slots]) if (r) this.fail(r, e);
      for (const job of this.scores.splice(0)) job.reject(e);
      this.cache = new SlotCache(this.model.spec, this.slots.length, this.buckets[0]);
    }
  }

  private bucketFor(positions: number): number {
    return this.buckets.find((b) => b >= positions) ?? this.model.spec.contextLength;
  }

  /** Fits the cache to the longest of the running requests and `extra`. */
  private fitCache(extra = 0): void {
    const longest = Math.max(extra, ...this.slots.map((r) => r?.need ?? 0));
    this.cache.resize(this.bucketFor(longest));
  }

  /** Moves queued requests into free slots, their prompt's keys/values loaded; their texts wait for prefillRound. */
  private async admit(): Promise<void> {
    for (;;) {
      const slot = this.slots.indexOf(undefined);
      if (slot < 0 || this.queue.length === 0) return;
      const r = this.queue.shift()!;
      r.slot = slot;
      this.slots[slot] = r;
      const prefix = await this.prefixOf(r.request.prompt?.stored, r.request.prompt?.id);
      if (r.done) continue;
      this.fitCache(r.need);
      if (prefix) this.cache.load(slot, prefix);
      r.position = r.promptLength;
    }
  }

  /**
   * The next chunk of every admitted text not prefilled yet: one request alone by a one-sequence
   * graph reading its slot in place, several (a burst of arrivals) by one step over all slots.
   * A text done streams its first token and decodes from the next step on.
   */
  private async prefillRound(): Promise<void> {
    const waiting = this.slots.filter((r): r is Request => r !== undefined && !r.decoding);
    if (waiting.length === 0) return;
    const sequences = waiting.map((r): StepSequence => {
      const ids = r.request.inputIds;
      const from = r.position - r.promptLength;
      return {
        start: r.position,
        count: Math.min(this.prefillChunk, ids.length - from),
        writeRow: (i, rows, row) => this.rows.token(ids[from + i], r.position + i, rows, row),
      };
    });
    const alone = waiting.length === 1;
    const rowOf = (r: Request): number => (alone ? 0 : r.slot!);
    const out = alone
      ? await this.runner.run(this.cache, this.prefillChunk, sequences, { slot: waiting[0].slot })
      : await this.runner.run(
          this.cache,
          this.prefillChunk,
          this.slots.map((r) => (r && waiting.includes(r) ? sequences[waiting.indexOf(r)] : undefined)),
        );
    const vocab = this.model.spec.vocabSize;
    waiting.forEach((r, i) => {
      if (r.done) return;
      const { count } = sequences[i];
      this.cache.write(r.slot!, r.position, out.newKeys, out.newValues, rowOf(r), this.prefillChunk, count);
      r.position += count;
      if (r.position < r.promptLength + r.request.inputIds.length) return;
      r.decoding = true;
      this.accept(r, out.logits.subarray(rowOf(r) * vocab, (rowOf(r) + 1) * vocab));
    });
  }

  private async prefixOf(stored: StoredPrompt | undefined, id: string | undefined): Promise<SequenceKv | undefined> {
    if (!stored || id === undefined) return undefined;
    return this.prefixes.get(id, async () =>
      stored.placement === 'past-key-values'
        ? storedPrefixKv(stored, this.model.spec)
        : // the running cache's length when it fits: the prefill session is then the one in use
          virtualTokensKv(
            stored,
            this.runner,
            this.rows,
            Math.max(this.cache.length, this.bucketFor(stored.numVirtualTokens)),
            this.prefillChunk,
          ),
    );
  }

  private async decodeStep(): Promise<void> {
    this.fitCache();
    const running = this.slots.map((r) => (r?.decoding ? r : undefined));
    const out = await this.runner.run(
      this.cache,
      1,
      running.map((r) => r && { start: r.position, count: 1, writeRow: (_i, rows, row) => this.rows.token(r.last, r.position, rows, row) }),
    );
    const vocab = this.model.spec.vocabSize;
    running.forEach((r, s) => {
      if (!r || r.done) return;
      this.cache.write(s, r.position, out.newKeys, out.newValues, s, 1, 1);
      r.position++;
      this.accept(r, out.logits.subarray(s * vocab, (s + 1) * vocab));
    });
  }

  /** Samples the request's next token from its logits and streams it, or finishes the request. */
  private accept(r: Request, logits: Float32Array): void {
    const next = sampleToken(logits.subarray(0, this.model.spec.vocabSize), r.sampling, r.rng);
    r.firstToken ??= performance.now();
    if (next === this.model.tokenizer.eosId) return this.finish(r, 'eos');
    r.generated++;
    this.tokensGenerated++;
    r.last = next;
    r.pending.push(next);
    const step = r.text.push(next);
    if (step.stopped) {
      // the tokens that spell the stop string are not streamed; text before it rides on the first of them
      if (step.text) r.tokens.push({ id: r.pending[0], text: step.text });
      r.pending = [];
      return this.finish(r, 'stop');
    }
    if (step.text) this.release(r, step.text);
    if (r.generated === r.sampling.maxTokens) this.finish(r, 'length');
  }

  /** Streams the pending tokens, the settled text on the last of them. */
  private release(r: Request, text: string): void {
    r.pending.forEach((id, i) => r.tokens.push({ id, text: i === r.pending.length - 1 ? text : '' }));
    r.pending = [];
  }

  private leave(r: Request): void {
    r.done = true;
    r.detach?.();
    if (r.slot !== undefined && this.slots[r.slot] === r) this.slots[r.slot] = undefined;
    const q = this.queue.indexOf(r);
    if (q >= 0) this.queue.splice(q, 1);
  }

  private finish(r: Request, finish: GenerateSummary['finish']): void {
    if (r.done) return;
    this.leave(r);
    if (finish !== 'stop' && finish !== 'cancelled') {
      const rest = r.text.flush();
      if (r.pending.length > 0) this.release(r, rest);
    }
    r.tokens.close();
    r.summary.resolve({
      promptTokens: r.request.inputIds.length,
      completionTokens: r.generated,
      finish,
      timeToFirstTokenMs: r.firstToken === undefined ? 0 : r.firstToken - r.arrived,
    });
  }

  private fail(r: Request, e: unknown): void {
    if (r.done) return;
    this.leave(r);
    r.tokens.fail(e);
    r.summary.reject(e);
  }

  /**
   * Sums log p(candidate tokens | prompt, input) per candidate: the input (but its last token) is
   * prefilled once into slot 0 of a scratch cache and copied to one slot per candidate; then every
   * candidate runs at once, one row each, from the input's last token with the scoring graph, its
   * own tokens as the targets. Rows are padded to a power of two (idle rows) and the chunk is the
   * longest candidate's length rounded up to 4, 8, 16 or 32, so that few graph shapes serve all.
   */
  private async runScore(job: ScoreJob): Promise<number[]> {
    const { request } = job;
    const { candidates } = request;
    const prefix = await this.prefixOf(request.prompt?.stored, request.prompt?.id);
    const P = prefix?.length ?? 0;
    const rows = 2 ** Math.ceil(Math.log2(candidates.length));
    const scratch = new SlotCache(this.model.spec, rows, this.bucketFor(job.need));
    if (prefix) scratch.load(0, prefix);
    const ids = request.inputIds;
    const head = ids.length - 1;
    if (head > 0) {
      await prefill(this.runner, scratch, {
        slot: 0,
        start: P,
        count: head,
        chunk: this.prefillChunk,
        writeRow: (i, rows, row) => this.rows.token(ids[i], P + i, rows, row),
        stopped: () => request.signal?.aborted === true,
      });
    }
    const context = scratch.extract(0, P + head);
    for (let c = 1; c < candidates.length; c++) scratch.load(c, context);
    const tokens = candidates.map((candidate) => [ids[head], ...candidate.slice(0, -1)]);
    const sums = candidates.map(() => 0);
    const longest = Math.max(...tokens.map((t) => t.length));
    // labels are a few tokens: a chunk of 4, 8 or 16 positions instead of 32 per row
    const chunk = Math.min(this.prefillChunk, 2 ** Math.ceil(Math.log2(Math.max(4, longest))));
    for (let done = 0; done < longest; done += chunk) {
      if (request.signal?.aborted) throw new InferenceInputError('score cancelled');
      const start = P + head + done;
      const sequences = Array.from({ length: rows }, (_, c): StepSequence | undefined => {
        const count = Math.min(chunk, (tokens[c]?.length ?? 0) - done);
        if (count <= 0) return undefined;
        return {
          start,
          count,
          writeRow: (i, rows, row) => this.rows.token(tokens[c][done + i], start + i, rows, row),
          target: (i) => candidates[c][done + i],
        };
      });
      const step = await this.runner.run(scratch, chunk, sequences, { scoring: true });
      sequences.forEach((seq, c) => {
        if (!seq) return;
        scratch.write(c, start, step.newKeys, step.newValues, c, chunk, seq.count);
        for (let i = 0; i < seq.count; i++) sums[c] += step.tokenLogprobs![c * chunk + i];
      });
    }
    return sums;
  }
}

export async function createInferenceEngine(model: LoadedModel, options: InferenceEngineOptions = {}): Promise<InferenceEngine> {
  return new BatchEngine(model, options);
}
