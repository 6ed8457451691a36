/** The continuous-batching engine behind the contract in ./engine.ts (implementation in progress). */
import type { LoadedModel } from '../model/load-model.js';
import type { InferenceEngine, InferenceEngineOptions } from './engine.js';

export async function createInferenceEngine(model: LoadedModel, options: InferenceEngineOptions = {}): Promise<InferenceEngine> {
  void model;
  void options;
  throw new Error('createInferenceEngine: not implemented yet (S1 in progress)');
}
