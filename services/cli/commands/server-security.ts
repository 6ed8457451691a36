/**
 * The security options `ptune serve` and `ptune coordinator` share: authentication on or off, TLS
 * certificate files (with an optional client CA for mutual TLS), and the limits from the
 * environment. One call turns the flags into what startServer takes.
 */
import type { Command } from 'commander';
import { isLoopback, loadServerTls, tlsFilesFromEnv, withAccessControl, type ProcessToken } from '../../auth/index.js';
import type { ClientTransportOptions } from '../../client/index.js';
import { limitsFromEnv, type Limits } from '../../config/index.js';
import type { TlsOptions } from '../../grpc/index.js';
import type { ServerModule } from '../../server/index.js';

export interface SecurityFlags {
  /** commander sets false for --no-auth, true for --auth, undefined for neither */
  auth?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
}

export function addSecurityOptions(command: Command, authDefault: string): Command {
  return command
    .option('--auth', `require API tokens (${authDefault})`)
    .option('--no-auth', 'serve without authentication (only on a loopback address)')
    .option('--tls-cert <file>', 'PEM server certificate chain (env PTUNE_TLS_CERT); serves TLS')
    .option('--tls-key <file>', 'PEM server private key (env PTUNE_TLS_KEY)')
    .option('--tls-client-ca <file>', 'PEM CA bundle; clients must present a certificate it signed (mutual TLS; env PTUNE_TLS_CLIENT_CA)');
}

export interface ServerSecurity {
  readonly authenticate: boolean;
  readonly tls?: TlsOptions;
  readonly limits: Limits;
  /** the server's modules behind the access guard, plus the AccessService */
  secure(modules: readonly ServerModule[]): ServerModule[];
  /** how workers inside this process reach it (their process-local token; the server's own certificate as CA) */
  readonly inProcessConnection: ClientTransportOptions;
}

/**
 * `authByDefault(host)`: whether tokens are required when neither --auth nor --no-auth is given.
 * `limits`: what the guard enforces (default limitsFromEnv(process.env)); pass the same to the coordinator.
 */
export function serverSecurity(
  flags: SecurityFlags,
  host: string,
  authByDefault: (host: string) => boolean,
  processTokens: readonly ProcessToken[] = [],
  limits: Limits = limitsFromEnv(process.env),
): ServerSecurity {
  const authenticate =
    flags.auth ?? (process.env.PTUNE_AUTH === 'off' ? false : process.env.PTUNE_AUTH === 'on' ? true : authByDefault(host));
  const files = tlsFilesFromEnv({ certFile: flags.tlsCert, keyFile: flags.tlsKey, clientCaFile: flags.tlsClientCa }, process.env);
  const tls = loadServerTls(files);
  return {
    authenticate,
    tls,
    limits,
    secure: (modules) => withAccessControl(modules, { authenticate, host, limits, processTokens }),
    inProcessConnection: {
      token: processTokens.find((t) => t.principal.role === 'worker')?.text,
      tls: tls && { caFile: files.certFile },
      defaultTimeoutMs: limits.internalCallTimeoutMs,
    },
  };
}

/** `ptune serve`: tokens are optional on loopback, required on any other interface. */
export const authUnlessLoopback = (host: string): boolean => !isLoopback(host);
/** `ptune coordinator`: tokens always required unless turned off explicitly (loopback only). */
export const authAlways = (): boolean => true;
