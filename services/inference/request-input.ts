/**
 * A wire request as the engine takes it: the input rendered (chat template) and tokenized, the
 * sampling settings checked against the ranges inference.proto states. Every refusal is
 * INVALID_ARGUMENT naming the request field, raised before anything else happens.
 */
import type { ModelInput, SamplingParams } from '../gen/ptune/v1/inference_pb.js';
import { ChatTemplateError, modelChatTemplate, type LoadedModel, type SamplingSettings } from '../engine/index.js';
import { failedPrecondition, invalidArgument } from '../domain/index.js';

const DEFAULT_MAX_TOKENS = 16;
const MAX_STOP_STRINGS = 4;
const MAX_STOP_CHARS = 64;
const MAX_TEMPERATURE = 2;
const MAX_MESSAGES = 256;
const MAX_ROLE_CHARS = 32;

/** The token ids of `input` (`field`: its path in the request, for errors). */
export function encodeInput(model: LoadedModel, input: ModelInput | undefined, field: string): number[] {
  switch (input?.kind.case) {
    case 'text': {
      const ids = model.tokenizer.encode(input.kind.value);
      // a tokenizer that adds a beginning-of-sequence token gives at least that one
      if (ids.length === 0)
        throw invalidArgument(`${field}.text`, 'is empty and this model adds no beginning-of-sequence token: send some text');
      return ids;
    }
    case 'conversation': {
      const messages = input.kind.value.messages;
      if (messages.length === 0 || messages.length > MAX_MESSAGES)
        throw invalidArgument(`${field}.conversation.messages`, `must hold 1..${MAX_MESSAGES} messages (got ${messages.length})`);
      messages.forEach((m, i) => {
        if (m.role.length === 0 || m.role.length > MAX_ROLE_CHARS)
          throw invalidArgument(`${field}.conversation.messages[${i}].role`, `must be 1..${MAX_ROLE_CHARS} characters`);
      });
      if (model.chatTemplate === undefined)
        throw failedPrecondition(`${field}.conversation: the base model has no chat template; send text instead`, {
          field: `${field}.conversation`,
        });
      const template = modelChatTemplate(model.chatTemplate, model.tokenizer, 'the base model');
      let text: string;
      try {
        text = template.render(messages, { addGenerationPrompt: true });
      } catch (err) {
        if (err instanceof ChatTemplateError) throw invalidArgument(`${field}.conversation`, err.message);
        throw err;
      }
      // the template writes BOS itself where the model wants it; its control tokens are real tokens
      return model.tokenizer.encode(text, { addBos: false, parseSpecial: true });
    }
    default:
      throw invalidArgument(`${field}`, 'set text or conversation');
  }
}

/** The engine's sampling settings from the wire's (defaults applied, ranges checked). */
export function samplingSettings(model: LoadedModel, params: SamplingParams | undefined, field: string): SamplingSettings {
  const p = params ?? { maxTokens: 0, temperature: 0, topP: 0, topK: 0, stop: [], seed: undefined };
  const range = (name: string, value: number, ok: boolean, rule: string): void => {
    if (!ok) throw invalidArgument(`${field}.${name}`, `${value} is out of range: ${rule}`);
  };
  range('temperature', p.temperature, p.temperature >= 0 && p.temperature <= MAX_TEMPERATURE, `0..${MAX_TEMPERATURE} (0 is greedy)`);
  range('top_p', p.topP, p.topP >= 0 && p.topP <= 1, '0..1 (0 means 1: off)');
  range('top_k', p.topK, p.topK <= model.spec.vocabSize, `0..${model.spec.vocabSize} (the vocabulary size; 0 is off)`);
  if (p.stop.length > MAX_STOP_STRINGS)
    throw invalidArgument(`${field}.stop`, `at most ${MAX_STOP_STRINGS} strings (got ${p.stop.length})`);
  p.stop.forEach((s, i) => {
    if (s.length === 0 || s.length > MAX_STOP_CHARS)
      throw invalidArgument(`${field}.stop[${i}]`, `must be 1..${MAX_STOP_CHARS} characters`);
  });
  if (p.seed !== undefined && p.seed > BigInt(Number.MAX_SAFE_INTEGER))
    throw invalidArgument(`${field}.seed`, `${p.seed} is out of range: 0..${Number.MAX_SAFE_INTEGER}`);
  return {
    maxTokens: p.maxTokens === 0 ? DEFAULT_MAX_TOKENS : p.maxTokens,
    temperature: p.temperature,
    topP: p.topP === 0 ? 1 : p.topP,
    topK: p.topK,
    stop: p.stop,
    seed: p.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(p.seed),
  };
}

/** INVALID_ARGUMENT naming max_tokens unless virtual tokens + input + max_tokens fit the context. */
export function checkContext(model: LoadedModel, virtualTokens: number, inputTokens: number, maxTokens: number, field: string): void {
  const context = model.spec.contextLength;
  if (virtualTokens + inputTokens + maxTokens <= context) return;
  throw invalidArgument(
    field,
    `${maxTokens} new tokens do not fit: ${virtualTokens} virtual + ${inputTokens} input tokens leave ` +
      `${Math.max(0, context - virtualTokens - inputTokens)} of the model's context of ${context}`,
  );
}
