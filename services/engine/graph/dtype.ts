/** Element types the graph builder knows, with their ONNX TensorProto.DataType codes. */
export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'bool';
export type FloatDType = 'float32' | 'float64';

export const onnxTypeCode: Record<DType, number> = { float32: 1, int64: 7, bool: 9, float16: 10, float64: 11 };

export type TypedArrayOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'float16'
      ? Uint16Array
      : D extends 'int64'
        ? BigInt64Array
        : Uint8Array;

/** float16 values travel as their IEEE binary16 bits in a Uint16Array (onnxruntime-node's float16 layout). */
export type AnyTypedArray = Float32Array | Float64Array | Uint16Array | BigInt64Array | Uint8Array;

export const isFloat = (d: DType): d is FloatDType => d === 'float32' || d === 'float64';

export function dtypeOfArray(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Uint16Array) return 'float16';
  if (a instanceof BigInt64Array) return 'int64';
  return 'bool';
}

/** Converts plain numbers into a typed array of the given dtype. */
export function toTypedArray(d: DType, values: ArrayLike<number>): AnyTypedArray {
  switch (d) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'float16':
      return float16Bits(Float32Array.from(values));
    case 'int64':
      return BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
    case 'bool':
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

// Node 24 has Float16Array; the project's TypeScript lib (ES2023) does not declare it yet
declare const Float16Array: new (values: ArrayLike<number> | ArrayBufferLike, byteOffset?: number, length?: number) => ArrayLike<number> & {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
};

/** IEEE binary16 bits of each value, rounded to nearest even (Node's Float16Array does the rounding). */
export function float16Bits(values: Float32Array): Uint16Array {
  const half = new Float16Array(values);
  return new Uint16Array(half.buffer, half.byteOffset, half.length);
}

/** The values of IEEE binary16 bits, widened exactly to float32. */
export const float16Values = (bits: Uint16Array): Float32Array =>
  Float32Array.from(new Float16Array(bits.buffer, bits.byteOffset, bits.length));
