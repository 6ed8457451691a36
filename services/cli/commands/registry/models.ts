/** `ptune models add` and `ptune models list` (joining the `models` group the engine commands share). */
import { open, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { ListBaseModelsResponseSchema, RegisterBaseModelResponseSchema, WeightsFormat, type RegisterBaseModelRequestSchema } from '../../../gen/ptune/v1/registry_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { clientCommand, printJson, printTable, shortSha, withRegistry, type ClientFlags } from './client.js';
import { uploadProgress } from '../upload-progress.js';

const CHUNK = 1024 * 1024;

export function registerModelCommands(program: Command): void {
  const models = program.commands.find((c) => c.name() === 'models') ?? program.command('models').description('model files');

  clientCommand(models, 'add', 'register a base model from a GGUF file (architecture and tokenizer are read from it)')
    .requiredOption('--name <name>', 'model name, e.g. stories260k')
    .requiredOption('--file <file.gguf>', 'weights file')
    .option('--created-by <who>', 'identity recorded with the model', process.env.USER ?? '')
    .action(async (flags: ClientFlags & { name: string; file: string; createdBy: string }) => {
      const size = (await stat(flags.file).catch(() => undefined))?.size;
      if (size === undefined) throw new Error(`--file ${flags.file} does not exist`);
      const progress = flags.json ? undefined : uploadProgress(`uploading ${flags.file}`, size);
      const response = await withRegistry(flags, (client) => client.registerBaseModel(weightsUpload(flags.name, flags.file, size, flags.createdBy, (n) => progress?.advance(n)))).finally(() => progress?.stop());
      if (flags.json) return printJson(RegisterBaseModelResponseSchema, response);
      const m = response.baseModel;
      const a = m?.architecture;
      process.stdout.write(
        `${response.created ? 'registered' : 'already registered:'} ${m?.name} — ${a?.family}, hidden ${a?.hiddenSize}, ${a?.numLayers} layers, ` +
          `${a?.numAttentionHeads}/${a?.numKeyValueHeads} heads, vocab ${a?.vocabSize}, context ${a?.contextLength}, sha256 ${m?.fingerprintSha256}\n`,
      );
    });

  clientCommand(models, 'list', 'list registered base models').action(async (flags: ClientFlags) => {
    const response = await withRegistry(flags, async (client) => {
      const all = await client.listBaseModels({ pageSize: 1000 });
      for (let token = all.nextPageToken; token !== ''; ) {
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
        return [m.name, a?.family ?? '', String(a?.hiddenSize), String(a?.numLayers), `${a?.numAttentionHeads}/${a?.numKeyValueHeads}`, String(a?.vocabSize),
          String(a?.contextLength), WeightsFormat[m.weightsFormat] ?? '', `${m.weightsSizeBytes}`, shortSha(m.fingerprintSha256)];
      }),
    );
  });
}

export async function* weightsUpload(name: string, file: string, size: number, createdBy: string, onChunk?: (bytes: number) => void): AsyncGenerator<MessageInitShape<typeof RegisterBaseModelRequestSchema>> {
  yield { part: { case: 'header', value: { name, sizeBytes: BigInt(size), createdBy } } };
  const handle = await open(file, 'r');
  try {
    for (let at = 0; at < size; at += CHUNK) {
      const buffer = Buffer.alloc(Math.min(CHUNK, size - at));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
      yield { part: { case: 'chunk', value: buffer.subarray(0, bytesRead) } };
      onChunk?.(bytesRead);
    }
  } finally {
    await handle.close();
  }
}
