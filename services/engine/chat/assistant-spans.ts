/**
 * Which text of a rendered conversation the loss covers: each assistant message's content and the
 * end-of-turn token the template writes right after it (so the model learns to stop), nothing else.
 *
 * The conversation is rendered twice: as is, and with every assistant content wrapped in two
 * private-use sentinel characters. Removing the sentinels must give back the plain rendering (then
 * the sentinels mark exactly where each content landed, whatever the template does around it);
 * templates that trim contents (Gemma, Llama 3) are followed by trimming them first.
 */
import { ChatTemplateError, type ChatMessage, type ChatTemplate } from './template.js';

const START = '\uE000';
const END = '\uE001';

export interface ChatSegment {
  text: string;
  /** the loss covers this text */
  trained: boolean;
}

function render(template: ChatTemplate, messages: readonly ChatMessage[], trim: boolean): { plain: string; marked: string } {
  const content = (m: ChatMessage): string => (trim ? m.content.trim() : m.content);
  const plain = template.render(messages.map((m) => (m.role === 'assistant' ? { ...m, content: content(m) } : m)));
  const marked = template.render(messages.map((m) => (m.role === 'assistant' ? { ...m, content: START + content(m) + END } : m)));
  return { plain, marked };
}

/**
 * The rendered conversation cut into untrained and trained segments, in order. `endTokens` are
 * the texts of the tokenizer's control tokens (an end-of-turn marker is one of them).
 */
export function chatSegments(template: ChatTemplate, messages: readonly ChatMessage[], endTokens: readonly string[]): ChatSegment[] {
  for (const m of messages) {
    if (m.content.includes(START) || m.content.includes(END)) {
      throw new ChatTemplateError(`a "${m.role}" message contains U+E000 or U+E001, which ptune reserves to locate assistant turns`);
    }
  }
  const assistants = messages.filter((m) => m.role === 'assistant').length;
  let { plain, marked } = render(template, messages, false);
  if (marked.replaceAll(START, '').replaceAll(END, '') !== plain) ({ plain, marked } = render(template, messages, true));
  if (marked.replaceAll(START, '').replaceAll(END, '') !== plain) {
    throw new ChatTemplateError(
      'the chat template changes assistant contents in a way ptune cannot follow (it must print each content as given, or trimmed)',
    );
  }
  const placed = marked.split(START).length - 1;
  if (placed !== assistants) {
    throw new ChatTemplateError(
      `the chat template printed ${placed} of the ${assistants} assistant messages; the loss needs each one in the text`,
    );
  }
  const ends = [...endTokens].filter((t) => t.length > 0).sort((a, b) => b.length - a.length);
  const segments: ChatSegment[] = [];
  const push = (text: string, trained: boolean): void => {
    if (text.length > 0) segments.push({ text, trained });
  };
  let at = 0;
  for (;;) {
    const start = marked.indexOf(START, at);
    if (start < 0) break;
    const end = marked.indexOf(END, start);
    push(marked.slice(at, start), false);
    let stop = end + END.length;
    const endToken = ends.find((t) => marked.startsWith(t, stop));
    if (endToken) stop += endToken.length;
    push(marked.slice(start + START.length, end) + marked.slice(end + END.length, stop), true);
    at = stop;
  }
  push(marked.slice(at), false);
  return segments;
}
