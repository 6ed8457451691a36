/**
 * Turns concurrent calls of this process into batched statements: while one batch is in flight,
 * new items wait and then go together in the next one (one plan, one commit, for many callers).
 * An idle coordinator runs a lone item at once. (Two batches in flight measured no better here.)
 */
export interface Batcher<I, O> {
  run(item: I): Promise<O>;
}

interface Pending<I, O> {
  item: I;
  resolve(out: O): void;
  reject(err: unknown): void;
}

/**
 * `runBatch(items)` returns one result per item, in order. Items with equal `key` never share a
 * batch (e.g. one lease grant per worker). A batch that fails is retried one item at a time, so one
 * bad item (e.g. an unregistered worker id) fails alone.
 */
export function createBatcher<I, O>(
  runBatch: (items: I[]) => Promise<O[]>,
  options: { maxBatch: number; key: (item: I) => string },
): Batcher<I, O> {
  let pending: Pending<I, O>[] = [];
  let inFlight = false;

  const settle = async (batch: Pending<I, O>[]): Promise<void> => {
    try {
      const outs = await runBatch(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(outs[i]));
    } catch (err) {
      if (batch.length === 1) batch[0].reject(err);
      else for (const p of batch) await settle([p]);
    }
  };

  const pump = (): void => {
    if (inFlight || pending.length === 0) return;
    const batch: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    const keys = new Set<string>();
    for (const p of pending) {
      const key = options.key(p.item);
      if (batch.length < options.maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(p);
      } else rest.push(p);
    }
    pending = rest;
    inFlight = true;
    void settle(batch).finally(() => {
      inFlight = false;
      pump();
    });
  };

  return {
    run: (item) =>
      new Promise<O>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        pump();
      }),
  };
}
