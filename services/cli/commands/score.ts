/** `ptune score`: the log-likelihood of each candidate continuation of a text, on an inference server. */
import { Option, type Command } from 'commander';
import { toJson } from '@bufbuild/protobuf';
import { ScoreResponseSchema } from '../../gen/ptune/v1/inference_pb.js';
import { DEFAULT_SERVER } from '../../client/index.js';
// the light half of services/inference: no engine is loaded by a client command
import { answeredModelName } from '../../inference/model-name.js';
import { printTable, withClient } from './registry/client.js';
import { addPromptChoiceOptions, collect, promptChoice, type PromptChoiceFlags } from './prompt-choice.js';

interface ScoreFlags extends PromptChoiceFlags {
  server: string;
  text: string[];
  candidate: string[];
  json?: boolean;
}

export function registerScoreCommands(program: Command): void {
  const command = program
    .command('score')
    .description('score candidate continuations (e.g. class labels) after each text; prints each log-probability and the best')
    .addOption(
      new Option('--server <host:port>', 'inference server (ptune serve, or ptune infer)').env('PTUNE_SERVER').default(DEFAULT_SERVER),
    )
    .requiredOption('--text <text>', 'input text (repeat for several)', collect)
    .requiredOption('--candidate <text>', 'a continuation to score (repeat; at least one)', collect)
    .option('--json', 'print JSON instead of a table');
  addPromptChoiceOptions(command).action((flags: ScoreFlags) =>
    withClient(flags, async ({ inference }) => {
      const reply = await inference.score({
        prompt: promptChoice(flags),
        inputs: flags.text.map((value) => ({ kind: { case: 'text', value } })),
        candidates: flags.candidate,
      });
      if (flags.json) return void process.stdout.write(`${JSON.stringify(toJson(ScoreResponseSchema, reply), null, 2)}\n`);
      printTable(
        ['text', ...flags.candidate.map((c) => JSON.stringify(c)), 'best'],
        reply.results.map((r, i) => [flags.text[i], ...r.logProbabilities.map((lp) => lp.toFixed(4)), flags.candidate[r.best]]),
      );
      process.stdout.write(`scored by ${answeredModelName(reply.servedBy)}\n`);
    }),
  );
}
