// `jobs`: a running service's jobs through its API (/api/v1/jobs), as a table or as JSON, so an operator
// need not remember the curl line or the token header.
import { readRawConfig } from '../config/config.js';
import { CONFIG_KEYS } from '../config/keys.js';
import { keyReader, type Raw } from '../config/read-keys.js';
import type { Job, JobState } from '../jobs/types.js';
import { readResponseUpTo } from '../oci/body.js';
import { userAgent } from '../oci/user-agent.js';
import { formatBytes } from './progress.js';
import { counted } from './words.js';
import { UsageError } from './usage-error.js';

export interface JobsFlags {
  url?: string;
  token?: string;
  state?: string;
  project?: string;
  limit?: string;
  json?: boolean;
}

const STATES: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'skipped'];
type JobView = Job & { progress?: { imagesTotal: number; imagesDone: number; bytesUploaded: number } };

/** The service's address and token: flags, then the environment, then the app.conf the service itself reads. */
function target(flags: JobsFlags): { base: URL; token?: string } {
  let raw: Raw = {};
  try {
    raw = readRawConfig().raw;
  } catch {
    // No readable app.conf here (another host, another directory): flags and the environment must do.
  }
  const text = flags.url ?? process.env.SWR_HARBOR_SYNC_URL ?? `http://127.0.0.1:${configuredPort(raw)}`;
  let base: URL;
  try {
    base = new URL(text);
  } catch {
    throw new UsageError(`--url "${text}" is not a URL; give the service's address, e.g. http://127.0.0.1:5000`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new UsageError(`--url must be http:// or https://, got ${base.protocol}`);
  const token = flags.token ?? process.env.SWR_HARBOR_SYNC_TOKEN ?? (raw.ApiToken?.trim() || undefined);
  return { base, token };
}

/** Port as the service reads it, with the configuration's own message when it is not one (exit 2). */
function configuredPort(raw: Raw): number {
  const problems: string[] = [];
  const port = keyReader({ Port: CONFIG_KEYS.Port }, raw, problems).get('Port');
  if (problems.length > 0) throw new UsageError(`configuration: ${problems.join('; ')}, or give --url`);
  return port;
}

function query(flags: JobsFlags): URLSearchParams {
  const params = new URLSearchParams();
  if (flags.state !== undefined) {
    if (!STATES.includes(flags.state as JobState)) throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
    params.set('state', flags.state);
  }
  if (flags.project !== undefined) params.set('project', flags.project);
  if (flags.limit !== undefined) {
    const n = Number(flags.limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      throw new UsageError('--limit must be a whole number from 1 to 1000');
    params.set('limit', String(n));
  }
  return params;
}

function what(job: Job): string {
  const spec = job.spec;
  if (spec.kind === 'delete')
    return `delete ${spec.namespace}/${spec.repository} (${spec.project}/${spec.repository}@${spec.digest.slice(0, 19)})`;
  if (spec.kind === 'image')
    return `${spec.project}/${spec.repository}:${spec.tags.join(',') || spec.digest.slice(0, 19)} -> ${spec.namespace}`;
  const scope = [spec.repositories?.join(',') ?? '*', spec.tags ? `:${spec.tags.join(',')}` : ''].join('');
  return `${spec.project}/${scope} -> ${spec.namespace}${spec.dryRun ? ' (dry run)' : ''}`;
}

function progress(job: JobView): string {
  if (job.progress)
    return `${job.progress.imagesDone}/${counted(job.progress.imagesTotal, 'image')}, ${formatBytes(job.progress.bytesUploaded)}`;
  if (job.results.length === 0) return '';
  const bytes = job.results.reduce((a, r) => a + r.bytesUploaded, 0);
  return `${counted(job.results.length, 'image')}, ${formatBytes(bytes)}`;
}

function jobTable(jobs: JobView[]): string {
  const rows = jobs.map((j) => [
    j.id,
    j.state,
    String(j.attempts),
    j.updatedAt.replace(/\.\d+Z$/, 'Z'),
    what(j),
    progress(j),
    j.error ?? '',
  ]);
  const header = ['ID', 'STATE', 'TRIES', 'UPDATED', 'WHAT', 'PROGRESS', 'ERROR'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // The error column is last and not padded: it can be long, and a terminal wraps it well enough.
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** A page of 1,000 jobs with their per-image results fits many times over. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export async function jobsCommand(id: string | undefined, flags: JobsFlags): Promise<number> {
  if (id !== undefined && !/^[0-9a-f-]{36}$/.test(id))
    throw new UsageError(`"${id}" is not a job id (a UUID, as the service returns when it queues a job)`);
  const { base, token } = target(flags);
  const url = new URL(id ? `/api/v1/jobs/${id}` : `/api/v1/jobs?${query(flags)}`, base);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { 'user-agent': userAgent(), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    process.stderr.write(
      `error: cannot reach the service at ${base.origin} (${reason}); is it running? give its address with --url\n`,
    );
    return 1;
  }
  let read: { text: string; truncated: boolean };
  try {
    read = await readResponseUpTo(res, MAX_ANSWER_BYTES);
  } catch (error) {
    process.stderr.write(`error: the answer from ${base.origin} broke off (${(error as Error).message})\n`);
    return 1;
  }
  if (read.truncated) {
    process.stderr.write(
      `error: the answer from ${base.origin} is over ${MAX_ANSWER_BYTES / 1024 / 1024} MiB, more than a job list; is --url the service?\n`,
    );
    return 1;
  }
  let body: { jobs?: JobView[]; error?: { message?: string } } | JobView | undefined;
  try {
    body = JSON.parse(read.text) as typeof body;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const message = (body as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${res.status}`;
    const hint = res.status === 401 ? " (pass the service's ApiToken with --token or SWR_HARBOR_SYNC_TOKEN)" : '';
    process.stderr.write(`error: the service answered ${res.status}: ${message}${hint}\n`);
    return 1;
  }
  const jobs = id ? [body as JobView] : ((body as { jobs?: JobView[] }).jobs ?? []);
  if (flags.json) process.stdout.write(`${JSON.stringify(id ? jobs[0] : { jobs }, null, 2)}\n`);
  else if (jobs.length === 0) process.stdout.write('no jobs\n');
  else process.stdout.write(`${jobTable(jobs)}\n`);
  if (id && !flags.json) {
    for (const r of jobs[0].results)
      process.stdout.write(`  ${r.status.padEnd(7)} ${r.destination}${r.reason ? `: ${r.reason}` : ''}\n`);
  }
  return 0;
}
