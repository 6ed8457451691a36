/**
 * Turns generated token ids into streamed text: each token's text is the growth of the decoded
 * completion, except what might still change — an incomplete UTF-8 character (decoded as U+FFFD)
 * and a tail that could be the start of a stop string — which is held back until the next token
 * settles it. When a stop string appears the text is cut before it and the stream stops.
 */
import type { TextTokenizer } from '../tokenizer/text-tokenizer.js';

export interface TextStep {
  /** text that became final with this token ('' when held back) */
  text: string;
  /** a stop string appeared: `text` ends right before it and nothing follows */
  stopped: boolean;
}

export class TextStream {
  private readonly ids: number[] = [];
  private emitted = 0;

  constructor(
    private readonly tokenizer: Pick<TextTokenizer, 'decode'>,
    private readonly stops: readonly string[],
  ) {}

  push(id: number): TextStep {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids);
    const longest = Math.max(0, ...this.stops.map((s) => s.length));
    let cut = -1;
    for (const stop of this.stops) {
      const at = text.indexOf(stop, Math.max(0, this.emitted - longest + 1));
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) return { text: this.take(text, Math.max(cut, this.emitted)), stopped: true };
    return { text: this.take(text, text.length - this.heldBack(text)), stopped: false };
  }

  /** The held-back text, at the end of a stream that did not stop on a stop string. */
  flush(): string {
    const text = this.tokenizer.decode(this.ids);
    return this.take(text, text.length);
  }

  private take(text: string, end: number): string {
    if (end <= this.emitted) return '';
    const out = text.slice(this.emitted, end);
    this.emitted = end;
    return out;
  }

  /** Length of the tail that may still change: a replacement character or a stop string's beginning. */
  private heldBack(text: string): number {
    let hold = text.endsWith('\uFFFD') ? 1 : 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, text.length); k > hold; k--) {
        if (text.endsWith(stop.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return Math.min(hold, text.length - this.emitted);
  }
}
