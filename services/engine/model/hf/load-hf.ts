/**
 * A Hugging Face checkpoint folder → spec, lazy canonical weights, tokenizer files, chat template.
 * Everything is checked at open, before a weight is read: config.json (refusals by field),
 * the files present (a weight file nobody reads or an unknown file is refused: it may be the
 * real model), every tensor the family needs at its checkpoint name with its exact shape and a
 * float dtype, and no tensor left over.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { ModelSpec } from '../spec.js';
import { expectedWeights, type StoredDType, type StoredTensor, type WeightInfo, type WeightSource } from '../weights.js';
import { specFromHfConfig } from './config.js';
import { INDEX_FILE, openSafetensorsFolder, SINGLE_FILE, type HfStoredValues, type StoredHfTensor } from './safetensors-files.js';
import { DEFAULT_NAMING, hfLayout, toCanonical, type HfNaming, type HfTensor } from './tensor-map.js';

export interface HfFolder {
  dir: string;
  spec: ModelSpec;
  /** config.json's model_type */
  modelType: string;
  weights: WeightSource;
  /** what B's HfTokenizer takes: parsed tokenizer.json and tokenizer_config.json */
  tokenizerFiles: { tokenizer: unknown; config?: unknown; source: string };
  chatTemplate?: string;
  /** every regular file of the folder (names relative to dir, sorted): what the registry stores and fingerprints */
  files: string[];
}

/** files a checkpoint folder may hold besides config, tokenizer and weights (read or harmless) */
const KNOWN_FILES = new Set([
  'generation_config.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'chat_template.jinja',
  'chat_template.json',
  'vocab.json',
  'merges.txt',
  'tokenizer.model',
  'README.md',
  'LICENSE',
  'LICENSE.txt',
  'LICENSE.md',
  'USE_POLICY.md',
  'NOTICE',
  'NOTICE.txt',
]);

/** tensors checkpoints carry that are not weights (causal-mask buffers, cached rope frequencies) */
const BUFFERS = [/(^|\.)attn\.(masked_)?bias$/, /\.rotary_emb\.inv_freq$/];
/** Gemma 3's multimodal checkpoints: the vision side is not part of the language model */
const VISION = /^(model\.)?(vision_tower|multi_modal_projector)\./;

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${path} is missing`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

/** where the language model's tensors live in this checkpoint */
function namingOf(spec: ModelSpec, stored: Map<string, StoredHfTensor>): HfNaming {
  if (spec.family === 'gpt2') return stored.has('wte.weight') ? { model: '', lmHead: 'lm_head.weight' } : DEFAULT_NAMING.gpt2;
  if (stored.has('model.language_model.embed_tokens.weight')) return { model: 'model.language_model.', lmHead: 'lm_head.weight' };
  if (stored.has('language_model.model.embed_tokens.weight'))
    return { model: 'language_model.model.', lmHead: 'language_model.lm_head.weight' };
  return DEFAULT_NAMING.llama;
}

export function hfChatTemplate(config: unknown, jinja: string | undefined, source: string): string | undefined {
  if (jinja !== undefined) return jinja;
  const t = (config as { chat_template?: unknown } | undefined)?.chat_template;
  if (t === undefined || t === null) return undefined;
  if (typeof t === 'string') return t;
  // a list of named templates: the default one is the chat template
  if (Array.isArray(t)) {
    const d = t.find((x: { name?: unknown }) => x?.name === 'default') as { template?: unknown } | undefined;
    if (typeof d?.template === 'string') return d.template;
  }
  throw new Error(`${source}: chat_template must be a string or a list with a "default" entry`);
}

/** Whether a file of this name may be part of a checkpoint folder (before any byte is read). */
export function isHfFolderFile(name: string): boolean {
  return (
    name === 'config.json' ||
    name === 'tokenizer.json' ||
    name === INDEX_FILE ||
    KNOWN_FILES.has(name) ||
    /^[A-Za-z0-9][A-Za-z0-9._-]*\.safetensors$/.test(name)
  );
}

/**
 * Reads canonical tensors through `readWhole` (one checkpoint tensor) and `split` (into its
 * canonical parts): a fused tensor is read once for all its parts read in a row, the others
 * waiting here (at most one fused tensor's leftovers are kept).
 */
function partsReader<V>(
  dir: string,
  byCanonical: Map<string, HfTensor>,
  readWhole: (t: HfTensor) => Promise<V>,
  split: (t: HfTensor, whole: V) => Map<string, V>,
): (name: string) => Promise<V> {
  const pending = new Map<string, V>();
  return async (name) => {
    const t = byCanonical.get(name);
    if (!t) throw new Error(`${dir}: weight "${name}" is not in this model`);
    const waiting = pending.get(name);
    if (waiting !== undefined) {
      pending.delete(name);
      return waiting;
    }
    const whole = await readWhole(t);
    if (t.parts.length === 1 && !t.conv1d) return whole;
    const parts = split(t, whole);
    pending.clear();
    for (const [part, values] of parts) if (part !== name) pending.set(part, values);
    return parts.get(name) as V;
  };
}

export async function loadHfFolder(dir: string): Promise<HfFolder> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`${dir}: not a readable folder (${(e as Error).message})`, { cause: e });
  }
  const names = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
  const configPath = join(dir, 'config.json');
  const { spec, modelType } = specFromHfConfig(await readJson(configPath), configPath);
  if (!names.has('tokenizer.json')) throw new Error(`${join(dir, 'tokenizer.json')} is missing (the model's tokenizer)`);
  const hasIndex = names.has(INDEX_FILE);
  if (!hasIndex && !names.has(SINGLE_FILE)) throw new Error(`${dir}: no ${SINGLE_FILE} or ${INDEX_FILE}`);

  const folder = await openSafetensorsFolder(dir, hasIndex);
  const modelFiles = new Set(['config.json', 'tokenizer.json', ...folder.files, ...(hasIndex ? [INDEX_FILE] : [])]);
  const unknown = entries
    .filter((e) => !e.name.startsWith('.') && !modelFiles.has(e.name) && !(e.isFile() && KNOWN_FILES.has(e.name)))
    .map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
  if (unknown.length > 0) {
    throw new Error(
      `${dir}: unexpected ${unknown.length === 1 ? 'entry' : 'entries'} ${unknown.join(', ')} (weights are read only from ${hasIndex ? `the shards ${INDEX_FILE} names` : SINGLE_FILE}; remove what is not part of the model)`,
    );
  }

  const naming = namingOf(spec, folder.tensors);
  const layout = hfLayout(spec, naming);
  const byCanonical = new Map<string, HfTensor>();
  for (const t of layout) {
    const stored = folder.tensors.get(t.name);
    if (!stored) throw new Error(`${dir}: tensor "${t.name}" is missing (config.json describes a ${modelType} model that needs it)`);
    const where = join(dir, stored.file);
    if (stored.shape.length !== t.dims.length || stored.shape.some((d, i) => d !== t.dims[i])) {
      throw new Error(`${where}: tensor "${t.name}" has shape [${stored.shape.join(', ')}], config.json implies [${t.dims.join(', ')}]`);
    }
    if (!['F32', 'F16', 'BF16'].includes(stored.dtype))
      throw new Error(`${where}: tensor "${t.name}" has dtype ${stored.dtype} (supported: F32, F16, BF16)`);
    for (const p of t.parts) byCanonical.set(p.canonical, t);
  }
  const used = new Set(layout.map((t) => t.name));
  const tiedHead = spec.embedding.tied ? naming.lmHead : undefined;
  const leftover = [...folder.tensors.keys()].filter(
    (n) => !used.has(n) && n !== tiedHead && !BUFFERS.some((b) => b.test(n)) && !(modelType === 'gemma3' && VISION.test(n)),
  );
  if (leftover.length > 0) {
    throw new Error(
      `${dir}: tensors a ${modelType} model does not use: ${leftover.slice(0, 6).join(', ')}${leftover.length > 6 ? ', …' : ''} (a config.json field may be missing or wrong)`,
    );
  }

  const storedOf = (t: HfTensor): StoredDType => (folder.tensors.get(t.name)?.dtype.toLowerCase() ?? 'f32') as StoredDType;
  const infos: WeightInfo[] = expectedWeights(spec).map(({ name, dims }) => ({
    name,
    dims,
    stored: storedOf(byCanonical.get(name) as HfTensor),
  }));
  const dimsOf = new Map(infos.map((i) => [i.name, i.dims]));
  const readF32 = partsReader(dir, byCanonical, (t) => folder.readF32(t.name), toCanonical);
  const readStored = partsReader(
    dir,
    byCanonical,
    (t) => folder.readStored(t.name),
    (t, v) => new Map([...toCanonical(t, v.data)].map(([name, data]) => [name, { ...v, data } as HfStoredValues])),
  );
  const weights: WeightSource = {
    list: () => infos.map((i) => ({ ...i, dims: [...i.dims] })),
    readF32,
    readStored: async (name) => ({ ...(await readStored(name)), dims: [...(dimsOf.get(name) ?? [])] }) as StoredTensor,
  };

  const tokenizerConfigPath = join(dir, 'tokenizer_config.json');
  const tokenizerConfig = names.has('tokenizer_config.json') ? await readJson(tokenizerConfigPath) : undefined;
  const jinja = names.has('chat_template.jinja') ? await readFile(join(dir, 'chat_template.jinja'), 'utf8') : undefined;
  const chatTemplate = hfChatTemplate(tokenizerConfig, jinja, tokenizerConfigPath);
  // generation_config.json changes no math, but a damaged one means a damaged folder
  for (const name of ['generation_config.json', 'special_tokens_map.json']) if (names.has(name)) await readJson(join(dir, name));
  // dot entries (a hub download's .gitattributes, .cache/) are not part of the model, nor of its fingerprint
  const files = entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  return {
    dir,
    spec,
    modelType,
    weights,
    tokenizerFiles: {
      tokenizer: await readJson(join(dir, 'tokenizer.json')),
      ...(tokenizerConfig !== undefined ? { config: tokenizerConfig } : {}),
      source: dir,
    },
    ...(chatTemplate !== undefined ? { chatTemplate } : {}),
    files,
  };
}
