/**
 * Seeded PRNG (xoshiro128**, seeded through splitmix32) whose whole state is four uint32 words,
 * so it can be saved in a checkpoint and restored bit-exactly. Used for generated weights,
 * data shuffling and random prompt init.
 */
export interface RngState {
  algorithm: 'xoshiro128**';
  /** four uint32 words, not all zero */
  s: [number, number, number, number];
}

const TWO_POW_32 = 2 ** 32;

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private constructor(private readonly s: Uint32Array) {}

  /** any safe integer seed; different seeds give independent-looking streams */
  static fromSeed(seed: number): Rng {
    if (!Number.isSafeInteger(seed)) throw new Error(`RNG seed must be a safe integer, got ${seed}`);
    const low = splitmix32(seed >>> 0);
    const high = splitmix32(Math.floor(seed / TWO_POW_32) ^ 0x5bd1e995);
    const s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) s[i] = low() ^ high();
    if (s.every((w) => w === 0)) s[0] = 1;
    return new Rng(s);
  }

  static fromState(state: RngState): Rng {
    const ok =
      state?.algorithm === 'xoshiro128**' &&
      Array.isArray(state.s) &&
      state.s.length === 4 &&
      state.s.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32) &&
      state.s.some((w) => w !== 0);
    if (!ok)
      throw new Error(`invalid RNG state ${JSON.stringify(state)}: expected { algorithm: "xoshiro128**", s: four uint32, not all zero }`);
    return new Rng(Uint32Array.from(state.s));
  }

  state(): RngState {
    return { algorithm: 'xoshiro128**', s: [this.s[0], this.s[1], this.s[2], this.s[3]] };
  }

  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** uniform in [0, 1) with 53 random bits */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** uniform integer in [0, n), unbiased (rejection sampling); n ≤ 2^32 */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) throw new Error(`nextInt bound must be an integer in 1..2^32, got ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** fills `out` with normal(mean, std) samples (Box–Muller, two samples per pair of draws) */
  fillNormal(out: Float32Array, std = 1, mean = 0): Float32Array {
    for (let i = 0; i < out.length; i += 2) {
      const u1 = (this.nextUint32() + 1) / TWO_POW_32; // (0, 1]
      const u2 = this.nextUint32() / TWO_POW_32;
      const r = Math.sqrt(-2 * Math.log(u1)) * std;
      const a = 2 * Math.PI * u2;
      out[i] = mean + r * Math.cos(a);
      if (i + 1 < out.length) out[i + 1] = mean + r * Math.sin(a);
    }
    return out;
  }

  /** in-place Fisher–Yates shuffle */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
