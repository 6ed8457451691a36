/**
 * A model's chat template (Jinja, from tokenizer_config.json `chat_template` or GGUF
 * `tokenizer.chat_template`) rendered through @huggingface/jinja.
 *
 * The environment is the library's usual one except that `strftime_now` is left undefined: a
 * template that prints today's date (Llama 3.x) then prints its own fixed fallback, so the same
 * data gives the same tokens every day (a checkpoint is bound to its data's digest).
 */
import { Environment, Interpreter, parse, tokenize } from '@huggingface/jinja';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface RenderOptions {
  /** end with the header of an assistant turn to be generated */
  addGenerationPrompt?: boolean;
}

/** the token texts a template refers to by name */
export interface TemplateTokens {
  bos_token?: string;
  eos_token?: string;
}

export class ChatTemplateError extends Error {}

function range(start: number, stop?: number, step = 1): number[] {
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0) throw new Error('range() step must not be zero');
  const out: number[] = [];
  for (let i = from; step > 0 ? i < to : i > to; i += step) out.push(i);
  return out;
}

export class ChatTemplate {
  private readonly program: ReturnType<typeof parse>;

  /** `origin` names where the template came from, for errors */
  constructor(
    readonly source: string,
    private readonly tokens: TemplateTokens,
    readonly origin: string,
  ) {
    try {
      this.program = parse(tokenize(source, { lstrip_blocks: true, trim_blocks: true }));
    } catch (e) {
      throw new ChatTemplateError(`${origin}: the chat template does not parse (${(e as Error).message})`, { cause: e });
    }
  }

  /** the conversation as the model sees it; a template error (e.g. a role it rejects) throws ChatTemplateError */
  render(messages: readonly ChatMessage[], options: RenderOptions = {}): string {
    const env = new Environment();
    const globals: Record<string, unknown> = {
      true: true,
      false: false,
      none: null,
      True: true,
      False: false,
      None: null,
      raise_exception: (message: unknown) => {
        throw new ChatTemplateError(String(message));
      },
      range,
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: this.tokens.bos_token ?? '',
      eos_token: this.tokens.eos_token ?? '',
    };
    for (const [name, value] of Object.entries(globals)) env.set(name, value);
    try {
      const result = new Interpreter(env).run(this.program);
      return String(result.value);
    } catch (e) {
      throw new ChatTemplateError(`the chat template (${this.origin}) failed: ${(e as Error).message}`, { cause: e });
    }
  }
}
