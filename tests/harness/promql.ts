// Owns reading the monitoring files shipped in deploy/ the way Prometheus and Grafana read them (and running promtool), for tests that
// follow the files instead of a copy of them: the PromQL of a Grafana dashboard (panel targets and template
// queries), the `expr:` of a Prometheus rule file, the metric names a PromQL expression reads, and the names a
// /metrics answer declares. Only the syntax the repo's files use.

/** PromQL words that look like names but are not series: operators, modifiers, grouping keywords. */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/**
 * The metric names an expression reads. Picks, in order: drops Grafana variables ($job, ${x}, $__rate_interval),
 * string literals, label matchers {...}, ranges and subqueries [...] and the label lists after by/without/on/
 * ignoring/group_left/group_right; then every remaining identifier that is not a keyword, not a number's part
 * (1e3, 5m) and not a function (followed by an opening parenthesis) is a metric name.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:])[a-zA-Z_:][\w:]*(?!\s*\()/g)) {
    // A name cut short by the lookahead's backtracking ("ra" of "rate(") is no name.
    const rest = stripped.slice(match.index + match[0].length);
    if (/^[\w:]/.test(rest)) continue;
    if (!KEYWORDS.has(match[0].toLowerCase())) names.add(match[0]);
  }
  return [...names].sort();
}

export interface DashboardQuery {
  /** Where in the dashboard: the panel's title and target, or the template variable's name. */
  where: string;
  expr: string;
}

/** Every PromQL a Grafana dashboard runs: panel targets (rows' nested panels too) and `label_values` templates. */
export function dashboardQueries(dashboard: unknown): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  type Panel = { title?: string; targets?: Array<{ expr?: string; refId?: string }>; panels?: Panel[] };
  const visit = (panel: Panel) => {
    for (const target of panel.targets ?? [])
      if (target.expr) queries.push({ where: `panel "${panel.title}" ${target.refId}`, expr: target.expr });
    for (const inner of panel.panels ?? []) visit(inner);
  };
  const board = dashboard as {
    panels?: Panel[];
    templating?: { list?: Array<{ name: string; type: string; query?: string | { query?: string } }> };
  };
  for (const panel of board.panels ?? []) visit(panel);
  for (const variable of board.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
    // label_values(metric, label) reads the metric; the label is not a series.
    const labelValues = /^\s*label_values\(\s*(.*),\s*\w+\s*\)\s*$/.exec(query);
    queries.push({ where: `variable $${variable.name}`, expr: labelValues ? labelValues[1] : query });
  }
  return queries;
}

export interface RuleExpression {
  /** The rule's `alert:` or `record:` name. */
  rule: string;
  expr: string;
}

/**
 * The `expr:` of every rule in a rule file, inline or as a block scalar (`>-`, `|`), with the `alert:` or
 * `record:` it belongs to. Throws on an `expr:` it cannot read rather than passing over it.
 */
export function ruleExpressions(yaml: string): RuleExpression[] {
  const lines = yaml.split('\n');
  const found: RuleExpression[] = [];
  let rule = '';
  lines.forEach((line, i) => {
    const named = /^\s*-?\s*(?:alert|record):\s*(\S+)\s*$/.exec(line);
    if (named) rule = named[1];
    const expr = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!expr) return;
    const [, indent, value] = expr;
    if (/^[>|][-+]?$/.test(value)) {
      const block: string[] = [];
      for (let j = i + 1; j < lines.length && (lines[j].trim() === '' || lines[j].search(/\S/) > indent.length); j++)
        block.push(lines[j].trim());
      found.push({ rule, expr: block.join(value.startsWith('>') ? ' ' : '\n').trim() });
    } else if (/^["']/.test(value)) {
      throw new Error(`line ${i + 1}: a quoted expr is not read by this test's reader; write it plain or as a block`);
    } else if (value) {
      found.push({ rule, expr: value.replace(/\s+#.*$/, '') });
    } else {
      throw new Error(`line ${i + 1}: an empty expr`);
    }
  });
  return found;
}

/**
 * The names a Prometheus text answer declares (`# TYPE` lines: a histogram's _bucket, _sum and _count, a
 * summary's _sum and _count) and the names of its samples.
 */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\w+)$/.exec(line);
    if (typed) {
      const [, name, type] = typed;
      names.add(name);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{.*\})? \S+$/.exec(line);
    if (sample) names.add(sample[1]);
  }
  return names;
}

export interface PromtoolRun {
  code: number;
  /** stdout and stderr together, as promtool splits its findings between them. */
  output: string;
}

/** Runs Debian's promtool (package `prometheus`, installed by .ci/run); a missing binary fails saying so. */
export async function promtool(args: string[], cwd?: string): Promise<PromtoolRun> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile('promtool', args, { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT')
        return reject(new Error('promtool is missing: run `apt-get install -y prometheus` (Debian; .ci/run does)'));
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}
