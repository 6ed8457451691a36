import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InitMethod, TuningMethod, type Dtype } from '../../services/gen/ptune/v1/common_pb.js';
import { PayloadFormat, WeightsFormat } from '../../services/gen/ptune/v1/registry_pb.js';
import { writeSafetensors } from '../../services/engine/formats/safetensors.js';
import { BACKENDS, startBackend, TEST_UNARY_LIMIT, type RegistryBackend, type RegistryClient } from './backends.js';
import { expectRpcError } from './expect-rpc.js';
import { createTask, promptFile, pushRequest, registerTiny, TINY, tinyModelBytes } from './fixtures.js';

const task = { namespace: 'test', name: 'bad' };
const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const peftConfig = (overrides: Record<string, unknown> = {}): Uint8Array =>
  json({ peft_type: 'PROMPT_TUNING', task_type: 'CAUSAL_LM', num_virtual_tokens: 4, token_dim: TINY.hidden, ...overrides });

/** A safetensors file whose header is written by hand (for dtypes and shapes the writer refuses). */
function rawSafetensors(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function withValue(value: number): Uint8Array {
  const values = new Float32Array(4 * TINY.hidden).fill(0.1);
  values[TINY.hidden + 3] = value;
  return promptFile(4, TINY.hidden, { values });
}

interface BadRequest {
  name: string;
  call: (client: RegistryClient) => Promise<unknown>;
  code: status;
  fragment: string;
}

/** Every request here must be refused with the status and a message that says what to fix, and change nothing. */
const BAD_REQUESTS: BadRequest[] = [
  {
    name: 'no spec',
    call: (c) => c.createPromptVersion({ payload: { case: 'safetensors', value: promptFile(4, TINY.hidden) } }),
    code: status.INVALID_ARGUMENT,
    fragment: 'spec: is required',
  },
  {
    name: 'no payload',
    call: (c) => c.createPromptVersion({ spec: { task, baseModel: 'tiny' } }),
    code: status.INVALID_ARGUMENT,
    fragment: 'payload: set safetensors or peft_adapter',
  },
  {
    name: 'task name with capitals',
    call: (c) => c.createPromptVersion(pushRequest('Bad', promptFile(4, TINY.hidden))),
    code: status.INVALID_ARGUMENT,
    fragment: 'spec.task.name: "Bad" must be 1..63 lowercase',
  },
  {
    name: 'empty namespace',
    call: (c) =>
      c.createPromptVersion({
        spec: { task: { namespace: '', name: 'bad' }, baseModel: 'tiny' },
        payload: { case: 'safetensors', value: promptFile(4, TINY.hidden) },
      }),
    code: status.INVALID_ARGUMENT,
    fragment: 'spec.task.namespace: is empty',
  },
  {
    name: 'unknown task',
    call: (c) => c.createPromptVersion(pushRequest('missing', promptFile(4, TINY.hidden))),
    code: status.NOT_FOUND,
    fragment: 'task test/missing does not exist',
  },
  {
    name: 'unknown base model',
    call: (c) => c.createPromptVersion(pushRequest('bad', promptFile(4, TINY.hidden), { baseModel: 'gpt-9' })),
    code: status.NOT_FOUND,
    fragment: 'no base model named "gpt-9"',
  },
  {
    name: 'token dim differs from the model',
    call: (c) => c.createPromptVersion(pushRequest('bad', promptFile(4, 48))),
    code: status.INVALID_ARGUMENT,
    fragment: 'is [4, 48] but PROMPT_TUNING on "tiny" needs width 32',
  },
  {
    name: 'shape does not fit prefix tuning',
    call: (c) => c.createPromptVersion(pushRequest('bad', promptFile(4, TINY.hidden), { method: TuningMethod.PREFIX_TUNING })),
    code: status.INVALID_ARGUMENT,
    fragment: `PREFIX_TUNING on "tiny" needs width ${TINY.prefixWidth}`,
  },
  {
    name: 'more virtual tokens than the context',
    call: (c) => c.createPromptVersion(pushRequest('bad', promptFile(TINY.context, TINY.hidden, { dtype: 'F16' }))),
    code: status.INVALID_ARGUMENT,
    fragment: `256 virtual tokens leave no room in the 256-token context`,
  },
  {
    name: 'NaN in the tensor',
    call: (c) => c.createPromptVersion(pushRequest('bad', withValue(Number.NaN))),
    code: status.INVALID_ARGUMENT,
    fragment: 'holds NaN at [1, 3]; every value must be finite',
  },
  {
    name: 'Infinity in the tensor',
    call: (c) => c.createPromptVersion(pushRequest('bad', withValue(Number.POSITIVE_INFINITY))),
    code: status.INVALID_ARGUMENT,
    fragment: 'holds Infinity at [1, 3]',
  },
  {
    name: 'wrong tensor name',
    call: (c) =>
      c.createPromptVersion(
        pushRequest(
          'bad',
          writeSafetensors({ embeddings: { dtype: 'F32', shape: [4, TINY.hidden], data: new Float32Array(4 * TINY.hidden) } }),
        ),
      ),
    code: status.INVALID_ARGUMENT,
    fragment: 'must hold exactly one tensor "prompt_embeddings", found ["embeddings"]',
  },
  {
    name: 'not a safetensors file',
    call: (c) => c.createPromptVersion(pushRequest('bad', new TextEncoder().encode('definitely not a tensor file'))),
    code: status.INVALID_ARGUMENT,
    fragment: 'safetensors: invalid safetensors',
  },
  {
    name: 'integer dtype',
    call: (c) =>
      c.createPromptVersion(
        pushRequest(
          'bad',
          rawSafetensors(
            { prompt_embeddings: { dtype: 'I32', shape: [4, TINY.hidden], data_offsets: [0, 4 * TINY.hidden * 4] } },
            new Uint8Array(4 * TINY.hidden * 4),
          ),
        ),
      ),
    code: status.INVALID_ARGUMENT,
    fragment: 'has dtype I32; use F32, F16 or BF16',
  },
  {
    name: 'rank-3 tensor',
    call: (c) =>
      c.createPromptVersion(
        pushRequest(
          'bad',
          rawSafetensors(
            { prompt_embeddings: { dtype: 'F32', shape: [1, 4, TINY.hidden], data_offsets: [0, 4 * TINY.hidden * 4] } },
            new Uint8Array(4 * TINY.hidden * 4),
          ),
        ),
      ),
    code: status.INVALID_ARGUMENT,
    fragment: 'has shape [1, 4, 32]; expected [num_virtual_tokens, width]',
  },
  {
    name: 'payload above the unary limit',
    call: (c) => c.createPromptVersion(pushRequest('bad', new Uint8Array(TEST_UNARY_LIMIT + 1))),
    code: status.RESOURCE_EXHAUSTED,
    fragment: 'use CreatePromptVersionStream',
  },
  {
    name: 'PEFT adapter of a non-prompt type',
    call: (c) =>
      c.createPromptVersion({
        spec: { task, baseModel: 'tiny' },
        payload: {
          case: 'peftAdapter',
          value: { adapterConfigJson: peftConfig({ peft_type: 'LORA' }), adapterModelSafetensors: promptFile(4, TINY.hidden) },
        },
      }),
    code: status.INVALID_ARGUMENT,
    fragment: 'peft_type: "LORA" is not a prompt-learning type',
  },
  {
    name: 'PEFT num_virtual_tokens disagrees with the tensor',
    call: (c) =>
      c.createPromptVersion({
        spec: { task, baseModel: 'tiny' },
        payload: {
          case: 'peftAdapter',
          value: { adapterConfigJson: peftConfig({ num_virtual_tokens: 8 }), adapterModelSafetensors: promptFile(4, TINY.hidden) },
        },
      }),
    code: status.INVALID_ARGUMENT,
    fragment: 'num_virtual_tokens: is 8 but "prompt_embeddings" has 4 rows',
  },
  {
    name: 'spec.method contradicts the PEFT config',
    call: (c) =>
      c.createPromptVersion({
        spec: { task, baseModel: 'tiny', method: TuningMethod.P_TUNING },
        payload: { case: 'peftAdapter', value: { adapterConfigJson: peftConfig(), adapterModelSafetensors: promptFile(4, TINY.hidden) } },
      }),
    code: status.INVALID_ARGUMENT,
    fragment: "is P_TUNING but the adapter's peft_type is PROMPT_TUNING",
  },
  {
    name: 'PEFT config is not JSON',
    call: (c) =>
      c.createPromptVersion({
        spec: { task, baseModel: 'tiny' },
        payload: {
          case: 'peftAdapter',
          value: { adapterConfigJson: new TextEncoder().encode('{peft'), adapterModelSafetensors: promptFile(4, TINY.hidden) },
        },
      }),
    code: status.INVALID_ARGUMENT,
    fragment: 'adapter_config_json: is not UTF-8 JSON',
  },
  {
    name: 'non-finite metric',
    call: (c) => c.createPromptVersion(pushRequest('bad', promptFile(4, TINY.hidden), { metrics: { eval_loss: Number.NaN } })),
    code: status.INVALID_ARGUMENT,
    fragment: 'spec.metrics["eval_loss"]: is NaN',
  },
  {
    name: 'TEXT init without text',
    call: (c) => c.createPromptVersion(pushRequest('bad', promptFile(4, TINY.hidden), { init: { method: InitMethod.TEXT } })),
    code: status.INVALID_ARGUMENT,
    fragment: 'spec.init.text: is required when init.method is TEXT',
  },
  {
    name: 'parent version that does not exist',
    call: (c) =>
      c.createPromptVersion(
        pushRequest('bad', promptFile(4, TINY.hidden), { init: { method: InitMethod.FROM_PROMPT, parent: { task, version: 99 } } }),
      ),
    code: status.NOT_FOUND,
    fragment: 'task test/bad has no version 99',
  },
  {
    name: 'lineage job id that is not a UUID',
    call: (c) => c.createPromptVersion(pushRequest('bad', promptFile(4, TINY.hidden), { lineage: { jobId: 'job-1' } })),
    code: status.INVALID_ARGUMENT,
    fragment: 'spec.lineage.job_id: "job-1" is not a job id',
  },
  {
    name: 'lineage job that does not exist',
    call: (c) =>
      c.createPromptVersion(pushRequest('bad', promptFile(4, TINY.hidden), { lineage: { jobId: '00000000-0000-4000-8000-000000000000' } })),
    code: status.NOT_FOUND,
    fragment: 'no job 00000000-0000-4000-8000-000000000000',
  },
  {
    name: 'request_id reused with another payload',
    call: (c) => c.createPromptVersion(pushRequest('bad', promptFile(4, TINY.hidden, { seed: 999 }), { requestId: 'first' })),
    code: status.ALREADY_EXISTS,
    fragment: 'request_id "first" already created version 1',
  },
  {
    name: 'alias name starting with a digit',
    call: (c) => c.createPromptVersion(pushRequest('bad', promptFile(4, TINY.hidden), { alias: '9prod' })),
    code: status.INVALID_ARGUMENT,
    fragment: 'spec.alias: alias "9prod" must be',
  },
  {
    name: 'stream without a header',
    call: (c) => c.createPromptVersionStream([{ part: { case: 'chunk', value: promptFile(4, TINY.hidden) } }]),
    code: status.INVALID_ARGUMENT,
    fragment: 'the first message of the stream must be the header',
  },
  {
    name: 'stream shorter than declared',
    call: (c) =>
      c.createPromptVersionStream([
        { part: { case: 'header', value: { spec: { task, baseModel: 'tiny' }, format: PayloadFormat.SAFETENSORS, sizeBytes: 10_000n } } },
        { part: { case: 'chunk', value: promptFile(4, TINY.hidden) } },
      ]),
    code: status.INVALID_ARGUMENT,
    fragment: 'declares 10000 bytes but',
  },
  {
    name: 'stream with a wrong expected sha256',
    call: (c) => {
      const f = promptFile(4, TINY.hidden);
      return c.createPromptVersionStream([
        {
          part: {
            case: 'header',
            value: {
              spec: { task, baseModel: 'tiny' },
              format: PayloadFormat.SAFETENSORS,
              sizeBytes: BigInt(f.byteLength),
              expectedSha256: 'a'.repeat(64),
            },
          },
        },
        { part: { case: 'chunk', value: f } },
      ]);
    },
    code: status.INVALID_ARGUMENT,
    fragment: 'expected_sha256: the received bytes hash to',
  },
  {
    name: 'stream without a format',
    call: (c) => c.createPromptVersionStream([{ part: { case: 'header', value: { spec: { task, baseModel: 'tiny' }, sizeBytes: 10n } } }]),
    code: status.INVALID_ARGUMENT,
    fragment: 'header.format: set SAFETENSORS or PEFT',
  },
  {
    name: 'model name taken by other weights',
    call: async (c) => {
      const w = new Uint8Array([1, 2, 3, 4]);
      return c.registerBaseModel([
        {
          part: {
            case: 'header',
            value: {
              name: 'tiny',
              sizeBytes: 4n,
              weightsFormat: WeightsFormat.ONNX,
              architecture: {
                family: 'llama',
                hiddenSize: 8,
                numLayers: 1,
                numAttentionHeads: 1,
                numKeyValueHeads: 1,
                vocabSize: 8,
                contextLength: 8,
              },
              tokenizerKind: 1,
            },
          },
        },
        { part: { case: 'chunk', value: w } },
      ]);
    },
    code: status.ALREADY_EXISTS,
    fragment: 'base model "tiny" is already registered with other weights',
  },
  {
    name: 'same weights under another name',
    call: async (c) => {
      const w = await tinyModelBytes();
      return c.registerBaseModel([
        { part: { case: 'header', value: { name: 'tiny-copy', sizeBytes: BigInt(w.byteLength) } } },
        { part: { case: 'chunk', value: w } },
      ]);
    },
    code: status.ALREADY_EXISTS,
    fragment: 'are already registered as "tiny"',
  },
  {
    name: 'weights that are not GGUF, format unset',
    call: (c) =>
      c.registerBaseModel([
        { part: { case: 'header', value: { name: 'mystery', sizeBytes: 4n } } },
        { part: { case: 'chunk', value: new Uint8Array([1, 2, 3, 4]) } },
      ]),
    code: status.INVALID_ARGUMENT,
    fragment: 'the file is not GGUF; set weights_format',
  },
  {
    name: 'GGUF that is truncated',
    call: async (c) => {
      const w = (await tinyModelBytes()).subarray(0, 5000);
      return c.registerBaseModel([
        { part: { case: 'header', value: { name: 'broken', sizeBytes: BigInt(w.byteLength) } } },
        { part: { case: 'chunk', value: w } },
      ]);
    },
    code: status.INVALID_ARGUMENT,
    fragment: 'weights of "broken"',
  },
  {
    name: 'set alias to a missing version',
    call: (c) => c.setAlias({ task, alias: 'production', version: 42 }),
    code: status.NOT_FOUND,
    fragment: 'task test/bad has no version 42',
  },
  {
    name: 'alias compare-and-swap on a stale version',
    call: (c) => c.setAlias({ task, alias: 'production', version: 1, expectedVersion: 7 }),
    code: status.ABORTED,
    fragment: 'points at version 1, not version 7 as expected',
  },
  {
    name: 'delete a version an alias points at',
    call: (c) => c.deletePromptVersion({ version: { task, version: 1 } }),
    code: status.FAILED_PRECONDITION,
    fragment: 'is the target of alias "production"; move or delete the alias first',
  },
  {
    name: 'delete a missing alias',
    call: (c) => c.deleteAlias({ task, alias: 'staging' }),
    code: status.NOT_FOUND,
    fragment: 'has no alias "staging"',
  },
  {
    name: 'get without a selector',
    call: (c) => c.getPrompt({ prompt: { task } }),
    code: status.INVALID_ARGUMENT,
    fragment: 'prompt: set exactly one of version, alias or latest',
  },
  {
    name: 'get with latest = false',
    call: (c) => c.getPrompt({ prompt: { task, selector: { case: 'latest', value: false } } }),
    code: status.INVALID_ARGUMENT,
    fragment: 'prompt.latest: must be true',
  },
  {
    name: 'get with a malformed if_none_match',
    call: (c) => c.getPrompt({ prompt: { task, selector: { case: 'version', value: 1 } }, ifNoneMatch: 'abc' }),
    code: status.INVALID_ARGUMENT,
    fragment: 'if_none_match: must be a lowercase hex sha256',
  },
  {
    name: 'get an unknown dtype',
    call: (c) => c.getPrompt({ prompt: { task, selector: { case: 'version', value: 1 } }, dtype: 9 as Dtype }),
    code: status.INVALID_ARGUMENT,
    fragment: 'dtype: 9 is not a value of ptune.v1.Dtype',
  },
  {
    name: 'f16 cannot hold the values',
    call: (c) => c.getPrompt({ prompt: { task: { namespace: 'test', name: 'huge' }, selector: { case: 'version', value: 1 } }, dtype: 2 }),
    code: status.INVALID_ARGUMENT,
    fragment: 'F16 cannot represent the value 100000',
  },
  {
    name: 'list with a forged page token',
    call: (c) => c.listPromptVersions({ task, pageToken: 'not-a-token' }),
    code: status.INVALID_ARGUMENT,
    fragment: 'page_token: is not a token this server issued',
  },
  {
    name: 'list models with a hand-made cursor',
    call: (c) => c.listBaseModels({ pageToken: Buffer.from(JSON.stringify({ s: 'base-models', k: [5] })).toString('base64url') }),
    code: status.INVALID_ARGUMENT,
    fragment: 'page_token: is not a token this server issued',
  },
  {
    name: 'order by metric without its name',
    call: (c) => c.listPromptVersions({ task, orderBy: 3 }),
    code: status.INVALID_ARGUMENT,
    fragment: 'order_metric: "" must name a metric',
  },
];

describe.each(BACKENDS)('bad requests on %s', (backendName) => {
  let backend: RegistryBackend;

  beforeAll(async () => {
    backend = await startBackend(backendName);
    await registerTiny(backend.client);
    await createTask(backend.client, 'bad');
    await createTask(backend.client, 'huge');
    await backend.client.createPromptVersion(pushRequest('bad', promptFile(4, TINY.hidden), { requestId: 'first', alias: 'production' }));
    await backend.client.createPromptVersion(
      pushRequest('huge', promptFile(2, TINY.hidden, { values: new Float32Array(2 * TINY.hidden).fill(100_000) })),
    );
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('has at least 15 distinct cases', () => {
    expect(new Set(BAD_REQUESTS.map((r) => r.name)).size).toBe(BAD_REQUESTS.length);
    expect(BAD_REQUESTS.length).toBeGreaterThanOrEqual(15);
  });

  it.each(BAD_REQUESTS)('refuses $name and changes nothing', async ({ call, code, fragment }) => {
    const before = await backend.snapshot();
    await expectRpcError(call(backend.client), code, fragment);
    expect(await backend.snapshot()).toEqual(before);
  });
});
