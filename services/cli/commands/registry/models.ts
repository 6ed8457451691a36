/** `ptune models add` and `ptune models list` (joining the `models` group the engine commands share). */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ListBaseModelsResponseSchema, RegisterBaseModelResponseSchema, WeightsFormat } from '../../../gen/ptune/v1/registry_pb.js';
import { modelUpload, type LocalFile, type LocalModel } from '../../../client/index.js';
import { clientCommand, printJson, printTable, shortSha, withRegistry, type ClientFlags } from './client.js';
import { uploadProgress } from '../upload-progress.js';

export function registerModelCommands(program: Command): void {
  const models = program.commands.find((c) => c.name() === 'models') ?? program.command('models').description('model files');

  clientCommand(
    models,
    'add',
    'register a base model: a GGUF file, or a Hugging Face checkpoint folder (every file is uploaded and checked)',
  )
    .requiredOption('--name <name>', 'model name, e.g. stories260k')
    .option('--file <file.gguf>', 'a GGUF file (architecture and tokenizer are read from it)')
    .option(
      '--dir <folder>',
      'a Hugging Face folder: config.json, tokenizer.json, model.safetensors or shards + model.safetensors.index.json, [tokenizer_config.json, generation_config.json]',
    )
    .option('--created-by <who>', 'identity recorded with the model', process.env.USER ?? '')
    .action(async (flags: ClientFlags & { name: string; file?: string; dir?: string; createdBy: string }) => {
      if ((flags.file === undefined) === (flags.dir === undefined)) throw new Error('give exactly one of --file FILE.gguf or --dir FOLDER');
      const source = flags.dir !== undefined ? await folderFiles(flags.dir) : await singleFile(flags.file!);
      const size = source.files.reduce((sum, f) => sum + f.size, 0);
      const progress = flags.json ? undefined : uploadProgress(`uploading ${flags.dir ?? flags.file}`, size);
      const upload = modelUpload(flags.name, source, flags.createdBy, (n) => progress?.advance(n));
      const response = await withRegistry(flags, (client) => client.registerBaseModel(upload)).finally(() => progress?.stop());
      if (flags.json) return printJson(RegisterBaseModelResponseSchema, response);
      const m = response.baseModel;
      const a = m?.architecture;
      process.stdout.write(
        `${response.created ? 'registered' : 'already registered:'} ${m?.name} — ${a?.family}, hidden ${a?.hiddenSize}, ${a?.numLayers} layers, ` +
          `${a?.numAttentionHeads}/${a?.numKeyValueHeads} heads, vocab ${a?.vocabSize}, context ${a?.contextLength}, ` +
          `${WeightsFormat[m?.weightsFormat ?? 0]} (${m?.files.length} files), sha256 ${m?.fingerprintSha256}\n`,
      );
    });

  clientCommand(models, 'list', 'list registered base models').action(async (flags: ClientFlags) => {
    const response = await withRegistry(flags, async (client) => {
      const all = await client.listBaseModels({ pageSize: 1000 });
      for (let token = all.nextPageToken; token !== '';) {
        const page = await client.listBaseModels({ pageSize: 1000, pageToken: token });
        all.baseModels.push(...page.baseModels);
        token = page.nextPageToken;
      }
      all.nextPageToken = '';
      return all;
    });
    if (flags.json) return printJson(ListBaseModelsResponseSchema, response);
    printTable(
      ['name', 'family', 'hidden', 'layers', 'heads/kv', 'vocab', 'context', 'format', 'size', 'sha256'],
      response.baseModels.map((m) => {
        const a = m.architecture;
        return [
          m.name,
          a?.family ?? '',
          String(a?.hiddenSize),
          String(a?.numLayers),
          `${a?.numAttentionHeads}/${a?.numKeyValueHeads}`,
          String(a?.vocabSize),
          String(a?.contextLength),
          WeightsFormat[m.weightsFormat] ?? '',
          `${m.weightsSizeBytes}`,
          shortSha(m.fingerprintSha256),
        ];
      }),
    );
  });
}

async function singleFile(file: string): Promise<LocalModel> {
  const size = (await stat(file).catch(() => undefined))?.size;
  if (size === undefined) throw new Error(`--file ${file} does not exist`);
  return { folder: false, files: [{ path: path.basename(file), file, size }] };
}

async function folderFiles(dir: string): Promise<LocalModel> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => {
    throw new Error(`--dir ${dir} is not a readable folder`);
  });
  const files: LocalFile[] = [];
  // dot entries are not the model: `huggingface-cli download --local-dir` leaves .gitattributes and .cache/ (the engine skips them too)
  for (const entry of entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const file = path.join(dir, entry.name);
    if (!entry.isFile()) throw new Error(`--dir ${dir}: ${entry.name} is not a regular file (a checkpoint folder is flat)`);
    files.push({ path: entry.name, file, size: (await stat(file)).size });
  }
  return { folder: true, files };
}
