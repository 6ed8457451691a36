/** Element types the graph builder knows, with their ONNX TensorProto.DataType codes. */
export type DType = 'float32' | 'float64' | 'int64' | 'bool';
export type FloatDType = 'float32' | 'float64';

export const onnxTypeCode: Record<DType, number> = { float32: 1, int64: 7, bool: 9, float64: 11 };

export type TypedArrayOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : Uint8Array;

export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Uint8Array;

export const isFloat = (d: DType): d is FloatDType => d === 'float32' || d === 'float64';

export function dtypeOfArray(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
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
    case 'int64':
      return BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
    case 'bool':
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
