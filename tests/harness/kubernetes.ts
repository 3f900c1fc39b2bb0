// Owns rendering deploy/kubernetes without a cluster: the overlays through `kubectl kustomize` (in a copy of the
// folder where secret.env is made from its example, as a user does), the objects read from YAML, each validated
// offline against the Kubernetes schemas of the kubernetes-models package, and reading quantities.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as rendered: the fields the tests read are looked up by path. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** `kubectl kustomize` as a user runs it; a missing kubectl is named with the package that brings it. */
export function kustomize(dir: string): K8sObject[] {
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (run.error)
    throw new Error(
      `cannot run kubectl (${run.error.message}): install it, e.g. apt-get install -y kubernetes-client (Debian)`,
    );
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${run.stderr}`);
  return readYamlObjects(run.stdout, `kubectl kustomize ${dir}`);
}

/** Every document of a YAML stream; a document that is not an object with apiVersion, kind and name fails. */
export function readYamlObjects(text: string, where: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc, index) => {
      if (doc.errors.length > 0) throw new Error(`${where}, document ${index + 1}: ${doc.errors[0].message}`);
      return doc.toJS() as unknown;
    })
    .filter((value) => value !== null)
    .map((value, index) => {
      const o = value as Partial<K8sObject>;
      if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string')
        throw new Error(`${where}, object ${index + 1} has no apiVersion, kind or metadata.name`);
      return o as K8sObject;
    });
}

/** A copy of `folder` (deploy/kubernetes) with base/secret.env made from its example; removed by `done`. */
export function preparedCopy(folder: string): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-render-'));
  cpSync(folder, dir, { recursive: true });
  cpSync(join(dir, 'base/secret.env.example'), join(dir, 'base/secret.env'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/**
 * The object checked against its kind's schema (Kubernetes 1.27's, kubernetes-models 4.x): types, required
 * fields, formats. Undefined when valid, else what is wrong, naming the object.
 */
export async function schemaProblem(object: K8sObject): Promise<string | undefined> {
  const name = `${object.kind} ${object.metadata.name} (${object.apiVersion})`;
  let models: Record<string, unknown>;
  try {
    models = (await import(`kubernetes-models/${object.apiVersion}/${object.kind}`)) as Record<string, unknown>;
  } catch (error) {
    return `${name}: kubernetes-models has no such kind and version (${(error as Error).message}); use one a current cluster serves`;
  }
  const Kind = models[object.kind] as ModelClass;
  try {
    new Kind(object).validate();
    return undefined;
  } catch (error) {
    return `${name}: ${(error as Error).message}`;
  }
}

const UNITS: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9, m: 1e-3 };

/** Every object's schema problems, one object after the other (jest's module loader does not take parallel imports). */
export async function schemaProblems(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const object of objects) {
    const problem = await schemaProblem(object);
    if (problem) problems.push(problem);
  }
  return problems;
}

/** A resource quantity (`160Mi`, `1`, `100m`) as a number of bytes or cores. */
export function quantity(text: string | number | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G|m)?$/.exec(String(text ?? ''));
  if (!m) throw new Error(`"${String(text)}" is not a quantity this test reads (e.g. 160Mi, 1, 100m)`);
  return Number(m[1]) * UNITS[m[2] ?? ''];
}
