// Input checks for request bodies and headers: each failure says which field and what a valid value is.
import { isUtf8 } from 'node:buffer';
import { harborProjectProblem } from '../harbor/names.js';
import { swrNamespaceProblem } from '../swr/names.js';
import { isValidRepository, isValidTag } from '../oci/index.js';
import { HttpError, badRequest } from './errors.js';

/** A value for an error message: quoted, cut short, and never walked (a deeply nested value must not recurse). */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** body-parser `verify`: a body declared (or defaulted to) UTF-8 must be valid UTF-8, not silently repaired. */
export function requireUtf8(_req: unknown, _res: unknown, body: Buffer, encoding: string | null): void {
  if ((encoding ?? 'utf-8').toLowerCase() === 'utf-8' && !isUtf8(body)) {
    throw new HttpError(400, 'BAD_ENCODING', 'the body is not valid UTF-8');
  }
}

export function projectName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw badRequest(`${field} is required: the Harbor project name`);
  const problem = harborProjectProblem(value);
  if (problem) throw badRequest(`${field} ${shown(value)} is not a Harbor project name: it ${problem}`);
  return value;
}

export function namespaceName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw badRequest(`${field} is required: the SWR namespace`);
  const problem = swrNamespaceProblem(value);
  if (problem) throw badRequest(`${field} ${shown(value)} is not a valid SWR namespace: it ${problem}`);
  return value;
}

export function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw badRequest(`${field} must be true or false`);
}

export function optionalNames(value: unknown, field: string, kind: 'repository' | 'tag'): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > 10_000)
    throw badRequest(`${field} must be a non-empty list of ${kind} names`);
  return value.map((item, i) => {
    const ok = typeof item === 'string' && (kind === 'tag' ? isValidTag(item) : isValidRepository(item));
    if (!ok) throw badRequest(`${field}[${i}] ${shown(item)} is not a valid ${kind} name`);
    return item;
  });
}
