/** The benchmark's prompt: 20 virtual tokens × 4096 wide, float32 (a 7B-class model's embedding width). */
export const BENCH_PROMPT = { model: 'bench-4096', rows: 20, width: 4096 } as const;

export const GET_PROMPT_REQUEST = {
  prompt: { task: { namespace: 'bench', name: 'get-prompt' }, selector: { case: 'alias' as const, value: 'production' } },
};
