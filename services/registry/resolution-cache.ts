import type { PromptChanges } from './prompt-changes.js';
import type { VersionRow } from './version-rows.js';

/**
 * GetPrompt resolutions (selector → version row) kept in memory, so hot reads skip the database.
 * Entries are dropped when PromptChanges reports their task changed: this server's own writes before
 * their RPC returns, other servers' at their commit through Postgres NOTIFY (a few ms later). While
 * notifications are not known to arrive (`changes.live` false: the LISTEN connection is down or
 * silent), nothing is answered from memory or stored, and a gap drops everything.
 * A resolution that was loading while its task (or anything) changed is not stored (generations),
 * so a slow query cannot re-insert the state from before the change.
 */
export class ResolutionCache {
  private readonly entries = new Map<string, { row: VersionRow; task: string }>();
  private readonly generations = new Map<string, number>();
  private generation = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly changes: PromptChanges,
    private readonly maxEntries = 10_000,
  ) {
    this.unsubscribe = changes.subscribe((task) => (task === undefined ? this.clear() : this.taskChanged(task)));
  }

  get(key: string): VersionRow | undefined {
    return this.changes.live ? this.entries.get(key)?.row : undefined;
  }

  /** Runs `load` and stores its row unless something it depends on changed meanwhile. */
  async load(task: string, key: string, load: () => Promise<VersionRow>): Promise<VersionRow> {
    const before = this.versionOf(task);
    const row = await load();
    if (this.changes.live && this.versionOf(task) === before) {
      this.entries.delete(key);
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { row, task });
    }
    return row;
  }

  /** Stops following changes (the server is stopping). */
  close(): void {
    this.unsubscribe();
    this.clear();
  }

  private versionOf(task: string): string {
    return `${this.generation}/${this.generations.get(task) ?? 0}`;
  }

  private taskChanged(task: string): void {
    this.generations.set(task, (this.generations.get(task) ?? 0) + 1);
    for (const [key, entry] of this.entries) if (entry.task === task) this.entries.delete(key);
  }

  private clear(): void {
    this.generation++;
    this.generations.clear();
    this.entries.clear();
  }
}
