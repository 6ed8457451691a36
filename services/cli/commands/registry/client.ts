/** What every registry client command shares: --server, --json, the connection, errors, output. */
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { toJson } from '@bufbuild/protobuf';
import Table from 'cli-table3';
import { Option, type Command } from 'commander';
import { PromptRegistryService } from '../../../gen/ptune/v1/registry_pb.js';
import { createClient, RpcError, type ServiceClient } from '../../../grpc/index.js';
import { openTransport } from '../../client.js';
import { parseTaskName } from '../../../domain/index.js';
import type { TaskRef } from '../../../gen/ptune/v1/common_pb.js';

export const DEFAULT_SERVER = '127.0.0.1:50051';

export interface ClientFlags {
  server: string;
  json?: boolean;
}

export type RegistryClient = ServiceClient<typeof PromptRegistryService>;

/** Adds --server and --json to a client command. */
export function clientCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .addOption(new Option('--server <host:port>', 'ptune server address').env('PTUNE_SERVER').default(DEFAULT_SERVER))
    .option('--json', 'print JSON instead of text');
}

/**
 * Runs `body` with a registry client; a failed call becomes an error whose message starts with the
 * gRPC status name ("NOT_FOUND: task default/x does not exist; …"), which the bin prints before
 * exiting non-zero.
 */
export async function withRegistry<T>(flags: ClientFlags, body: (client: RegistryClient) => Promise<T>): Promise<T> {
  const transport = openTransport(flags.server);
  try {
    return await body(createClient(PromptRegistryService, transport));
  } catch (err) {
    if (err instanceof RpcError) {
      const hint = err.codeName === 'UNAVAILABLE' ? ` (is \`ptune serve\` running at ${flags.server}?)` : '';
      throw new Error(`${err.codeName}: ${err.message}${hint}`, { cause: err });
    }
    throw err;
  } finally {
    transport.close();
  }
}

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
