import { listenForNotifications, type Database } from '../storage/index.js';

/** The channel the database triggers of migration `prompt_change_notifications` notify, payload "namespace/name". */
export const PROMPT_CHANGES_CHANNEL = 'ptune_prompt_changes';

/** Told that one task's versions or aliases changed (`task` is "namespace/name"), or, without a task, that anything may have. */
export type PromptChangeSubscriber = (task?: string) => void;

/**
 * Where a server hears that prompt versions or aliases changed: its own writes (registry RPCs, the
 * coordinator's registrations) at once, before their call returns, and, on Postgres, every other
 * process's writes through the database's NOTIFY at their commit. `live` says whether the second
 * path is known to work; a cache must not answer from memory while it is not.
 */
export class PromptChanges {
  private readonly subscribers = new Set<PromptChangeSubscriber>();

  constructor(private readonly isLive: () => boolean) {}

  get live(): boolean {
    return this.isLive();
  }

  subscribe(subscriber: PromptChangeSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** One task's versions or aliases changed ("namespace/name"). */
  taskChanged(task: string): void {
    for (const subscriber of this.subscribers) subscriber(task);
  }

  /** Changes may have been missed: anything may have changed. */
  anyChanged(): void {
    for (const subscriber of this.subscribers) subscriber();
  }
}

export interface OpenedPromptChanges {
  changes: PromptChanges;
  close(): Promise<void>;
}

/**
 * The embedded database belongs to this process alone (the data directory is locked), so its own
 * writes are all there is and it is always live. On Postgres a dedicated connection LISTENs.
 */
export function openPromptChanges(database: Database): OpenedPromptChanges {
  if (database.embedded) return { changes: new PromptChanges(() => true), close: () => Promise.resolve() };
  // The handlers run only once the connection is up, after `changes` exists.
  const listener = listenForNotifications(database.url, PROMPT_CHANGES_CHANNEL, {
    onNotify: (task) => changes.taskChanged(task),
    onGap: () => changes.anyChanged(),
  });
  const changes = new PromptChanges(() => listener.live);
  return { changes, close: () => listener.close() };
}
