import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePeftExport, type PeftExport } from './peft.js';
import { readSafetensors, tensorToFloat32 } from './safetensors.js';

const base: PeftExport = {
  baseModelNameOrPath: 'stories260K',
  method: { peftType: 'PROMPT_TUNING', init: 'SAMPLE_VOCAB' },
  numVirtualTokens: 2,
  tokenDim: 3,
  numAttentionHeads: 8,
  numLayers: 5,
  promptEmbeddings: Float32Array.of(1, 2, 3, 4, 5, 6),
  metadata: { base_model_fingerprint: 'abc' },
};

describe('PEFT export', () => {
  it('writes adapter_config.json with PEFT field names and adapter_model.safetensors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ptune-peft-'));
    try {
      const { configPath, weightsPath } = await writePeftExport(join(dir, 'out'), base);
      const config = JSON.parse(await readFile(configPath, 'utf8'));
      expect(config).toMatchObject({
        peft_type: 'PROMPT_TUNING',
        task_type: 'CAUSAL_LM',
        base_model_name_or_path: 'stories260K',
        inference_mode: true,
        num_virtual_tokens: 2,
        token_dim: 3,
        num_transformer_submodules: 1,
        num_attention_heads: 8,
        num_layers: 5,
        prompt_tuning_init: 'SAMPLE_VOCAB',
        prompt_tuning_init_text: null,
      });
      const st = readSafetensors(new Uint8Array(await readFile(weightsPath)), { rejectNonFinite: true });
      expect(Object.keys(st.tensors)).toEqual(['prompt_embeddings']);
      expect(st.tensors.prompt_embeddings.shape).toEqual([2, 3]);
      expect(st.tensors.prompt_embeddings.dtype).toBe('F32');
      expect(tensorToFloat32(st.tensors.prompt_embeddings)).toEqual(base.promptEmbeddings);
      expect(st.metadata).toEqual({ format: 'pt', base_model_fingerprint: 'abc' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('records TEXT init with its text and a tokenizer path, and rejects a missing text', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ptune-peft-'));
    try {
      const { configPath } = await writePeftExport(dir, {
        ...base,
        method: { peftType: 'PROMPT_TUNING', init: 'TEXT', initText: 'Classify:' },
      });
      const config = JSON.parse(await readFile(configPath, 'utf8'));
      expect(config.prompt_tuning_init_text).toBe('Classify:');
      expect(config.tokenizer_name_or_path).toBe('stories260K');
      await expect(writePeftExport(dir, { ...base, method: { peftType: 'PROMPT_TUNING', init: 'TEXT' } })).rejects.toThrow(/init text/);
      await expect(writePeftExport(dir, { ...base, numVirtualTokens: 3 })).rejects.toThrow(/\[3, 3\] needs 9/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('P_TUNING writes the encoder fields and no prompt-tuning init fields; the weights are the encoder output [P, token_dim]', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ptune-peft-'));
    try {
      const method = { peftType: 'P_TUNING', encoderReparameterizationType: 'LSTM', encoderHiddenSize: 32, encoderNumLayers: 2 } as const;
      const { configPath, weightsPath } = await writePeftExport(dir, { ...base, method });
      const config = JSON.parse(await readFile(configPath, 'utf8'));
      expect(config).toMatchObject({
        peft_type: 'P_TUNING',
        token_dim: 3,
        encoder_reparameterization_type: 'LSTM',
        encoder_hidden_size: 32,
        encoder_num_layers: 2,
        encoder_dropout: 0,
      });
      expect(config).not.toHaveProperty('prompt_tuning_init');
      const st = readSafetensors(new Uint8Array(await readFile(weightsPath)));
      expect(st.tensors.prompt_embeddings.shape).toEqual([2, 3]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('PREFIX_TUNING writes prefix_projection and stores [P, num_layers·2·token_dim]', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ptune-peft-'));
    try {
      // token_dim is the key/value width (GQA): 2 layers · 2 · 2 = 8 values per virtual token
      const prefix: PeftExport = {
        ...base,
        tokenDim: 2,
        numAttentionHeads: 1,
        numLayers: 2,
        method: { peftType: 'PREFIX_TUNING', prefixProjection: true, encoderHiddenSize: 5 },
        promptEmbeddings: Float32Array.from({ length: 16 }, (_, i) => i),
      };
      const { configPath, weightsPath } = await writePeftExport(dir, prefix);
      const config = JSON.parse(await readFile(configPath, 'utf8'));
      expect(config).toMatchObject({
        peft_type: 'PREFIX_TUNING',
        token_dim: 2,
        num_attention_heads: 1,
        num_layers: 2,
        prefix_projection: true,
        encoder_hidden_size: 5,
      });
      expect(config).not.toHaveProperty('prompt_tuning_init');
      const st = readSafetensors(new Uint8Array(await readFile(weightsPath)));
      expect(st.tensors.prompt_embeddings.shape).toEqual([2, 8]);
      expect(tensorToFloat32(st.tensors.prompt_embeddings)).toEqual(prefix.promptEmbeddings);
      await expect(writePeftExport(dir, { ...prefix, promptEmbeddings: new Float32Array(4) })).rejects.toThrow(/\[2, 8\] needs 16/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
