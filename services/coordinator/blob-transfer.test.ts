import { describe, expect, it } from 'vitest';
import { rechunk } from './blob-transfer.js';

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of source) out.push(chunk);
  return out;
}

async function* pieces(sizes: number[]): AsyncGenerator<Uint8Array> {
  let value = 0;
  for (const size of sizes) yield Uint8Array.from({ length: size }, () => value++ % 251);
}

describe('rechunk', () => {
  it.each([
    ['pieces smaller than a chunk', [3, 3, 3, 3], 5, [5, 5, 2]],
    ['pieces larger than a chunk', [12, 1], 5, [5, 5, 3]],
    ['an exact multiple', [4, 6], 5, [5, 5]],
    ['empty pieces and an empty stream', [0, 0], 5, []],
  ])('regroups %s into chunks of the size asked, bytes in order', async (_, sizes, size, expected) => {
    const chunks = await collect(rechunk(pieces(sizes), size));
    expect(chunks.map((c) => c.byteLength)).toEqual(expected);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(Array.from(chunks.flatMap((c) => Array.from(c)))).toEqual(Array.from({ length: total }, (_, i) => i % 251));
  });
});
