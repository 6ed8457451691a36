export { DEFAULT_LIMITS, LIMIT_ENV, limitsFromEnv, type Limits } from './limits.js';
export { databaseUrlFromEnv } from './environment.js';
