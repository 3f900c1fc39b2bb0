// Owns the stand-in's label writes, as Harbor's swagger has them from 2.0: POST /labels (CreateLabel: 201 with
// Location, 409 for a name its scope already has) and POST .../artifacts/{reference}/labels (addLabel: the
// body's id only; 200, 404 for an unknown label, 409 for one already on the artifact). Only the admin writes.
import type { ServerResponse } from 'node:http';
import type { Caller } from './auth.js';
import { sendError } from './http.js';
import type { HarborState } from './state.js';

function readLabel(res: ServerResponse, body: Buffer | undefined): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body?.toString('utf8') ?? '');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  sendError(res, 400, 'BAD_REQUEST', 'invalid label in the request body');
  return undefined;
}

function admitted(res: ServerResponse, caller: Caller): boolean {
  if (caller === 'admin') return true;
  if (caller === 'anonymous') sendError(res, 401, 'UNAUTHORIZED', 'unauthorized');
  else sendError(res, 403, 'FORBIDDEN', 'forbidden');
  return false;
}

export function createLabel(res: ServerResponse, caller: Caller, state: HarborState, body: Buffer | undefined): void {
  if (!admitted(res, caller)) return;
  const label = readLabel(res, body);
  if (!label) return;
  const scope = label.scope === 'p' ? 'p' : 'g';
  const projectId = typeof label.project_id === 'number' ? label.project_id : 0;
  if (typeof label.name !== 'string' || label.name === '')
    return sendError(res, 400, 'BAD_REQUEST', 'name of the label is required');
  const made = state.createLabel(label.name, scope, projectId);
  if (!made) return sendError(res, 409, 'CONFLICT', `label ${label.name} already exists`);
  res.writeHead(201, { location: `/api/v2.0/labels/${made.id}`, 'content-length': 0 }).end();
}

export function addArtifactLabel(
  res: ServerResponse,
  caller: Caller,
  state: HarborState,
  artifact: { repo: string; digest: string },
  body: Buffer | undefined,
): void {
  if (!admitted(res, caller)) return;
  const label = readLabel(res, body);
  if (!label) return;
  const found = state.labels.find((l) => l.id === label.id);
  if (!found) return sendError(res, 404, 'NOT_FOUND', `label ${String(label.id)} not found`);
  const key = `${artifact.repo}@${artifact.digest}`;
  const ids = state.artifactLabels.get(key) ?? [];
  if (ids.includes(found.id))
    return sendError(res, 409, 'CONFLICT', `label ${found.id} is already added to the artifact ${artifact.digest}`);
  state.artifactLabels.set(key, [...ids, found.id]);
  res.writeHead(200, { 'content-length': 0 }).end();
}
