export { DEFAULT_LIMITS, limitsFromEnv, type Limits } from './limits.js';
export { databaseUrlFromEnv } from './environment.js';
