import * as ort from 'onnxruntime-node';
import type { GraphBuilder } from './builder.js';
import { dtypeOfArray, type AnyTypedArray } from './dtype.js';
import { externalWeights, serializeModel } from './serialize.js';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface SessionOptions {
  executionProvider?: ExecutionProvider;
  /** intra-op threads; ORT's default when omitted */
  threads?: number;
  /**
   * ORT graph optimization level. Default: 'all', but 'basic' for graphs with float64 values,
   * because ORT's extended fusions (e.g. x·sigmoid(x) → QuickGelu) have float32-only CPU kernels.
   */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Whether idle intra-op worker threads busy-wait for the next kernel. Default: false.
   * Spinning only pays off on cores nobody else wants; a training step is hundreds of small
   * kernels, and on shared or CPU-limited machines (other processes, Kubernetes CPU limits that
   * throttle busy-waiting as real use) the spinning workers steal the cores the kernels need:
   * on a loaded 2-core machine the stories260K step took 52–57 ms with spinning, 29–30 ms without.
   */
  spinning?: boolean;
  /**
   * Whether onnxruntime keeps freed activation memory in its CPU arena for reuse. Default: true
   * (onnxruntime's default). The arena never shrinks: on the 85M-parameter training step
   * (B=4, T=128) turning it off lowered peak RSS from 4.40 to 3.68 GB but made the step 15–20%
   * slower (1.29–1.36 s vs 1.58 s), as every run then faults in fresh pages for its activations.
   */
  memoryArena?: boolean;
  /**
   * Whether onnxruntime plans each run's activations as one block (its memory pattern). Default:
   * true. With the arena on, the planned block stays reserved beside the arena's own chunks:
   * bench85m training step, arena on, at load 1.4: pattern on 848 ms and 2267 MB peak RSS, off
   * 965 ms and 1770 MB (arena off: 1628 ms, 1756 MB).
   */
  memoryPattern?: boolean;
  /**
   * How the graph's bound weights reach onnxruntime. 'fed' (default): graph inputs wrapped in place
   * on every run, so every session over a bank reads the bank's own memory; with a device provider
   * they cross to the device on every run (onnxruntime-node has no I/O binding for CUDA).
   * 'initializers': initializers whose bytes onnxruntime reads once, when the session is built, from
   * the bank's buffers (in-memory external data, not copied into the model); a device provider then
   * copies them to the device once per session, and each session holds its own copy there.
   */
  weights?: 'fed' | 'initializers';
}

export interface HostTensor {
  data: AnyTypedArray;
  dims: readonly number[];
}

function ortTensor(t: HostTensor): ort.Tensor {
  const tensor = new ort.Tensor(dtypeOfArray(t.data), t.data, [...t.dims]);
  // onnxruntime-node 1.30 on Node 24 wraps float16 bits given as a Uint16Array in a Float16Array
  // view, whose size its native side reads as 0 bytes ("not enough space: expected …, got 0"):
  // the native side is handed the Uint16Array itself, which it takes for float16
  if (t.data instanceof Uint16Array) Object.defineProperty(tensor, 'data', { value: t.data });
  return tensor;
}

/**
 * An onnxruntime session over a built graph, fed and read with plain typed arrays. The graph's
 * bound inputs (its weights) are wrapped once and fed on every run: onnxruntime-node wraps a CPU
 * input's ArrayBuffer in place (tensor_helper.cc, NapiValueToOrtValue), so every session over the
 * same bank reads the same memory. With `weights: 'initializers'` they are the session's own
 * initializers instead (`SessionOptions.weights`).
 */
export class GraphSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly bound: Readonly<Record<string, ort.Tensor>>,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  static async create(model: GraphBuilder | Uint8Array, options: SessionOptions = {}): Promise<GraphSession> {
    const built = model instanceof Uint8Array ? undefined : model;
    const asInitializers = built !== undefined && options.weights === 'initializers';
    const bytes = built ? serializeModel(built, { boundAsInitializers: asInitializers }) : (model as Uint8Array);
    const float64 = built !== undefined && built.inputs.concat(built.outputs).some((v) => v.dtype === 'float64');
    const session = await ort.InferenceSession.create(bytes, {
      ...(asInitializers ? { externalData: externalWeights(built) } : {}),
      executionProviders: [options.executionProvider ?? 'cpu'],
      graphOptimizationLevel: options.optimization ?? (float64 ? 'basic' : 'all'),
      enableCpuMemArena: options.memoryArena ?? true,
      enableMemPattern: options.memoryPattern ?? true,
      ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
      // session config entries (onnxruntime_session_options_config_keys.h), flattened with dots by the binding
      extra: {
        session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' }, inter_op: { allow_spinning: options.spinning ? '1' : '0' } },
      },
    });
    const bound: Record<string, ort.Tensor> = {};
    if (built && !asInitializers) for (const [name, t] of built.bound) bound[name] = ortTensor(t);
    return new GraphSession(session, bound, session.inputNames, session.outputNames);
  }

  /** Runs the graph; returns the requested outputs (all by default) by name. */
  async run(feeds: Record<string, HostTensor>, outputs: readonly string[] = this.outputNames): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = { ...this.bound };
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = ortTensor(t);
    const result = await this.session.run(ortFeeds, [...outputs]);
    const out: Record<string, HostTensor> = {};
    for (const name of outputs) {
      const t = result[name];
      out[name] = { data: t.data as AnyTypedArray, dims: t.dims };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
