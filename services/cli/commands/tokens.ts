/** `ptune tokens create|list|revoke`: API tokens, through a server or directly on its database. */
import { create, toJson } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import { parseRole, tokenToWire, type Role } from '../../auth/index.js';
import {
  ApiTokenSchema,
  CreateTokenResponseSchema,
  ListTokensResponseSchema,
  RevokeTokenResponseSchema,
} from '../../gen/ptune/v1/access_pb.js';
import { withAccessBackend, type AccessTarget } from './access-backend.js';
import { clientCommand, printJson, printTable } from './registry/client.js';

interface TokenFlags extends AccessTarget {
  json?: boolean;
}

interface CreateFlags extends TokenFlags {
  namespace: string;
  role: Role;
  description: string;
  fromEnv?: string;
}

/** --server (from clientCommand) or the database directly. */
function accessCommand(parent: Command, name: string, description: string): Command {
  return clientCommand(parent, name, description)
    .option('--data-dir <dir>', 'act directly on this embedded database instead of a server (bootstrap; the server must be stopped)')
    .option('--database-url <url>', 'act directly on this Postgres database instead of a server (bootstrap)');
}

export function registerTokensCommands(program: Command): void {
  const tokens = program.command('tokens').description('API tokens (bearer credentials bound to a namespace and a role)');

  accessCommand(tokens, 'create', 'create a token and print its secret (shown once), or register one generated elsewhere (--from-env)')
    .requiredOption('--namespace <ns>', 'namespace the token acts in ("*" = every namespace)')
    .requiredOption('--role <role>', 'reader | trainer | admin | worker (worker tokens need --namespace "*")', parseRole)
    .option('--description <text>', 'what the token is for', '')
    .option(
      '--from-env <var>',
      'register the token held in this environment variable (ptk_<id>_<secret>) instead of minting one; with --database-url or --data-dir only; idempotent',
    )
    .action(async (flags: CreateFlags) => {
      if (flags.fromEnv !== undefined) return registerFromEnv(flags.fromEnv, flags);
      const { token, text } = await withAccessBackend(flags, (backend) =>
        backend.createToken(flags.namespace, flags.role, flags.description),
      );
      if (flags.json) printJson(CreateTokenResponseSchema, create(CreateTokenResponseSchema, { token: tokenToWire(token), secret: text }));
      else {
        process.stdout.write(`${text}\n`);
        process.stderr.write(
          `token ${token.id} (${token.role} in ${token.namespace}); the secret above is shown only once: store it (PTUNE_TOKEN or the "token" key of the config file)\n`,
        );
      }
    });

  accessCommand(tokens, 'list', 'list tokens (never their secrets)')
    .option('--namespace <ns>', 'namespace to list (required with a server)')
    .option('--all', 'include revoked tokens')
    .action(async (flags: TokenFlags & { namespace?: string; all?: boolean }) => {
      const list = await withAccessBackend(flags, (backend) => backend.listTokens(flags.namespace, flags.all === true));
      if (flags.json) printJson(ListTokensResponseSchema, create(ListTokensResponseSchema, { tokens: list.map(tokenToWire) }));
      else
        printTable(
          ['id', 'namespace', 'role', 'description', 'created', 'last used', 'revoked'],
          list.map((t) => [t.id, t.namespace, t.role, t.description, iso(t.createdAt), iso(t.lastUsedAt), iso(t.revokedAt)]),
        );
    });

  accessCommand(tokens, 'revoke', 'revoke a token: calls made with it fail from then on')
    .argument('<id>', 'token id (the part after ptk_, before the secret)')
    .action(async (id: string, flags: TokenFlags) => {
      const token = await withAccessBackend(flags, (backend) => backend.revokeToken(id));
      if (flags.json) printJson(RevokeTokenResponseSchema, create(RevokeTokenResponseSchema, { token: tokenToWire(token) }));
      else process.stdout.write(`revoked ${token.id} (${token.role} in ${token.namespace}) at ${iso(token.revokedAt)}\n`);
    });
}

/** `tokens create --from-env VAR`: stores the hash of a token generated elsewhere; never prints it. */
async function registerFromEnv(variable: string, flags: CreateFlags): Promise<void> {
  const source = `--from-env ${variable}`;
  const text = process.env[variable];
  if (text === undefined || text.trim() === '') throw new Error(`${source}: the environment variable ${variable} is not set or empty`);
  const { token, created } = await withAccessBackend(flags, (backend) =>
    backend.registerToken(text, source, flags.namespace, flags.role, flags.description),
  );
  // no RPC registers a token: the same shape as CreateTokenResponse, with `created` for the secret
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ token: toJson(ApiTokenSchema, create(ApiTokenSchema, tokenToWire(token))), created }, null, 2)}\n`,
    );
  else
    process.stdout.write(
      `${created ? 'registered' : 'already registered, unchanged:'} token ${token.id} (${token.role} in ${token.namespace})\n`,
    );
}

const iso = (date: Date | null): string => date?.toISOString() ?? '';
