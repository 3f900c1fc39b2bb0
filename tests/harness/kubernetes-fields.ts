// Owns finding fields Kubernetes does not know in rendered objects (a misspelt `readOnlyRootFileSystem` is
// dropped by an API server without strict validation, and kubernetes-models' schemas allow extra fields): each
// object is type-checked as an object literal of its kubernetes-models interface, whose excess-property check
// names every unknown field and its place.
import { join } from 'node:path';
import ts from 'typescript';
import type { K8sObject } from './kubernetes.js';

/** One line per unknown field or mistyped value, naming the object; `root` is where node_modules is. */
export function unknownFieldProblems(objects: K8sObject[], root: string): string[] {
  const fileName = join(root, '__rendered_kubernetes_objects__.ts');
  // Line 2i + 1 imports object i's interface, line 2i + 2 holds the object itself.
  const source = objects
    .map(
      (o, i) =>
        `import type { I${o.kind} as T${i} } from 'kubernetes-models/${o.apiVersion}/${o.kind}';\n` +
        `export const o${i}: T${i} = ${JSON.stringify(o)};`,
    )
    .join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === fileName ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === fileName)
    .map((d) => {
      const line = d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line;
      const o = objects[Math.floor(line / 2)];
      // The object was written as JSON, so TypeScript quotes its field names twice: '"field"'.
      const message = ts.flattenDiagnosticMessageText(d.messageText, ' ').replace(/'"([^"]*)"'/g, "'$1'");
      return `${o.kind} ${o.metadata.name}: ${message}`;
    });
}
