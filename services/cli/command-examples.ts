/**
 * Usage examples shown under every command's --help, kept in one table so that each command module
 * stays about what the command does. `addCommandExamples` refuses a key that names no command, so a
 * renamed command cannot leave stale examples behind (the CLI help test runs it).
 */
import type { Command } from 'commander';

const J = '3f2a9c1e-5b7d-4e21-9a0c-1d2e3f4a5b6c';

export const COMMAND_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  tune: [
    'ptune tune --model ../shared/models/stories260K.gguf --train examples/feelings/train.jsonl --eval examples/feelings/eval.jsonl --out feelings.safetensors',
    'ptune tune --model m.gguf --train t.jsonl --eval e.jsonl --method p-tuning --encoder lstm --steps 500 --json --out p.safetensors',
  ],
  eval: ['ptune eval --model m.gguf --data examples/feelings/eval.jsonl --prompt feelings.safetensors --json'],
  generate: [
    'ptune generate --model .ptune/models/demo.gguf --prompt feelings.safetensors --text "Tom lost the red ball. He felt" --max-tokens 8',
    'ptune generate --server 127.0.0.1:50051 --task default/feelings --alias production --text "Tom lost the red ball. He felt" --max-tokens 8',
  ],
  score: [
    'ptune score --task default/feelings --alias production --text "Tom lost the red ball. He felt" --candidate " sad" --candidate " happy"',
  ],
  infer: [
    'ptune infer --model stories260k --registry coordinator:50051 --model-path stories260K.gguf   # gRPC :50052, OpenAI-compatible :8080/v1',
    'PTUNE_TOKEN=ptk_… PTUNE_WORKER_TOKEN=ptk_… ptune infer --model demo --registry 10.0.0.5:50051 --host 0.0.0.0 --slots 16',
  ],
  'models generate': ['ptune models generate --preset demo --seed 0 --out demo.gguf'],
  'models add': ['ptune models add --name stories260k --file ../shared/models/stories260K.gguf'],
  'models list': ['ptune models list', 'ptune models list --json'],
  serve: [
    'ptune serve                                  # 127.0.0.1:50051, data in ./.ptune, one in-process worker',
    'npm start                                    # = ptune serve --quickstart: also trains the example prompts once',
    'PTUNE_PORT=6000 PTUNE_DATA_DIR=/tmp/p ptune serve --workers 2',
    'ptune serve --host 0.0.0.0 --metrics-port 9464   # other machines: tokens required (ptune tokens create)',
    'ptune serve --infer-model demo --http-port 8080   # + inference: gRPC InferenceService and http://127.0.0.1:8080/v1',
  ],
  migrate: ['DATABASE_URL=postgres://ptune@db/ptune ptune migrate'],
  'prompts push': [
    'ptune prompts push --task default/feelings --model demo --file feelings.safetensors --alias staging --metric eval_loss=0.31',
  ],
  'prompts list': [
    'ptune prompts list --task default/feelings',
    'ptune prompts list --task feelings --order-by metric:eval_loss --limit 5 --json',
  ],
  'prompts get': [
    'ptune prompts get --task default/feelings --alias production --out feelings.safetensors',
    'ptune prompts get --task feelings --version 3 --dtype f16 --out v3.safetensors',
  ],
  'prompts export': ['ptune prompts export --task default/feelings --version 1 --peft ./feelings-peft'],
  'prompts delete': ['ptune prompts delete --task default/feelings --version 2'],
  'alias set': ['ptune alias set --task default/feelings --alias production --version 2 --expect 1'],
  'alias delete': ['ptune alias delete --task default/feelings --alias staging'],
  'alias history': ['ptune alias history --task default/feelings --alias production'],
  train: [
    'ptune train --model demo --task default/feelings --train examples/feelings/train.jsonl --eval examples/feelings/eval.jsonl --alias production --wait',
    'ptune train --model demo --task feelings --train f.jsonl --eval fe.jsonl --task names --train n.jsonl --eval ne.jsonl --sweep "lr=0.01,0.03;virtual_tokens=4,8" --wait',
  ],
  'jobs list': ['ptune jobs list', 'ptune jobs list --state running --json'],
  'jobs watch': [`ptune jobs watch ${J}`, `ptune jobs watch ${J} --after 120 --json   # resume after event 120, one JSON event a line`],
  'jobs cancel': [`ptune jobs cancel ${J} --reason "wrong dataset"`],
  'jobs plot': [`ptune jobs plot ${J} --out loss.png`, `ptune jobs plot ${J} --out loss.svg --log-scale --width 1200`],
  worker: ['PTUNE_TOKEN=ptk_… ptune worker --coordinator coordinator.ptune:50051 --threads 4 --name "$HOSTNAME"'],
  coordinator: ['DATABASE_URL=postgres://… S3_BUCKET=prompts ptune coordinator --port 50051 --migrate'],
  'tokens create': [
    'ptune tokens create --namespace default --role trainer --description "CI"',
    'ptune tokens create --data-dir .ptune --namespace "*" --role admin   # bootstrap, server stopped',
  ],
  'tokens list': ['ptune tokens list --all'],
  'tokens revoke': ['ptune tokens revoke abcdef123456   # the id: the part between ptk_ and the secret'],
  audit: ['ptune audit --namespace default --limit 20'],
};

const TOP_LEVEL_HELP = `
Quick start (in a clone of the repository):
  $ npm ci && npm start          # serve on 127.0.0.1:50051 and train the example prompts once
  $ npx ptune prompts list --task default/feelings
  $ npx ptune prompts get --task default/feelings --alias production --out feelings.safetensors

Every command has its own help with examples: ptune <command> --help (e.g. ptune train --help).
Client commands take --server (default 127.0.0.1:50051) and --json. Credentials and TLS come from
PTUNE_TOKEN, PTUNE_TLS_CA, PTUNE_TLS_CLIENT_CERT, PTUNE_TLS_CLIENT_KEY or ~/.config/ptune/config.yaml.
`;

/** The command at a space-separated path ("jobs plot"), or undefined. */
function findCommand(program: Command, commandPath: string): Command | undefined {
  let command: Command | undefined = program;
  for (const name of commandPath.split(' ')) command = command?.commands.find((c) => c.name() === name);
  return command;
}

/**
 * Adds the examples under each command's help, and the quick start under `ptune --help`. A partial
 * program (one command's modules) skips the examples of commands it does not hold.
 */
export function addCommandExamples(program: Command, partial = false): void {
  program.addHelpText('after', TOP_LEVEL_HELP);
  for (const [commandPath, examples] of Object.entries(COMMAND_EXAMPLES)) {
    const command = findCommand(program, commandPath);
    if (command === undefined && partial) continue;
    if (command === undefined) throw new Error(`command-examples.ts: no command "ptune ${commandPath}" (renamed? update COMMAND_EXAMPLES)`);
    command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
  }
}
