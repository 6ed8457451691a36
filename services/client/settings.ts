/**
 * Connection settings for clients (the CLI, `ptune worker`, scripts): the API token, TLS files and
 * call deadline from the environment or the config file. The entry point passes its environment in;
 * environment wins over the file:
 *   PTUNE_TOKEN, PTUNE_TLS_CA, PTUNE_TLS_CLIENT_CERT, PTUNE_TLS_CLIENT_KEY, PTUNE_INTERNAL_CALL_TIMEOUT_MS
 *   config file: PTUNE_CONFIG, else ~/.config/ptune/config.yaml (YAML: token, tls: {ca, cert, key})
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { limitsFromEnv } from '../config/index.js';
import type { ClientTransportOptions } from './transport.js';

interface ClientConfigFile {
  token?: string;
  tls?: { ca?: string; cert?: string; key?: string };
}

function configFilePath(env: NodeJS.ProcessEnv): string {
  return env.PTUNE_CONFIG || path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'ptune', 'config.yaml');
}

/** The config file's content; {} when the default file does not exist (a named PTUNE_CONFIG must). */
function readConfigFile(env: NodeJS.ProcessEnv): ClientConfigFile {
  const file = configFilePath(env);
  if (!env.PTUNE_CONFIG && !existsSync(file)) return {};
  let value: unknown;
  try {
    // yaml (≈70 modules) loads only when there is a config file: every client command reads settings
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    value = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new Error(`config file ${file}: expected a mapping with "token" and/or "tls"`);
  const config = value as Record<string, unknown>;
  const unknown = Object.keys(config).filter((key) => key !== 'token' && key !== 'tls');
  if (unknown.length > 0) throw new Error(`config file ${file}: unknown key(s) ${unknown.join(', ')} (known: token, tls)`);
  if (config.token !== undefined && typeof config.token !== 'string') throw new Error(`config file ${file}: "token" must be a string`);
  return config as ClientConfigFile;
}

export function clientOptionsFromEnv(env: NodeJS.ProcessEnv): ClientTransportOptions {
  const file = readConfigFile(env);
  return {
    token: env.PTUNE_TOKEN || file.token,
    tls: {
      caFile: env.PTUNE_TLS_CA || file.tls?.ca,
      certFile: env.PTUNE_TLS_CLIENT_CERT || file.tls?.cert,
      keyFile: env.PTUNE_TLS_CLIENT_KEY || file.tls?.key,
    },
    defaultTimeoutMs: limitsFromEnv(env).internalCallTimeoutMs,
  };
}
