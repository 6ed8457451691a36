import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chatSegments } from './assistant-spans.js';
import { ChatTemplate, ChatTemplateError } from './template.js';

const fixture = (file: string): string => readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8');
const turns = [
  { role: 'user', content: 'Hi there' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: '2+2?' },
  { role: 'assistant', content: '4' },
];

describe('chatSegments', () => {
  it('trains on each assistant content and the end-of-turn token right after it', () => {
    const t = new ChatTemplate(fixture('Qwen-Qwen2.5-7B-Instruct.jinja'), {}, 'qwen');
    const segments = chatSegments(t, turns, ['<|im_start|>', '<|im_end|>', '<|endoftext|>']);
    expect(segments.map((s) => s.text).join('')).toBe(t.render(turns));
    expect(segments.filter((s) => s.trained).map((s) => s.text)).toEqual(['Hello!<|im_end|>', '4<|im_end|>']);
    expect(segments.at(-1)).toEqual({ text: '\n', trained: false });
  });

  it('follows a template that trims contents (Gemma), training on the trimmed text', () => {
    const t = new ChatTemplate(fixture('google-gemma-2-2b-it.jinja'), { bos_token: '<bos>' }, 'gemma');
    const spaced = turns.map((m) => ({ ...m, content: `  ${m.content}\n` }));
    const segments = chatSegments(t, spaced, ['<bos>', '<start_of_turn>', '<end_of_turn>']);
    expect(segments.map((s) => s.text).join('')).toBe(t.render(spaced));
    expect(segments.filter((s) => s.trained).map((s) => s.text)).toEqual(['Hello!<end_of_turn>', '4<end_of_turn>']);
  });

  it('keeps only what follows the content directly: Mistral Nemo answers end with EOS', () => {
    const t = new ChatTemplate(fixture('mistralai-Mistral-Nemo-Instruct-2407.jinja'), { bos_token: '<s>', eos_token: '</s>' }, 'nemo');
    const segments = chatSegments(t, turns, ['<s>', '</s>']);
    expect(segments).toEqual([
      { text: '<s>[INST]Hi there[/INST]', trained: false },
      { text: 'Hello!</s>', trained: true },
      { text: '[INST]2+2?[/INST]', trained: false },
      { text: '4</s>', trained: true },
    ]);
  });

  it('refuses a template that rewrites contents or drops an assistant turn', () => {
    const clipping = new ChatTemplate('{% for m in messages %}{{ m.content[:3] }}{% endfor %}', {}, 'clipping');
    expect(() => chatSegments(clipping, turns, [])).toThrow(ChatTemplateError);
    const forgetful = new ChatTemplate(
      '{% for m in messages %}{% if not loop.last %}{{ m.content }}{% endif %}{% endfor %}',
      {},
      'forgetful',
    );
    expect(() => chatSegments(forgetful, turns, [])).toThrow(/printed 1 of the 2 assistant messages/);
  });
});
