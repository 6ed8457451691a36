/** llama.cpp's token types (GGUF `tokenizer.ggml.token_type`), shared by every tokenizer source */
export const TokenType = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;
