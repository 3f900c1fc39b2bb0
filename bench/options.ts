// Owns reading the benchmark's options from argv (--name value / --name=value) and env (BENCH_*).

export type ScenarioId = 'a' | 'b' | 'c' | 'd';
export const ALL_SCENARIOS: readonly ScenarioId[] = ['a', 'b', 'c', 'd'];
export type ToolName = 'ours' | 'skopeo';

export interface BenchOptions {
  scenarios: ScenarioId[];
  runs: number;
  /** Multiplies every layer size (counts stay): 0.01 turns the full bench into a smoke run. */
  scale: number;
  tools: ToolName[];
  /** Skip the extra, untimed run through the counting proxy. */
  skipUploadCount: boolean;
  resultsPath?: string;
}

const USAGE = `usage: npm run bench -- [--scenarios a,b,c,d] [--runs 5] [--scale 1] [--tools ours,skopeo] [--skip-upload-count] [--out FILE]
env: BENCH_SCENARIOS, BENCH_RUNS, BENCH_SCALE, BENCH_TOOLS, BENCH_SKIP_UPLOAD_COUNT=1, BENCH_OUT,
     BENCH_TMPDIR (registry storage; default /dev/shm when it is a tmpfs), BENCH_INHERIT_ENV=1`;

function argValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === `--${name}`) return argv[i + 1] ?? '';
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

function list<T extends string>(raw: string, allowed: readonly T[], what: string): T[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`unknown ${what} "${item}"\n${USAGE}`);
  }
  if (items.length === 0) throw new Error(`no ${what} given\n${USAGE}`);
  return items as T[];
}

function positive(raw: string, what: string, integer: boolean): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`bad ${what}: ${raw}\n${USAGE}`);
  return n;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  const pick = (name: string, envName: string): string | undefined => argValue(argv, name) ?? env[envName];
  return {
    scenarios: list(pick('scenarios', 'BENCH_SCENARIOS') ?? ALL_SCENARIOS.join(','), ALL_SCENARIOS, 'scenario'),
    runs: positive(pick('runs', 'BENCH_RUNS') ?? '5', 'run count', true),
    scale: positive(pick('scale', 'BENCH_SCALE') ?? '1', 'scale', false),
    tools: list(pick('tools', 'BENCH_TOOLS') ?? 'ours,skopeo', ['ours', 'skopeo'] as const, 'tool'),
    skipUploadCount: argv.includes('--skip-upload-count') || env.BENCH_SKIP_UPLOAD_COUNT === '1',
    resultsPath: pick('out', 'BENCH_OUT'),
  };
}
