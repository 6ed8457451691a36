import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ListTasksRequestSchema, PromptRegistryService } from '../gen/ptune/v1/registry_pb.js';
import { methodPath } from '../grpc/index.js';
import { ACCESS_RULES } from './access-rules.js';
import { coversNamespace } from './principal.js';
import { ALL_NAMESPACES } from './roles.js';

describe('ListTasks scope', () => {
  const rule = ACCESS_RULES.get(methodPath(PromptRegistryService.method.listTasks))!;
  const namespacesOf = (namespace: string): readonly string[] => {
    if (rule.scope.kind !== 'namespaces') throw new Error(`ListTasks scope is ${rule.scope.kind}`);
    return rule.scope.of(create(ListTasksRequestSchema, { namespace }));
  };

  it('an empty namespace means every namespace, which only a "*" token covers (registry.proto)', () => {
    // '' would be refused by the guard as "names no namespace"
    expect(namespacesOf('')).toEqual([ALL_NAMESPACES]);
    const [all] = namespacesOf('');
    const reader = (namespace: string) => ({ actor: 'tok', namespace, role: 'reader' as const });
    expect(coversNamespace(reader('*'), all)).toBe(true);
    expect(coversNamespace(reader('team-a'), all)).toBe(false);
    expect(namespacesOf('team-a')).toEqual(['team-a']);
  });
});
