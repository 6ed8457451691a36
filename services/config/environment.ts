/**
 * Settings an entry point reads from its environment once and passes down (library layers never
 * read process.env). Limits have their own table in limits.ts.
 */

/** DATABASE_URL: the Postgres database of `ptune coordinator`, `ptune serve` and `ptune migrate`; unset or empty: none. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return env.DATABASE_URL || undefined;
}
