/** The chat template of a model, bound to its tokenizer's BOS/EOS texts. */
import type { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { ChatTemplate } from './template.js';

export function modelChatTemplate(source: string, tokenizer: TextTokenizer, origin: string): ChatTemplate {
  return new ChatTemplate(
    source,
    {
      bos_token: tokenizer.bosId === undefined ? undefined : tokenizer.tokenText(tokenizer.bosId),
      eos_token: tokenizer.tokenText(tokenizer.eosId),
    },
    origin,
  );
}

/** the texts of the tokenizer's control tokens (chat markers, BOS, EOS …) */
export function controlTokenTexts(tokenizer: TextTokenizer): string[] {
  return [...tokenizer.specialIds].map((id) => tokenizer.tokenText(id));
}
