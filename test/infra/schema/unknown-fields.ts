import path from 'node:path';
import ts from 'typescript';
import { objectKey, type K8sObject } from '../kustomize/objects.js';
import { modelPath } from './model-path.js';

/**
 * The JSON schemas in kubernetes-models accept unknown fields, so a misspelt field
 * (`readOnlyRootFileSystem`) would pass them silently. TypeScript's excess-property check does
 * catch it: each object becomes an object literal typed with the model's interface, and the
 * compiler's diagnostics are the unknown or mistyped fields.
 */
export function unknownFieldErrors(objects: K8sObject[], repoRoot: string): string[] {
  const file = path.join(repoRoot, 'test/infra/__rendered_objects__.ts');
  const lines: string[] = [];
  const owners: string[] = [];
  const emit = (line: string, owner: string) => {
    lines.push(line);
    owners.push(owner);
  };
  objects.forEach((o, i) => {
    const { folder, kind } = modelPath(o.apiVersion, o.kind);
    emit(`import type { I${kind} as T${i} } from 'kubernetes-models/${folder}/${kind}';`, `${objectKey(o)} (model import)`);
  });
  objects.forEach((o, i) => {
    JSON.stringify(o, null, 1)
      .split('\n')
      .forEach((line, n) => emit(n === 0 ? `export const o${i}: T${i} = ${line}` : line, objectKey(o)));
  });
  const source = lines.join('\n');

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => f === file || fileExists(f);
  host.readFile = (f) => (f === file ? source : readFile(f));
  host.getSourceFile = (f, lang, onError, create) =>
    f === file ? ts.createSourceFile(f, source, lang, true, ts.ScriptKind.TS) : getSourceFile(f, lang, onError, create);

  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.file?.fileName !== file || d.start === undefined) return `type check: ${message}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${owners[line]} (near "${lines[line].trim()}"): ${message}`;
  });
}
