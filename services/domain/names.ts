import type { TaskRef } from '../gen/ptune/v1/common_pb.js';
import { invalidArgument } from './errors.js';

/**
 * Naming rules, the only definition: the registry, TrainPrompt, the access guard and the CLI check
 * names here. A task is `namespace/name`; the CLI accepts a bare `name` for the `default` namespace.
 * On the wire both parts are required (the contract says 1..63 characters each). An alias may not
 * start with a digit, so `task@3` is always a version number and never an alias.
 */
export const DEFAULT_NAMESPACE = 'default';

const SEGMENT = /^[a-z0-9_-]{1,63}$/;
const ALIAS = /^[a-z_-][a-z0-9_-]{0,62}$/;
const MODEL = /^[a-z0-9._-]{1,128}$/;

export interface TaskName {
  namespace: string;
  name: string;
}

export function checkTaskRef(ref: TaskRef | undefined, field: string): TaskName {
  if (ref === undefined) throw invalidArgument(field, 'is required (namespace and name)');
  checkSegment(ref.namespace, `${field}.namespace`);
  checkSegment(ref.name, `${field}.name`);
  return { namespace: ref.namespace, name: ref.name };
}

export function checkNamespace(value: string, field: string): void {
  checkSegment(value, field);
}

/** A token's namespace: a task namespace or ALL_NAMESPACES; the reason it is not, or undefined. */
export function namespaceProblem(namespace: string, allNamespaces: string): string | undefined {
  if (namespace === allNamespaces || SEGMENT.test(namespace)) return undefined;
  return `${JSON.stringify(namespace)} must be "${allNamespaces}" or 1..63 lowercase letters, digits, '-' or '_' (as task namespaces)`;
}

function checkSegment(value: string, field: string): void {
  if (value === '')
    throw invalidArgument(
      field,
      `is empty; use lowercase letters, digits, '-' or '_' (the CLI's default namespace is "${DEFAULT_NAMESPACE}")`,
    );
  if (!SEGMENT.test(value)) throw invalidArgument(field, `${JSON.stringify(value)} must be 1..63 lowercase letters, digits, '-' or '_'`);
}

export function checkAliasName(value: string, field: string): string {
  if (!ALIAS.test(value)) {
    throw invalidArgument(
      field,
      `alias ${JSON.stringify(value)} must be 1..63 lowercase letters, digits, '-' or '_', not starting with a digit`,
    );
  }
  return value;
}

export function checkModelName(value: string, field: string): string {
  if (!MODEL.test(value))
    throw invalidArgument(field, `model name ${JSON.stringify(value)} must be 1..128 lowercase letters, digits, '.', '-' or '_'`);
  return value;
}

export const formatTaskName = (task: TaskName): string => `${task.namespace}/${task.name}`;

/** Parses the CLI form `namespace/name` or bare `name` (namespace `default`); does not validate characters. */
export function parseTaskName(text: string): TaskName {
  const parts = text.split('/');
  if (parts.length === 1) return { namespace: DEFAULT_NAMESPACE, name: parts[0] };
  if (parts.length === 2) return { namespace: parts[0], name: parts[1] };
  throw new Error(`task ${JSON.stringify(text)}: expected "namespace/name" or "name"`);
}
