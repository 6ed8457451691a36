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

// Float16Array is native from Node 24 (the project's pinned Node); engines allow ≥ 22.12, where the
// portable conversions below (the same IEEE rounding) are used. ES2023's lib does not declare it.
type HalfArrayConstructor = new (
  values: ArrayLike<number> | ArrayBufferLike,
  byteOffset?: number,
  length?: number,
) => ArrayLike<number> & {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
};
const NativeHalf = (globalThis as { Float16Array?: HalfArrayConstructor }).Float16Array;

const word = new Float32Array(1);
const wordBits = new Uint32Array(word.buffer);

/** IEEE binary16 bits of a float32 value, rounded to nearest, ties to even. */
export function halfBits(value: number): number {
  word[0] = value;
  const x = wordBits[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  // normal: drop 13 mantissa bits; subnormal (e ≤ 0): the value in units of 2^-24, from the 24-bit significand
  const shift = e > 0 ? 13 : 14 - e;
  if (shift > 24) return sign;
  const significand = e > 0 ? mantissa : mantissa | 0x800000;
  const kept = significand >>> shift;
  const rest = significand & ((1 << shift) - 1);
  const midpoint = 1 << (shift - 1);
  const rounded = kept + (rest > midpoint || (rest === midpoint && kept & 1) ? 1 : 0);
  // a carry out of the mantissa lands in the exponent, as it should
  return sign | ((e > 0 ? e << 10 : 0) + rounded);
}

/** The value of IEEE binary16 bits. */
export function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** IEEE binary16 bits of each value, rounded to nearest even. */
export function float16Bits(values: Float32Array): Uint16Array {
  if (!NativeHalf) return Uint16Array.from(values, halfBits);
  const half = new NativeHalf(values);
  return new Uint16Array(half.buffer, half.byteOffset, values.length);
}

/** The values of IEEE binary16 bits, widened exactly to float32. */
export const float16Values = (bits: Uint16Array): Float32Array =>
  NativeHalf ? Float32Array.from(new NativeHalf(bits.buffer, bits.byteOffset, bits.length)) : Float32Array.from(bits, halfValue);
