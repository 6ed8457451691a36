/**
 * Splits text around the literal text of added tokens before any model sees it, the way llama.cpp
 * (and Hugging Face's added-vocabulary pass) do: longest token text first, every occurrence in the
 * text that is still raw. Control tokens are matched only when asked (`parseSpecial`); user-defined
 * tokens always are.
 */
import { TokenType } from './token-type.js';

export type Fragment = { text: string } | { id: number };

export interface AddedToken {
  id: number;
  text: string;
  control: boolean;
}

export class SpecialSplitter {
  private readonly tokens: AddedToken[];

  constructor(tokens: readonly AddedToken[]) {
    this.tokens = tokens.filter((t) => t.text.length > 0).sort((a, b) => b.text.length - a.text.length || a.id - b.id);
  }

  split(text: string, parseSpecial: boolean): Fragment[] {
    let fragments: Fragment[] = text.length > 0 ? [{ text }] : [];
    for (const token of this.tokens) {
      if (token.control && !parseSpecial) continue;
      const out: Fragment[] = [];
      for (const f of fragments) {
        if (!('text' in f) || !f.text.includes(token.text)) {
          out.push(f);
          continue;
        }
        const parts = f.text.split(token.text);
        parts.forEach((part, i) => {
          if (i > 0) out.push({ id: token.id });
          if (part.length > 0) out.push({ text: part });
        });
      }
      fragments = out;
    }
    return fragments;
  }
}

/** the splitter over a vocabulary's control and user-defined tokens, and the control ids */
export function addedTokenSplitter(
  texts: readonly string[],
  types: readonly number[],
): { splitter: SpecialSplitter; controlIds: Set<number> } {
  const added: AddedToken[] = [];
  const controlIds = new Set<number>();
  types.forEach((type, id) => {
    const control = type === TokenType.control;
    if (control) controlIds.add(id);
    if (control || type === TokenType.userDefined) added.push({ id, text: texts[id], control });
  });
  return { splitter: new SpecialSplitter(added), controlIds };
}
