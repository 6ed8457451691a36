import { modelChatTemplate } from '../../engine/chat/model-template.js';
import type { ChatTemplate } from '../../engine/chat/template.js';
import { GgufMetadata } from '../../engine/model/gguf-metadata.js';
import { parseGgufHeader } from '../../engine/model/gguf-parse.js';
import { ggufChatTemplate, textTokenizerFromMetadata } from '../../engine/tokenizer/gguf-tokenizer.js';
import type { TextTokenizer } from '../../engine/tokenizer/text-tokenizer.js';
import type { BlobStore } from '../../storage/index.js';

/** what encoding a dataset for a model needs: its tokenizer, and its chat template when it has one */
export interface ModelText {
  tokenizer: TextTokenizer;
  chatTemplate?: ChatTemplate;
}

const cache = new Map<string, Promise<ModelText>>();
const CACHE_ENTRIES = 4;

/**
 * The tokenizer and chat template inside a GGUF base model (read from its metadata only), cached by
 * blob key. A cache, not state: a restart just reads it again.
 */
export function modelText(blobs: BlobStore, weightsBlobKey: string): Promise<ModelText> {
  let text = cache.get(weightsBlobKey);
  if (!text) {
    text = blobs.get(weightsBlobKey).then((bytes) => {
      const meta = new GgufMetadata(parseGgufHeader(bytes, weightsBlobKey).metadata, weightsBlobKey);
      const tokenizer = textTokenizerFromMetadata(meta, weightsBlobKey);
      const template = ggufChatTemplate(meta);
      if (template === undefined) return { tokenizer };
      return { tokenizer, chatTemplate: modelChatTemplate(template, tokenizer, `${weightsBlobKey} tokenizer.chat_template`) };
    });
    text.catch(() => cache.delete(weightsBlobKey));
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(weightsBlobKey, text);
  }
  return text;
}
