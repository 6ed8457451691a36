import type { VersionRow } from './version-rows.js';

/**
 * Opt-in cache of GetPrompt resolutions (selector → version row), for deployments that accept a
 * bounded staleness of alias moves in exchange for skipping the database on hot reads. Off (ttlMs 0)
 * by default: then every GetPrompt resolves in the database.
 *
 * Guarantees when on: a change made through this registry (new version, alias set/delete, version
 * delete) drops the task's entries before its RPC returns, so this server never serves a resolution
 * older than a change it acknowledged. Changes made elsewhere (another replica) are seen within
 * ttlMs. A resolution that was loading while its task changed is not stored (per-task generations),
 * so a slow query cannot re-insert the state from before the change.
 */
export class ResolutionCache {
  private readonly entries = new Map<string, { row: VersionRow; task: string; expiresAt: number }>();
  private readonly generations = new Map<string, number>();

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get(key: string): VersionRow | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.now()) return entry.row;
    this.entries.delete(key);
    return undefined;
  }

  /** Runs `load` and stores its row unless the task changed meanwhile. */
  async load(task: string, key: string, load: () => Promise<VersionRow>): Promise<VersionRow> {
    const generation = this.generations.get(task) ?? 0;
    const row = await load();
    if (this.enabled && (this.generations.get(task) ?? 0) === generation) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { row, task, expiresAt: this.now() + this.ttlMs });
    }
    return row;
  }

  /** A task's aliases or versions changed: forget its resolutions, and any that are loading. */
  taskChanged(task: string): void {
    this.generations.set(task, (this.generations.get(task) ?? 0) + 1);
    for (const [key, entry] of this.entries) if (entry.task === task) this.entries.delete(key);
  }
}
