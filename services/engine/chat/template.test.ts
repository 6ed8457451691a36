/**
 * The five real chat templates (fixtures/, copies of ../shared/models/vocab/templates) rendered
 * against strings written by reading each template by hand.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ChatTemplate, ChatTemplateError, type ChatMessage, type TemplateTokens } from './template.js';

function template(file: string, tokens: TemplateTokens): ChatTemplate {
  return new ChatTemplate(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8'), tokens, file);
}

const system: ChatMessage = { role: 'system', content: 'Be brief.' };
const turns: ChatMessage[] = [
  { role: 'user', content: 'Hi there' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: '2+2?' },
  { role: 'assistant', content: '4' },
];
const question: ChatMessage[] = [{ role: 'user', content: 'Hi' }];

describe('chat templates', () => {
  it('Qwen2.5: im_start/im_end turns, its default system message when none is given', () => {
    const t = template('Qwen-Qwen2.5-7B-Instruct.jinja', { eos_token: '<|im_end|>' });
    expect(t.render([system, ...turns])).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n' +
        '<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n',
    );
    expect(t.render(question, { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
        '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('Llama 3.2: BOS, a system header with the fixed date, trimmed contents, eot_id after each turn', () => {
    const t = template('meta-llama-Llama-3.2-3B-Instruct.jinja', { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>' });
    const untrimmed = turns.map((m) => ({ ...m, content: ` ${m.content}\n` }));
    expect(t.render([system, ...untrimmed])).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n' +
        'Today Date: 26 Jul 2024\n\nBe brief.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>',
    );
    expect(t.render(question, { addGenerationPrompt: true })).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n' +
        'Today Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('Gemma 2: assistant is "model", no system role, roles must alternate', () => {
    const t = template('google-gemma-2-2b-it.jinja', { bos_token: '<bos>', eos_token: '<eos>' });
    expect(t.render(turns)).toBe(
      '<bos><start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n' +
        '<start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>\n',
    );
    expect(t.render(question, { addGenerationPrompt: true })).toBe('<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n');
    expect(() => t.render([system, ...turns])).toThrow(
      new ChatTemplateError('the chat template (google-gemma-2-2b-it.jinja) failed: System role not supported'),
    );
    expect(() => t.render([turns[0], turns[0]])).toThrow(/Conversation roles must alternate user\/assistant\/user\/assistant/);
  });

  it('Phi-3.5: <|role|> headers, <|end|> after each turn, EOS after the last unless generating', () => {
    const t = template('microsoft-Phi-3.5-mini-instruct.jinja', { bos_token: '<s>', eos_token: '<|endoftext|>' });
    expect(t.render([system, ...turns])).toBe(
      '<|system|>\nBe brief.<|end|>\n<|user|>\nHi there<|end|>\n<|assistant|>\nHello!<|end|>\n' +
        '<|user|>\n2+2?<|end|>\n<|assistant|>\n4<|end|>\n<|endoftext|>',
    );
    expect(t.render(question, { addGenerationPrompt: true })).toBe('<|user|>\nHi<|end|>\n<|assistant|>\n');
  });

  it('Mistral Nemo: [INST] turns, EOS after answers, the system message only inside a final user turn', () => {
    const t = template('mistralai-Mistral-Nemo-Instruct-2407.jinja', { bos_token: '<s>', eos_token: '</s>' });
    expect(t.render([system, ...turns])).toBe('<s>[INST]Hi there[/INST]Hello!</s>[INST]2+2?[/INST]4</s>');
    expect(t.render([system, ...question], { addGenerationPrompt: true })).toBe('<s>[INST]Be brief.\n\nHi[/INST]');
    expect(() => t.render([{ role: 'narrator', content: 'x' }, ...turns])).toThrow(/conversation roles must alternate/);
  });

  it('refuses a template that does not parse, naming where it came from', () => {
    expect(() => new ChatTemplate('{% if %}', {}, 'tokenizer_config.json chat_template')).toThrow(
      /^tokenizer_config\.json chat_template: the chat template does not parse/,
    );
  });
});
