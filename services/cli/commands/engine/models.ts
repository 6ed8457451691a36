/** `ptune models generate`: write a seeded random-weight Llama model (with its tokenizer) as GGUF. */
import { Option, type Command } from 'commander';
import { modelPresets, writeGeneratedModel, type PresetName } from '../../../engine/index.js';
import { integerAtLeast, requireWritableTarget } from './options.js';

interface ModelsGenerateFlags {
  preset: PresetName;
  seed: number;
  out: string;
  json?: boolean;
}

export function registerModels(program: Command): void {
  const models = program.commands.find((c) => c.name() === 'models') ?? program.command('models').description('model files');
  models
    .command('generate')
    .description('write a seeded Llama-family model with random weights (tests, demo, benchmarks)')
    .addOption(new Option('--preset <name>', 'model size').choices(Object.keys(modelPresets)).makeOptionMandatory())
    .option('--seed <n>', 'weights seed', integerAtLeast(0), 0)
    .requiredOption('--out <file>', 'GGUF file to write')
    .option('--json', 'print JSON instead of text')
    .action(async (f: ModelsGenerateFlags) => {
      await requireWritableTarget(f.out, '--out');
      const written = await writeGeneratedModel(f.preset, f.seed, f.out);
      if (f.json) {
        process.stdout.write(
          `${JSON.stringify({ path: written.path, preset: f.preset, seed: f.seed, parameters: written.parameterCount, bytes: written.bytes, sha256: written.fingerprint, config: written.config })}\n`,
        );
        return;
      }
      process.stdout.write(
        `wrote ${written.path}: preset ${f.preset}, seed ${f.seed}, ${written.parameterCount} parameters, ` +
          `${written.bytes} bytes, sha256 ${written.fingerprint}\n`,
      );
    });
}
