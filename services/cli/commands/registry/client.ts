/** What every registry client command shares: --server, --json, the connection, errors, output. */
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { toJson } from '@bufbuild/protobuf';
import Table from 'cli-table3';
import { Option, type Command } from 'commander';
import { clientOptionsFromEnv, connect, DEFAULT_SERVER, type PtuneClient, type RegistryClient } from '../../../client/index.js';
import { parseTaskName } from '../../../domain/index.js';
import type { TaskRef } from '../../../gen/ptune/v1/common_pb.js';
import { RpcError } from '../../../grpc/index.js';
import { describeRpcFailure } from '../rpc-failure.js';

export interface ClientFlags {
  server: string;
  json?: boolean;
}

/** Adds --server and --json to a client command. */
export function clientCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .addOption(new Option('--server <host:port>', 'ptune server address').env('PTUNE_SERVER').default(DEFAULT_SERVER))
    .option('--json', 'print JSON instead of text');
}

/**
 * Runs `body` with clients of every service at --server (token and TLS from the environment or the
 * config file); a failed call becomes an error whose message starts with the gRPC status name
 * ("NOT_FOUND: task default/x does not exist; …"), which the bin prints before exiting non-zero.
 */
export async function withClient<T>(flags: ClientFlags, body: (client: PtuneClient) => Promise<T>): Promise<T> {
  const client = connect(flags.server, clientOptionsFromEnv(process.env));
  try {
    return await body(client);
  } catch (err) {
    if (err instanceof RpcError) {
      const hint =
        err.codeName === 'UNAVAILABLE'
          ? ` (is \`ptune serve\` running at ${flags.server}?)`
          : err.codeName === 'UNAUTHENTICATED'
            ? ' (set PTUNE_TOKEN or the config file to a valid token)'
            : '';
      throw new Error(describeRpcFailure(err, flags.server, hint), { cause: err });
    }
    throw err;
  } finally {
    client.close();
  }
}

export const withRegistry = <T>(flags: ClientFlags, body: (client: RegistryClient) => Promise<T>): Promise<T> =>
  withClient(flags, (c) => body(c.registry));

/** `namespace/name` or a bare `name` (namespace "default"). */
export function taskRef(text: string): TaskRef {
  const { namespace, name } = parseTaskName(text);
  return { namespace, name } as TaskRef;
}

export function printJson<D extends DescMessage>(schema: D, message: MessageShape<D>): void {
  process.stdout.write(`${JSON.stringify(toJson(schema, message), null, 2)}\n`);
}

export function printTable(head: string[], rows: string[][]): void {
  const table = new Table({ head, style: { head: [], border: [] } });
  table.push(...rows);
  process.stdout.write(`${table.toString()}\n`);
}

export const shortSha = (sha: string): string => sha.slice(0, 12);
