import { readFileSync } from 'node:fs';
import type { TlsOptions } from '../grpc/index.js';

export interface TlsFiles {
  /** PEM certificate chain of the server */
  readonly certFile?: string;
  /** PEM private key of the server */
  readonly keyFile?: string;
  /** PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS) */
  readonly clientCaFile?: string;
}

/** Flags first, then PTUNE_TLS_CERT / PTUNE_TLS_KEY / PTUNE_TLS_CLIENT_CA. */
export function tlsFilesFromEnv(flags: TlsFiles, env: NodeJS.ProcessEnv): TlsFiles {
  return {
    certFile: flags.certFile ?? (env.PTUNE_TLS_CERT || undefined),
    keyFile: flags.keyFile ?? (env.PTUNE_TLS_KEY || undefined),
    clientCaFile: flags.clientCaFile ?? (env.PTUNE_TLS_CLIENT_CA || undefined),
  };
}

/** Server TLS material from files; undefined when no certificate is configured (plaintext). */
export function loadServerTls(files: TlsFiles): TlsOptions | undefined {
  if (files.certFile === undefined && files.keyFile === undefined) {
    if (files.clientCaFile !== undefined)
      throw new Error('a client CA (mutual TLS) needs a server certificate and key too (--tls-cert, --tls-key)');
    return undefined;
  }
  if (files.certFile === undefined || files.keyFile === undefined)
    throw new Error('TLS needs both a certificate (--tls-cert / PTUNE_TLS_CERT) and a key (--tls-key / PTUNE_TLS_KEY)');
  const rootCerts = files.clientCaFile === undefined ? undefined : readPem(files.clientCaFile, 'client CA');
  return {
    certChain: readPem(files.certFile, 'certificate'),
    privateKey: readPem(files.keyFile, 'private key'),
    rootCerts,
    requireClientCert: rootCerts !== undefined,
  };
}

function readPem(file: string, what: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new Error(`TLS ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!pem.includes('-----BEGIN ')) throw new Error(`TLS ${what} ${file}: not a PEM file (no "-----BEGIN" line)`);
  return pem;
}
