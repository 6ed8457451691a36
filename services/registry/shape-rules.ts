import { TuningMethod } from '../gen/ptune/v1/common_pb.js';
import type { BaseModel } from '../storage/index.js';
import { invalidArgument, methodName } from '../domain/index.js';

/** Width of one row of `prompt_embeddings` for a method on a model (PEFT's layouts). */
export function expectedWidth(method: TuningMethod, model: BaseModel): number {
  if (method === TuningMethod.PREFIX_TUNING) {
    const kvDim = model.headDim * model.numKvHeads;
    return model.numLayers * 2 * kvDim;
  }
  return model.hiddenSize;
}

/** Refuses a tensor whose shape does not fit the method and base model; the message says which dim is off. */
export function checkPromptShape(shape: [number, number], method: TuningMethod, model: BaseModel, field: string): void {
  const [rows, width] = shape;
  const expected = expectedWidth(method, model);
  if (width !== expected) {
    const rule =
      method === TuningMethod.PREFIX_TUNING
        ? `num_layers ${model.numLayers} × 2 × kv_dim ${expected / model.numLayers / 2}`
        : `the hidden size of base model "${model.name}"`;
    throw invalidArgument(
      field,
      `"prompt_embeddings" is [${rows}, ${width}] but ${methodName(method)} on "${model.name}" needs width ${expected} (${rule}); was it trained for another model or method?`,
    );
  }
  if (rows >= model.contextLength) {
    throw invalidArgument(field, `${rows} virtual tokens leave no room in the ${model.contextLength}-token context of "${model.name}"`);
  }
}
