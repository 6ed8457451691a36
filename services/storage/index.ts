export { openDatabase, DEFAULT_DATA_DIR, type Database, type OpenDatabaseOptions } from './database.js';
export { applyMigrations, type ApplyMigrationsOptions, type ApplyMigrationsResult } from './migrations/apply-migrations.js';
export { COLUMN_INTEGER_CEILINGS } from './integer-columns.js';
export { allocateVersion } from './versions/allocate-version.js';
export type { CreatedPromptVersion, NewPromptVersion } from './versions/create-prompt-version.js';
export * from './blobs/index.js';
export { Prisma, PrismaClient } from './generated/client.js';
export type * from './generated/client.js';
export { listenForNotifications, type ListenTiming, type NotificationHandlers, type NotificationListener } from './notifications.js';
