export { withAccessControl, isLoopback, type AccessControlOptions } from './access-control.js';
export { ACCESS_RULES } from './access-rules.js';
export { auditEventToWire, tokenToWire } from './access-service.js';
export { recordAudit, listAudit, type AuditEntry, type AuditOutcome, type AuditRecord, type AuditPage } from './audit-log.js';
export { mintProcessWorkerToken, type Authenticate, type ProcessToken } from './authenticate.js';
export { ALL_NAMESPACES, parseRole, type Role } from './roles.js';
export {
  createToken,
  registerToken,
  listTokens,
  revokeToken,
  TokenInputError,
  TokenConflictError,
  type TokenRecord,
} from './token-store.js';
export { loadServerTls, tlsFilesFromEnv, type TlsFiles } from './tls-files.js';
