/**
 * Coalesces identical reads without serving stale data. A caller never joins a read that started
 * before it arrived (that read might miss a write the caller already saw commit); it joins the next
 * read instead, which starts when the running one ends and is shared by everyone who arrived in the
 * meantime. So each caller gets the result of a read that began after it asked: as fresh as issuing
 * its own query, at one query per "generation" of concurrent callers instead of one per caller.
 */
export class ReadCoalescer<T> {
  private readonly keys = new Map<string, { running: Promise<T>; next?: Promise<T> }>();

  read(key: string, load: () => Promise<T>): Promise<T> {
    const state = this.keys.get(key);
    if (state === undefined) return this.start(key, load);
    state.next ??= state.running.then(
      () => this.promote(key, load),
      () => this.promote(key, load),
    );
    return state.next;
  }

  private start(key: string, load: () => Promise<T>): Promise<T> {
    const running = load();
    this.keys.set(key, { running });
    const settle = (): void => {
      const state = this.keys.get(key);
      if (state?.running === running && state.next === undefined) this.keys.delete(key);
    };
    running.then(settle, settle);
    return running;
  }

  /** The queued read starts now; callers arriving from here on queue behind it. */
  private promote(key: string, load: () => Promise<T>): Promise<T> {
    this.keys.delete(key);
    return this.start(key, load);
  }
}
