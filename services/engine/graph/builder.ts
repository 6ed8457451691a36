import { type AnyTypedArray, type DType, dtypeOfArray, numel, toTypedArray } from './dtype.js';

/** A tensor-valued edge of the graph; its dtype and shape are always fully static. */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export type Attribute =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string };

export const attr = {
  int: (value: number): Attribute => ({ kind: 'int', value }),
  ints: (value: readonly number[]): Attribute => ({ kind: 'ints', value }),
  float: (value: number): Attribute => ({ kind: 'float', value }),
  floats: (value: readonly number[]): Attribute => ({ kind: 'floats', value }),
  string: (value: string): Attribute => ({ kind: 'string', value }),
};

export interface GradContext {
  node: GraphNode;
  /** gradient of the loss w.r.t. each output; undefined where the loss does not depend on it */
  dOutputs: readonly (Value | undefined)[];
  /** which inputs (node.gradInputs when set) need a gradient (only those on a path from a trainable input) */
  needs: readonly boolean[];
}

/**
 * Reverse-mode rule of an op: returns d loss / d input for each input (undefined where
 * not needed or not differentiable). Lives in the op's module beside its forward rule.
 */
export type GradRule = (g: GraphBuilder, ctx: GradContext) => (Value | undefined)[];

export interface GraphNode {
  readonly opType: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attributes: Readonly<Record<string, Attribute>>;
  readonly grad?: GradRule;
  /**
   * For the last node of a composite op whose rule differentiates the whole composite:
   * the composite's inputs, which the rule's gradients refer to (default: this node's inputs).
   */
  readonly gradInputs?: readonly Value[];
  readonly domain?: string;
}

export interface Initializer {
  readonly value: Value;
  readonly data: AnyTypedArray;
}

const passThrough: GradRule = (_g, { dOutputs }) => [dOutputs[0]];

/** Records a static-shape ONNX graph: inputs, initializers, nodes in topological order, outputs. */
export class GraphBuilder {
  readonly inputs: Value[] = [];
  readonly initializers: Initializer[] = [];
  readonly nodes: GraphNode[] = [];
  readonly outputs: Value[] = [];
  /**
   * Graph inputs whose data the builder's caller already holds (a model's weight bank): a
   * GraphSession feeds them on every run from these very buffers, so the weights are neither
   * copied into the model file nor into the session.
   */
  readonly bound = new Map<string, { data: AnyTypedArray; dims: readonly number[] }>();
  private readonly names = new Set<string>();
  private readonly constantCache = new Map<string, Value>();
  private counter = 0;

  constructor(readonly name = 'graph') {}

  /** A unique value name derived from `hint`. */
  uniqueName(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`graph "${this.name}": value name "${name}" is already used`);
    this.names.add(name);
    return name;
  }

  input(name: string, dtype: DType, shape: readonly number[]): Value {
    const v: Value = { name: this.claim(name), dtype, shape: [...shape] };
    this.inputs.push(v);
    return v;
  }

  /** A graph input fed from `data` by reference on every run (see `bound`). */
  boundInput(name: string, data: AnyTypedArray, shape: readonly number[]): Value {
    if (numel(shape) !== data.length) {
      throw new Error(`bound input "${name}": shape [${shape.join(',')}] needs ${numel(shape)} elements, got ${data.length}`);
    }
    const v = this.input(name, dtypeOfArray(data), shape);
    this.bound.set(name, { data, dims: v.shape });
    return v;
  }

  /** A frozen tensor stored in the model file (weights, tables, constants). */
  initializer(name: string, data: AnyTypedArray, shape: readonly number[]): Value {
    return this.addInitializer(this.claim(name), data, shape);
  }

  private addInitializer(name: string, data: AnyTypedArray, shape: readonly number[]): Value {
    if (numel(shape) !== data.length) {
      throw new Error(`initializer "${name}": shape [${shape.join(',')}] needs ${numel(shape)} elements, got ${data.length}`);
    }
    const v: Value = { name, dtype: dtypeOfArray(data), shape: [...shape] };
    this.initializers.push({ value: v, data });
    return v;
  }

  /** A small constant, deduplicated by dtype, shape and contents. */
  constant(dtype: DType, values: ArrayLike<number>, shape: readonly number[] = [values.length]): Value {
    const key = `${dtype}|${shape.join(',')}|${Array.from(values).join(',')}`;
    const cached = this.constantCache.get(key);
    if (cached) return cached;
    const v = this.addInitializer(this.uniqueName('const'), toTypedArray(dtype, values), shape);
    this.constantCache.set(key, v);
    return v;
  }

  scalar(dtype: DType, value: number): Value {
    return this.constant(dtype, [value], []);
  }

  /** An int64 1-D constant, as ONNX wants for shapes, axes, starts/ends. */
  int64s(values: readonly number[]): Value {
    return this.constant('int64', values, [values.length]);
  }

  node(
    opType: string,
    inputs: readonly Value[],
    outputs: readonly { dtype: DType; shape: readonly number[] }[],
    attributes: Record<string, Attribute> = {},
    grad?: GradRule,
    gradInputs?: readonly Value[],
  ): Value[] {
    const outs: Value[] = outputs.map((o) => ({
      name: this.uniqueName(`${opType.toLowerCase()}_out`),
      dtype: o.dtype,
      shape: [...o.shape],
    }));
    this.nodes.push({ opType, inputs: [...inputs], outputs: outs, attributes, grad, gradInputs });
    return outs;
  }

  /** Marks `v` as a graph output, under `name` (an Identity renames it when needed). */
  output(v: Value, name = v.name): Value {
    let out = v;
    if (name !== v.name) {
      out = { name: this.claim(name), dtype: v.dtype, shape: v.shape };
      this.nodes.push({ opType: 'Identity', inputs: [v], outputs: [out], attributes: {}, grad: passThrough });
    }
    this.outputs.push(out);
    return out;
  }
}
