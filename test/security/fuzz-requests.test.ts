/**
 * Property-based fuzzing of request validation: 10,000 generated inputs per validator. A request
 * is either accepted or refused with the validator's own error naming the field at fault; nothing
 * else (TypeError, RangeError, …) may escape.
 */
import { create, fromBinary, type DescMessage } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCESS_RULES } from '../../services/auth/index.js';
import { DEFAULT_LIMITS } from '../../services/config/index.js';
import { normalizeRequest } from '../../services/coordinator/jobs/normalize-request.js';
import { AccessService } from '../../services/gen/ptune/v1/access_pb.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { TrainingService, TrainPromptRequestSchema } from '../../services/gen/ptune/v1/training_pb.js';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import { methodPath, RpcError } from '../../services/grpc/index.js';
import { readPeftConfig } from '../../services/registry/peft-config.js';
import { decodePageToken, stringKey } from '../../services/domain/index.js';
import { readPromptFile } from '../../services/registry/prompt-tensor.js';
import { promptBytes } from './fixtures.js';
import { mutated, type Verdicts } from './support/fuzz.js';

const RUNS = 10_000;

function expectInvalidArgument(err: unknown, field: string): void {
  if (!(err instanceof RpcError)) throw new Error(`threw ${(err as Error)?.constructor?.name}: ${String(err)}`);
  if (err.code !== status.INVALID_ARGUMENT) throw new Error(`status ${err.codeName}: ${err.message}`);
  if (!err.message.startsWith(field) || err.message.length < field.length + 10) throw new Error(`unclear message: ${err.message}`);
}

/** Random bytes that are not even protobuf (grpc-js refuses those before any handler). */
function decodeOrUndefined<D extends DescMessage>(schema: D, bytes: Uint8Array) {
  try {
    return fromBinary(schema, bytes);
  } catch {
    return undefined;
  }
}

describe('TrainPrompt validation (coordinator normalizeRequest)', () => {
  const name = fc.oneof(
    fc.constantFrom('ns', 'task-1', 'a_b', '', 'UPPER', 'x'.repeat(64), '../etc', 'ns/x'),
    fc.string({ maxLength: 10 }),
  );
  const number = fc.oneof(fc.nat(600), fc.constantFrom(0, 1, 512, 513, 4294967295), fc.nat());
  const double = fc.oneof(fc.double(), fc.constantFrom(0, -1, 0.03, 10, 10.0001, Number.NaN, Number.POSITIVE_INFINITY));
  const dataset = fc.oneof(
    fc.constant(undefined),
    fc.record({
      source: fc.oneof(
        fc.record({ case: fc.constant('sha256' as const), value: fc.oneof(fc.string({ maxLength: 70 }), fc.constant('a'.repeat(64))) }),
        fc.record({
          case: fc.constant('blobKey' as const),
          value: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('dataset/../../etc/passwd', `dataset/${'b'.repeat(64)}`)),
        }),
      ),
    }),
  );
  /** Mostly the valid value, sometimes a generated one: most requests are near-valid, a few are fully valid. */
  const mostly = <T>(valid: T, other: fc.Arbitrary<T>): fc.Arbitrary<T> =>
    fc.oneof({ weight: 5, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: other });
  const validTask = {
    task: { namespace: 'ns', name: 'task' },
    train: { source: { case: 'sha256' as const, value: 'a'.repeat(64) } },
    eval: { source: { case: 'sha256' as const, value: 'b'.repeat(64) } },
  };
  const structured = fc
    .record({
      baseModel: mostly('tiny', fc.oneof(fc.string({ maxLength: 8 }), fc.constant('   '))),
      tasks: mostly(
        [validTask],
        fc.array(fc.record({ task: fc.option(fc.record({ namespace: name, name }), { nil: undefined }), train: dataset, eval: dataset }), {
          maxLength: 3,
        }),
      ),
      method: mostly(
        { method: 1, numVirtualTokens: 8 },
        fc.record({
          method: fc.nat(4),
          numVirtualTokens: number,
          init: fc.option(fc.record({ method: fc.nat(5), text: fc.string({ maxLength: 6 }) }), { nil: undefined }),
        }),
      ),
      optimizer: mostly(
        { learningRate: 0.03, steps: 10, batchSize: 4 },
        fc.record({
          learningRate: double,
          steps: number,
          batchSize: number,
          warmupSteps: number,
          weightDecay: double,
          maxGradNorm: double,
          evalEverySteps: number,
          checkpointEverySteps: number,
        }),
      ),
      sweep: mostly(
        undefined,
        fc.record({
          numVirtualTokens: fc.array(number, { maxLength: 12 }),
          learningRates: fc.array(double, { maxLength: 12 }),
          methods: fc.array(fc.nat(4), { maxLength: 3 }),
        }),
      ),
      selection: mostly(
        undefined,
        fc.record({
          name: fc.oneof(fc.constantFrom('eval_loss', 'eval_accuracy', ''), fc.string({ maxLength: 8 })),
          higherIsBetter: fc.boolean(),
        }),
      ),
      alias: mostly('', name),
      idempotencyKey: mostly('', fc.string({ maxLength: 300 })),
      maxAttempts: mostly(0, number),
    })
    .map((init) => create(TrainPromptRequestSchema, init as never));
  const random = fc.uint8Array({ maxLength: 200 }).map((bytes) => decodeOrUndefined(TrainPromptRequestSchema, bytes));

  it(`accepts or refuses ${RUNS} requests with INVALID_ARGUMENT naming the field`, () => {
    const verdicts: Verdicts = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof({ weight: 3, arbitrary: structured }, { weight: 1, arbitrary: random }), (request) => {
        if (request === undefined) {
          verdicts.refused++; // not even protobuf
          return;
        }
        try {
          normalizeRequest(request, DEFAULT_LIMITS);
          verdicts.accepted++;
        } catch (err) {
          if (!(err instanceof RpcError) || err.code !== status.INVALID_ARGUMENT)
            throw new Error(`threw ${(err as Error)?.constructor?.name}: ${String(err)}`, { cause: err });
          const field = err.details.field ?? '';
          if (field === '' || !err.message.startsWith(`${field}: `) || err.message.length < field.length + 7)
            throw new Error(`unclear refusal: ${err.message}`, { cause: err });
          verdicts.refused++;
        }
      }),
      { numRuns: RUNS, seed: 23 },
    );
    expect(verdicts.accepted).toBeGreaterThan(0);
    expect(verdicts.refused).toBeGreaterThan(RUNS / 2);
  });
});

describe('registry upload validation', () => {
  it(`readPromptFile: ${RUNS} mutated or random prompt files`, () => {
    const verdicts: Verdicts = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof(mutated(promptBytes(3, 8)), fc.uint8Array({ maxLength: 160 })), (bytes) => {
        try {
          const file = readPromptFile(bytes, 'safetensors');
          if (file.shape[0] * file.shape[1] * (file.dtype === 'F32' ? 4 : 2) > bytes.length) throw new Error('shape larger than the file');
          verdicts.accepted++;
        } catch (err) {
          expectInvalidArgument(err, 'safetensors');
          verdicts.refused++;
        }
      }),
      { numRuns: RUNS, seed: 29 },
    );
    expect(verdicts.refused).toBeGreaterThan(RUNS / 2);
  });

  it(`readPeftConfig: ${RUNS} generated adapter_config.json files`, () => {
    const config = fc.oneof(
      fc.json().map((text) => new TextEncoder().encode(text)),
      fc.uint8Array({ maxLength: 64 }),
      fc
        .record(
          {
            peft_type: fc.oneof(fc.constantFrom('PROMPT_TUNING', 'P_TUNING', 'PREFIX_TUNING', 'LORA'), fc.jsonValue()),
            num_virtual_tokens: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
            num_transformer_submodules: fc.oneof(fc.constant(1), fc.jsonValue()),
            prompt_tuning_init: fc.oneof(fc.constantFrom('TEXT', 'RANDOM'), fc.jsonValue()),
            prompt_tuning_init_text: fc.jsonValue(),
          },
          { requiredKeys: [] },
        )
        .map((o) => new TextEncoder().encode(JSON.stringify(o))),
    );
    const verdicts: Verdicts = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(config, (bytes) => {
        try {
          const info = readPeftConfig(bytes, 'adapter_config_json');
          if (!Number.isSafeInteger(info.numVirtualTokens) || info.numVirtualTokens <= 0) throw new Error('accepted a bad token count');
          verdicts.accepted++;
        } catch (err) {
          expectInvalidArgument(err, 'adapter_config_json');
          verdicts.refused++;
        }
      }),
      { numRuns: RUNS, seed: 31 },
    );
    expect(verdicts.accepted).toBeGreaterThan(0);
    expect(verdicts.refused).toBeGreaterThan(0);
  });

  it(`decodePageToken: ${RUNS} forged page tokens`, () => {
    const forged = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
      fc
        .record({
          s: fc.oneof(fc.constant('scope'), fc.jsonValue()),
          k: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 3 }), fc.jsonValue()),
        })
        .map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
    );
    fc.assert(
      fc.property(forged, (token) => {
        try {
          const key = decodePageToken(token, 'scope', stringKey(2));
          if (key !== undefined && !(key.length === 2 && key.every((k) => typeof k === 'string')))
            throw new Error(`accepted key ${JSON.stringify(key)}`);
        } catch (err) {
          expectInvalidArgument(err, 'page_token');
        }
      }),
      { numRuns: RUNS, seed: 37 },
    );
  });
});

describe('access rules on arbitrary decoded requests', () => {
  const methods = [PromptRegistryService, TrainingService, WorkerProtocolService, AccessService].flatMap((s) => s.methods);
  it(`derive a role and namespaces for ${RUNS} random requests without throwing`, () => {
    fc.assert(
      fc.property(fc.nat(methods.length - 1), fc.uint8Array({ maxLength: 120 }), (index, bytes) => {
        const method = methods[index];
        const request = decodeOrUndefined(method.input, bytes);
        if (request === undefined) return;
        const rule = ACCESS_RULES.get(methodPath(method))!;
        const role = typeof rule.role === 'function' ? rule.role(request) : rule.role;
        if (!['reader', 'trainer', 'admin', 'worker'].includes(role)) throw new Error(`role ${role}`);
        if (rule.scope.kind === 'namespaces') {
          const namespaces = rule.scope.of(request);
          if (!namespaces.every((n) => typeof n === 'string')) throw new Error('non-string namespace');
        }
      }),
      { numRuns: RUNS, seed: 41 },
    );
  });
});
