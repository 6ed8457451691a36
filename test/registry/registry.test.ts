import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dtype, InitMethod, TuningMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { PayloadFormat, PromptVersionOrderBy } from '../../services/gen/ptune/v1/registry_pb.js';
import { f32ToBf16Bytes, f32ToF16Bytes, f32FromBf16Bytes, f32FromF16Bytes } from '../../services/engine/formats/half.js';
import { readSafetensors, tensorToFloat32 } from '../../services/engine/formats/safetensors.js';
import { sweepOrphanBlobs } from '../../services/storage/index.js';
import { BACKENDS, startBackend, TEST_UNARY_LIMIT, type RegistryBackend } from './backends.js';
import { expectRpcError } from './expect-rpc.js';
import { createTask, promptFile, promptValues, pushRequest, registerTiny, TINY, tinyModelBytes } from './fixtures.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe.each(BACKENDS)('prompt registry on %s', (backendName) => {
  let backend: RegistryBackend;

  beforeAll(async () => {
    backend = await startBackend(backendName);
    await registerTiny(backend.client);
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('registers a GGUF model with the architecture read from the file, idempotently', async () => {
    const { baseModel } = await backend.client.getBaseModel({ name: 'tiny' });
    expect(baseModel?.architecture).toMatchObject({
      family: 'llama',
      hiddenSize: TINY.hidden,
      numLayers: TINY.layers,
      numAttentionHeads: TINY.heads,
      numKeyValueHeads: TINY.kvHeads,
      contextLength: TINY.context,
    });
    const bytes = await tinyModelBytes();
    expect(baseModel?.fingerprintSha256).toBe(sha256(bytes));
    expect(await backend.blobs.has(`model/${sha256(bytes)}`)).toBe(true);
    const again = await backend.client.registerBaseModel([
      { part: { case: 'header', value: { name: 'tiny', sizeBytes: BigInt(bytes.byteLength) } } },
      { part: { case: 'chunk', value: bytes } },
    ]);
    expect(again.created).toBe(false);
    const list = await backend.client.listBaseModels({});
    expect(list.baseModels.map((m) => m.name)).toEqual(['tiny']);
  });

  it('creates, gets and pages through tasks', async () => {
    for (const name of ['tasks-a', 'tasks-b', 'tasks-c'])
      await backend.client.createTask({ task: { namespace: 'paging', name }, description: name });
    const retry = await backend.client.createTask({ task: { namespace: 'paging', name: 'tasks-a' }, description: 'tasks-a' });
    expect(retry.created).toBe(false);
    const first = await backend.client.listTasks({ namespace: 'paging', pageSize: 2 });
    const second = await backend.client.listTasks({ namespace: 'paging', pageSize: 2, pageToken: first.nextPageToken });
    expect([...first.tasks, ...second.tasks].map((t) => t.ref?.name)).toEqual(['tasks-a', 'tasks-b', 'tasks-c']);
    expect(second.nextPageToken).toBe('');
    const { task } = await backend.client.getTask({ task: { namespace: 'paging', name: 'tasks-b' } });
    expect(task?.description).toBe('tasks-b');
    expect(task?.latestVersion).toBe(0);
  });

  it('allocates distinct consecutive versions to 16 concurrent creates of one task', async () => {
    await createTask(backend.client, 'concurrent');
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        backend.client.createPromptVersion(pushRequest('concurrent', promptFile(2, TINY.hidden, { seed: i }))),
      ),
    );
    expect(results.map((r) => r.version?.version).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    // each version holds the bytes its own request sent
    for (const r of results) {
      const got = await backend.client.getPrompt({
        prompt: { task: { namespace: 'test', name: 'concurrent' }, selector: { case: 'version', value: r.version?.version ?? 0 } },
      });
      expect(got.payloadSha256).toBe(r.version?.blobSha256);
    }
  });

  it('treats a repeated request_id as the same create, also when retries race', async () => {
    await createTask(backend.client, 'idempotent');
    const file = promptFile(3, TINY.hidden, { seed: 5 });
    const first = await backend.client.createPromptVersion(pushRequest('idempotent', file, { requestId: 'req-1' }));
    const retries = await Promise.all(
      Array.from({ length: 4 }, () => backend.client.createPromptVersion(pushRequest('idempotent', file, { requestId: 'req-1' }))),
    );
    expect(first.created).toBe(true);
    expect(retries.every((r) => !r.created && r.version?.version === first.version?.version)).toBe(true);
    const raced = await Promise.all(
      Array.from({ length: 4 }, () => backend.client.createPromptVersion(pushRequest('idempotent', file, { requestId: 'req-2' }))),
    );
    expect(raced.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(raced.map((r) => r.version?.version)).size).toBe(1);
    const { versions } = await backend.client.listPromptVersions({ task: { namespace: 'test', name: 'idempotent' } });
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it('serves by version, alias and latest; converts to f16/bf16; answers if_none_match without bytes', async () => {
    await createTask(backend.client, 'serving');
    const values = promptValues(4, TINY.hidden, 3);
    const file = promptFile(4, TINY.hidden, { values });
    const created = await backend.client.createPromptVersion(
      pushRequest('serving', file, { alias: 'production', init: { method: InitMethod.TEXT, text: 'Classify:' } }),
    );
    expect(created.version?.aliases).toEqual(['production']);
    expect(created.version?.init).toMatchObject({ method: InitMethod.TEXT, text: 'Classify:' });
    const task = { namespace: 'test', name: 'serving' };
    for (const selector of [
      { case: 'version', value: 1 },
      { case: 'alias', value: 'production' },
      { case: 'latest', value: true },
    ] as const) {
      const got = await backend.client.getPrompt({ prompt: { task, selector } });
      expect(Buffer.from(got.safetensors).equals(Buffer.from(file))).toBe(true);
      expect(got.payloadSha256).toBe(sha256(file));
      expect(got.payloadDtype).toBe(Dtype.F32);
    }
    for (const [dtype, name, encode, decode] of [
      [Dtype.F16, 'F16', f32ToF16Bytes, f32FromF16Bytes],
      [Dtype.BF16, 'BF16', f32ToBf16Bytes, f32FromBf16Bytes],
    ] as const) {
      const got = await backend.client.getPrompt({ prompt: { task, selector: { case: 'version', value: 1 } }, dtype });
      const tensor = readSafetensors(got.safetensors).tensors.prompt_embeddings;
      expect(tensor.dtype).toBe(name);
      expect(tensor.shape).toEqual([4, TINY.hidden]);
      expect(Array.from(tensorToFloat32(tensor))).toEqual(Array.from(decode(encode(values))));
      expect(got.payloadSha256).toBe(sha256(got.safetensors));
      const cached = await backend.client.getPrompt({
        prompt: { task, selector: { case: 'version', value: 1 } },
        dtype,
        ifNoneMatch: got.payloadSha256,
      });
      expect(cached.notModified).toBe(true);
      expect(cached.safetensors.byteLength).toBe(0);
      expect(cached.version?.version).toBe(1);
    }
    const stale = await backend.client.getPrompt({
      prompt: { task, selector: { case: 'latest', value: true } },
      ifNoneMatch: '0'.repeat(64),
    });
    expect(stale.notModified).toBe(false);
    expect(stale.safetensors.byteLength).toBe(file.byteLength);
  });

  it('streams prompts above the unary limit both ways', async () => {
    await createTask(backend.client, 'large');
    const rows = Math.ceil(TEST_UNARY_LIMIT / (TINY.prefixWidth * 4)) + 1;
    const file = promptFile(rows, TINY.prefixWidth, { seed: 11 });
    expect(file.byteLength).toBeGreaterThan(TEST_UNARY_LIMIT);
    await expectRpcError(
      backend.client.createPromptVersion(pushRequest('large', file, { method: TuningMethod.PREFIX_TUNING })),
      status.RESOURCE_EXHAUSTED,
      'CreatePromptVersionStream',
    );
    const chunks = [file.subarray(0, 10_000), file.subarray(10_000, 50_000), file.subarray(50_000)];
    const created = await backend.client.createPromptVersionStream([
      {
        part: {
          case: 'header',
          value: {
            spec: { task: { namespace: 'test', name: 'large' }, baseModel: 'tiny', method: TuningMethod.PREFIX_TUNING },
            format: PayloadFormat.SAFETENSORS,
            sizeBytes: BigInt(file.byteLength),
            expectedSha256: sha256(file),
          },
        },
      },
      ...chunks.map((value) => ({ part: { case: 'chunk' as const, value } })),
    ]);
    expect(created.version?.shape).toEqual([BigInt(rows), BigInt(TINY.prefixWidth)]);
    const prompt = { task: { namespace: 'test', name: 'large' }, selector: { case: 'version' as const, value: 1 } };
    await expectRpcError(backend.client.getPrompt({ prompt }), status.RESOURCE_EXHAUSTED, 'GetPromptStream');
    const parts = [];
    for await (const message of backend.client.getPromptStream({ prompt, chunkSize: 16_384 })) parts.push(message.part);
    expect(parts[0].case).toBe('header');
    const body = Buffer.concat(parts.slice(1).map((p) => p.value as Uint8Array));
    expect(parts.length).toBe(1 + Math.ceil(file.byteLength / 16_384));
    expect(body.equals(Buffer.from(file))).toBe(true);
    const unchanged = [];
    for await (const message of backend.client.getPromptStream({ prompt, ifNoneMatch: sha256(file) })) unchanged.push(message);
    expect(unchanged).toHaveLength(1);
    expect(unchanged[0].part.case === 'header' && unchanged[0].part.value.notModified).toBe(true);
  });

  it('filters, orders by a metric (missing last) and paginates versions', async () => {
    await createTask(backend.client, 'listing');
    const losses = [0.9, undefined, 0.5, 0.7, undefined, 0.5];
    for (const [i, loss] of losses.entries()) {
      await backend.client.createPromptVersion(
        pushRequest('listing', promptFile(2, i === 3 ? TINY.prefixWidth : TINY.hidden, { seed: 100 + i }), {
          metrics: loss === undefined ? {} : { eval_loss: loss },
          method: i === 3 ? TuningMethod.PREFIX_TUNING : TuningMethod.PROMPT_TUNING,
        }),
      );
    }
    const task = { namespace: 'test', name: 'listing' };
    const all = async (request: {
      orderBy?: PromptVersionOrderBy;
      orderMetric?: string;
      descending?: boolean;
      method?: TuningMethod;
    }): Promise<number[]> => {
      const seen: number[] = [];
      let pageToken = '';
      do {
        const page = await backend.client.listPromptVersions({ task, pageSize: 2, pageToken, ...request });
        seen.push(...page.versions.map((v) => v.version));
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      return seen;
    };
    expect(await all({})).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await all({ descending: true })).toEqual([6, 5, 4, 3, 2, 1]);
    expect(await all({ orderBy: PromptVersionOrderBy.METRIC, orderMetric: 'eval_loss' })).toEqual([3, 6, 4, 1, 2, 5]);
    expect(await all({ orderBy: PromptVersionOrderBy.METRIC, orderMetric: 'eval_loss', descending: true })).toEqual([1, 4, 6, 3, 5, 2]);
    expect(await all({ orderBy: PromptVersionOrderBy.CREATED_AT })).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await all({ method: TuningMethod.PREFIX_TUNING })).toEqual([4]);
    const first = await backend.client.listPromptVersions({ task, pageSize: 2 });
    await expectRpcError(
      backend.client.listPromptVersions({ task, pageSize: 2, pageToken: first.nextPageToken, descending: true }),
      status.INVALID_ARGUMENT,
      'different filter or order',
    );
  });

  it('moves aliases with compare-and-swap and records who, when, from and to', async () => {
    await createTask(backend.client, 'aliases');
    for (const seed of [1, 2, 3]) await backend.client.createPromptVersion(pushRequest('aliases', promptFile(2, TINY.hidden, { seed })));
    const task = { namespace: 'test', name: 'aliases' };
    const created = await backend.client.setAlias({ task, alias: 'production', version: 1, expectedVersion: 0, updatedBy: 'alice' });
    expect(created.previousVersion).toBe(0);
    await expectRpcError(
      backend.client.setAlias({ task, alias: 'production', version: 2, expectedVersion: 0 }),
      status.ABORTED,
      'points at version 1',
    );
    const conflict = await expectRpcError(
      backend.client.setAlias({ task, alias: 'production', version: 3, expectedVersion: 2 }),
      status.ABORTED,
      'not version 2',
    );
    expect(conflict.details.current_version).toBe('1');
    // concurrent CAS from the same expected version: exactly one wins
    const racers = await Promise.allSettled(
      [2, 3].map((version) =>
        backend.client.setAlias({ task, alias: 'production', version, expectedVersion: 1, updatedBy: `racer-${version}` }),
      ),
    );
    expect(racers.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const winner =
      (racers.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ alias?: { version: number } }>).value.alias?.version ?? 0;
    await backend.client.deleteAlias({ task, alias: 'production', expectedVersion: winner, updatedBy: 'bob' });
    const history = await backend.client.getAliasHistory({ task, alias: 'production' });
    expect(history.changes.map((c) => [c.fromVersion, c.toVersion, c.changedBy])).toEqual([
      [winner, 0, 'bob'],
      [1, winner, `racer-${winner}`],
      [0, 1, 'alice'],
    ]);
    expect(history.changes.every((c) => (c.changedAt?.seconds ?? 0n) > 0n)).toBe(true);
  });

  it('refuses to delete an aliased version; a deleted version is gone for good and its blob is swept', async () => {
    await createTask(backend.client, 'deleting');
    const task = { namespace: 'test', name: 'deleting' };
    const shared = promptFile(2, TINY.hidden, { seed: 42 });
    const unique = promptFile(2, TINY.hidden, { seed: 43 });
    await backend.client.createPromptVersion(pushRequest('deleting', shared, { alias: 'production' }));
    await backend.client.createPromptVersion(pushRequest('deleting', unique));
    await backend.client.createPromptVersion(pushRequest('deleting', shared));
    await expectRpcError(
      backend.client.deletePromptVersion({ version: { task, version: 1 } }),
      status.FAILED_PRECONDITION,
      'alias "production"',
    );
    await backend.client.deletePromptVersion({ version: { task, version: 2 } });
    await backend.client.deletePromptVersion({ version: { task, version: 3 } });
    await expectRpcError(
      backend.client.getPrompt({ prompt: { task, selector: { case: 'version', value: 2 } } }),
      status.NOT_FOUND,
      'was deleted',
    );
    await expectRpcError(backend.client.setAlias({ task, alias: 'staging', version: 3 }), status.NOT_FOUND, 'deleted');
    const latest = await backend.client.getPrompt({ prompt: { task, selector: { case: 'latest', value: true } } });
    expect(latest.version?.version).toBe(1);
    const next = await backend.client.createPromptVersion(pushRequest('deleting', promptFile(2, TINY.hidden, { seed: 44 })));
    expect(next.version?.version).toBe(4);
    const swept = await sweepOrphanBlobs(backend.prisma, backend.blobs, { graceMs: 0, prefix: 'prompt/' });
    expect(swept.deleted).toEqual([`prompt/${sha256(unique)}`]);
    expect(await backend.blobs.has(`prompt/${sha256(shared)}`)).toBe(true);
  });

  it("serves a version's current aliases and its tombstone, after it was served before (only its immutable part is kept)", async () => {
    await createTask(backend.client, 'served-then-changed');
    const task = { namespace: 'test', name: 'served-then-changed' };
    await backend.client.createPromptVersion(
      pushRequest('served-then-changed', promptFile(2, TINY.hidden, { seed: 7 }), { alias: 'production' }),
    );
    await backend.client.createPromptVersion(pushRequest('served-then-changed', promptFile(2, TINY.hidden, { seed: 8 })));
    const byVersion = async (version: number) =>
      (await backend.client.getPrompt({ prompt: { task, selector: { case: 'version', value: version } } })).version;
    expect((await byVersion(1))?.aliases).toEqual(['production']);
    expect((await byVersion(2))?.aliases).toEqual([]);
    await backend.client.setAlias({ task, alias: 'production', version: 2 });
    await backend.client.setAlias({ task, alias: 'staging', version: 2 });
    expect((await byVersion(1))?.aliases).toEqual([]);
    expect((await byVersion(2))?.aliases).toEqual(['production', 'staging']);
    await backend.client.deleteAlias({ task, alias: 'production' });
    await backend.client.deleteAlias({ task, alias: 'staging' });
    await backend.client.deletePromptVersion({ version: { task, version: 2 } });
    await expectRpcError(byVersion(2), status.NOT_FOUND, 'was deleted');
    const latest = await backend.client.getPrompt({ prompt: { task, selector: { case: 'latest', value: true } } });
    expect([latest.version?.version, latest.version?.blobSha256]).toEqual([1, (await byVersion(1))?.blobSha256]);
  });

  it('exports a PEFT adapter that reads back, and imports one', async () => {
    await createTask(backend.client, 'peft');
    const values = promptValues(5, TINY.hidden, 9);
    await backend.client.createPromptVersion(
      pushRequest('peft', promptFile(5, TINY.hidden, { values }), { init: { method: InitMethod.TEXT, text: 'Answer:' } }),
    );
    const task = { namespace: 'test', name: 'peft' };
    const exported = await backend.client.exportPeft({ prompt: { task, selector: { case: 'version', value: 1 } } });
    const config = JSON.parse(new TextDecoder().decode(exported.adapterConfigJson)) as Record<string, unknown>;
    expect(config).toMatchObject({
      peft_type: 'PROMPT_TUNING',
      task_type: 'CAUSAL_LM',
      num_virtual_tokens: 5,
      token_dim: TINY.hidden,
      num_layers: TINY.layers,
      prompt_tuning_init: 'TEXT',
      prompt_tuning_init_text: 'Answer:',
      base_model_name_or_path: 'tiny',
      inference_mode: true,
    });
    const weights = readSafetensors(exported.adapterModelSafetensors);
    expect(Object.keys(weights.tensors)).toEqual(['prompt_embeddings']);
    expect(Array.from(tensorToFloat32(weights.tensors.prompt_embeddings))).toEqual(Array.from(values));

    const imported = await backend.client.createPromptVersion({
      spec: { task, baseModel: 'tiny' },
      payload: {
        case: 'peftAdapter',
        value: { adapterConfigJson: exported.adapterConfigJson, adapterModelSafetensors: exported.adapterModelSafetensors },
      },
    });
    expect(imported.version).toMatchObject({
      version: 2,
      method: TuningMethod.PROMPT_TUNING,
      numVirtualTokens: 5,
      init: { method: InitMethod.TEXT, text: 'Answer:' },
    });
    expect(imported.version?.blobSha256).toBe(sha256(exported.adapterModelSafetensors));

    // prefix tuning: PEFT's grouped-query layout (token_dim = kv heads × head size)
    await backend.client.createPromptVersion(
      pushRequest('peft', promptFile(3, TINY.prefixWidth, { seed: 4 }), { method: TuningMethod.PREFIX_TUNING }),
    );
    const prefix = await backend.client.exportPeft({ prompt: { task, selector: { case: 'version', value: 3 } } });
    const prefixConfig = JSON.parse(new TextDecoder().decode(prefix.adapterConfigJson)) as Record<string, unknown>;
    const kvDim = (TINY.hidden / TINY.heads) * TINY.kvHeads;
    expect(prefixConfig).toMatchObject({
      peft_type: 'PREFIX_TUNING',
      num_virtual_tokens: 3,
      token_dim: kvDim,
      num_attention_heads: TINY.kvHeads,
      num_layers: TINY.layers,
      prefix_projection: false,
    });
    expect(readSafetensors(prefix.adapterModelSafetensors).tensors.prompt_embeddings.shape).toEqual([3, TINY.layers * 2 * kvDim]);
  });

  it('loses nothing across a server restart', async () => {
    const before = await backend.snapshot();
    const task = { namespace: 'test', name: 'serving' };
    const got = await backend.client.getPrompt({ prompt: { task, selector: { case: 'alias', value: 'production' } } });
    await backend.restart();
    expect(await backend.snapshot()).toEqual(before);
    const again = await backend.client.getPrompt({ prompt: { task, selector: { case: 'alias', value: 'production' } } });
    expect(again.version).toEqual(got.version);
    expect(Buffer.from(again.safetensors).equals(Buffer.from(got.safetensors))).toBe(true);
    const next = await backend.client.createPromptVersion(pushRequest('serving', promptFile(4, TINY.hidden, { seed: 77 })));
    expect(next.version?.version).toBe(2);
  });

  it('serves every change made through the server at once, from its next call (resolutions are cached)', async () => {
    await createTask(backend.client, 'cached');
    const task = { namespace: 'test', name: 'cached' };
    const get = async (selector: { case: 'alias'; value: string } | { case: 'latest'; value: true }) =>
      (await backend.client.getPrompt({ prompt: { task, selector } })).version?.version;
    await backend.client.createPromptVersion(pushRequest('cached', promptFile(2, TINY.hidden, { seed: 1 }), { alias: 'production' }));
    expect([await get({ case: 'alias', value: 'production' }), await get({ case: 'latest', value: true })]).toEqual([1, 1]);
    await backend.client.createPromptVersion(pushRequest('cached', promptFile(2, TINY.hidden, { seed: 2 })));
    expect(await get({ case: 'latest', value: true })).toBe(2);
    await backend.client.setAlias({ task, alias: 'production', version: 2 });
    expect(await get({ case: 'alias', value: 'production' })).toBe(2);
    await backend.client.deleteAlias({ task, alias: 'production' });
    await expectRpcError(get({ case: 'alias', value: 'production' }), status.NOT_FOUND, 'has no alias "production"');
    await backend.client.deletePromptVersion({ version: { task, version: 2 } });
    expect(await get({ case: 'latest', value: true })).toBe(1);
  });
});
