import type { Dtype } from '../gen/ptune/v1/common_pb.js';
import type { PromptVersion } from '../gen/ptune/v1/registry_pb.js';
import { peftConfigFor } from './peft-config.js';
import { promptValues } from './prompt-tensor.js';
import type { Selection } from './resolve.js';
import { servePrompt, type ServingStores } from './serve-prompt.js';

/** A version as a PEFT adapter directory's two files (adapter_config.json + adapter_model.safetensors). */
export async function exportPeft(
  stores: ServingStores,
  selection: Selection,
  dtype: Dtype,
): Promise<{ version: PromptVersion; adapterConfigJson: Uint8Array; adapterModelSafetensors: Uint8Array }> {
  const served = await servePrompt(stores, selection, dtype, '', 'dtype');
  const { version } = served;
  const model = await stores.prisma.baseModel.findUniqueOrThrow({ where: { name: version.baseModel?.name ?? '' } });
  const config = peftConfigFor({
    method: version.method,
    numVirtualTokens: version.numVirtualTokens,
    model,
    init: { method: version.init?.method ?? 0, text: version.init?.text ?? '' },
    promptEmbeddings: promptValues(served.payload ?? new Uint8Array()),
  });
  return {
    version,
    adapterConfigJson: new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`),
    adapterModelSafetensors: served.payload ?? new Uint8Array(),
  };
}
