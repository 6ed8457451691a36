import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];

export interface LoggerOptions {
  /** Process part writing the lines ("coordinator", "worker", "registry", …); on every line. */
  readonly component: string;
  /** Default "info"; entry points pass logLevelFromEnv(process.env). */
  readonly level?: LogLevel;
  /** Where JSON lines go; default stderr. */
  readonly destination?: DestinationStream;
}

/** The ids a log line can be about; child loggers carry them on every line. */
export interface LogIds {
  readonly jobId?: string;
  readonly trialId?: string;
  readonly workerId?: string;
}

/** Secrets never written, whatever object is logged (top level or one level down, e.g. `metadata.authorization`). */
const REDACTED_KEYS = ['authorization', 'token', 'accessToken', 'refreshToken', 'apiKey', 'password', 'secretAccessKey', 'sessionToken'];
const REDACT_PATHS = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

/** A pino logger writing one JSON object per line (ISO time, level name, component) to stderr. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { component: options.component },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
}

/** A child logger whose lines carry the given ids (undefined ones are left out). */
export function withIds(logger: Logger, ids: LogIds): Logger {
  return logger.child(Object.fromEntries(Object.entries(ids).filter(([, value]) => value !== undefined)));
}

/** PTUNE_LOG_LEVEL, or undefined when unset; an unknown level is an error naming the variable. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): LogLevel | undefined {
  const value = env.PTUNE_LOG_LEVEL;
  if (value === undefined || value === '') return undefined;
  if (!(LEVELS as readonly string[]).includes(value)) {
    throw new Error(`PTUNE_LOG_LEVEL=${value} is not a log level; use one of ${LEVELS.join(', ')}`);
  }
  return value as LogLevel;
}
