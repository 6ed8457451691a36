import { f16BitsToF32, f32ToF16Bits } from '../formats/half.js';

/** Element types the graph builder knows, with their ONNX TensorProto.DataType codes. */
export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int8' | 'bool';
export type FloatDType = 'float32' | 'float64';

export const onnxTypeCode: Record<DType, number> = { float32: 1, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };

export type TypedArrayOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'float16'
      ? Uint16Array
      : D extends 'int64'
        ? BigInt64Array
        : D extends 'int32'
          ? Int32Array
          : D extends 'int8'
            ? Int8Array
            : Uint8Array;

/** float16 values travel as their IEEE binary16 bits in a Uint16Array (onnxruntime-node's float16 layout). */
export type AnyTypedArray = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

export const isFloat = (d: DType): d is FloatDType => d === 'float32' || d === 'float64';

export function dtypeOfArray(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Uint16Array) return 'float16';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int8Array) return 'int8';
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
    case 'int32':
      return Int32Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'bool':
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** IEEE binary16 bits of each value, rounded to nearest even. */
export const float16Bits = (values: Float32Array): Uint16Array => Uint16Array.from(values, f32ToF16Bits);

/** The values of IEEE binary16 bits, widened exactly to float32. */
export const float16Values = (bits: Uint16Array): Float32Array => Float32Array.from(bits, f16BitsToF32);
