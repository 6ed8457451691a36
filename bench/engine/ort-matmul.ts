import { GraphBuilder } from '../../services/engine/graph/builder.js';
import * as op from '../../services/engine/graph/ops/index.js';
import { GraphSession } from '../../services/engine/graph/run.js';
import { Rng } from '../../services/engine/model/rng.js';

/** GFLOP/s of an n³ float32 MatMul through onnxruntime-node (median of `runs`), the machine's practical peak. */
export async function ortMatmulGflops(threads: number, n = 512, runs = 40): Promise<number> {
  const rng = Rng.fromSeed(0);
  const g = new GraphBuilder('matmul');
  const a = g.input('a', 'float32', [n, n]);
  const b = g.initializer('b', rng.fillNormal(new Float32Array(n * n)), [n, n]);
  g.output(op.matmul(g, a, b), 'c');
  const session = await GraphSession.create(g, { threads });
  const feeds = { a: { data: rng.fillNormal(new Float32Array(n * n)), dims: [n, n] } };
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  await session.release();
  times.sort((x, y) => x - y);
  return (2 * n ** 3) / (times[Math.floor(runs / 2)] / 1000) / 1e9;
}
