// Owns reading the container files as Docker and Compose read them, for tests that follow docker/Dockerfile
// instead of a copy of it: Dockerfile instructions and stages, `docker run --env-file` lines, .dockerignore
// patterns, and the small YAML subset docker-compose.yml is written in. Only what the repo's files use.

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  keyword: string;
  /** The text after the keyword and its --flags, continuation lines joined. */
  args: string;
  /** --flag=value options (COPY --from, HEALTHCHECK --interval, ...). */
  flags: Record<string, string>;
  /** 1-based line of the keyword in the file, for messages. */
  line: number;
}

export interface Stage {
  index: number;
  /** The `AS name`, if any. */
  name?: string;
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  stages: Stage[];
  /** The last stage: what `docker build` without --target produces. */
  final: Stage;
}

export function parseDockerfile(text: string): Dockerfile {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i];
    if (/^\s*(#|$)/.test(first)) continue;
    const start = i + 1;
    let joined = first;
    // A trailing backslash continues the instruction; comment lines inside a continuation are dropped.
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, ' ');
      i++;
      if (/^\s*#/.test(lines[i])) {
        joined += '\\';
        continue;
      }
      joined += lines[i];
    }
    const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(joined);
    if (!match) throw new Error(`Dockerfile line ${start}: cannot read "${first}"`);
    const keyword = match[1].toUpperCase();
    let rest = match[2].trim();
    const flags: Record<string, string> = {};
    for (let flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest); flag; flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest)) {
      flags[flag[1]] = flag[2] ?? 'true';
      rest = rest.slice(flag[0].length);
    }
    const instruction: Instruction = { keyword, args: rest.trim(), flags, line: start };
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!from) throw new Error(`Dockerfile line ${start}: FROM "${instruction.args}" is not IMAGE [AS NAME]`);
      stages.push({ index: stages.length, name: from[2], base: from[1], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${start}: ${keyword} before the first FROM`);
    stage.instructions.push(instruction);
  }
  if (stages.length === 0) throw new Error('the Dockerfile has no FROM');
  return { stages, final: stages.at(-1)! };
}

/** The instructions of one kind in a stage. */
export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** A JSON array (exec form) as its strings; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
    throw new Error(`not a JSON array of strings: ${args}`);
  return parsed;
}

/** Sources and destination of COPY/ADD, in either form. */
export function copyArgs(args: string): { sources: string[]; dest: string } {
  const words = execForm(args) ?? args.split(/\s+/).filter(Boolean);
  if (words.length < 2) throw new Error(`COPY needs a source and a destination: "${args}"`);
  return { sources: words.slice(0, -1), dest: words.at(-1)! };
}

/** ENV key=value pairs (values optionally double-quoted), or the legacy `ENV key value`. */
export function envArgs(args: string): Record<string, string> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const legacy = /^(\S+)\s+(.*)$/.exec(args);
    if (!legacy) throw new Error(`ENV "${args}" has no value`);
    return { [legacy[1]]: legacy[2] };
  }
  const env: Record<string, string> = {};
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    env[m[1]] = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
  }
  return env;
}

/** VOLUME in either form. */
export function volumeArgs(args: string): string[] {
  return execForm(args) ?? args.split(/\s+/).filter(Boolean);
}

/** HEALTHCHECK: the command as argv (exec form) or as `/bin/sh -c` (shell form); undefined for NONE. */
export function healthcheckCommand(instruction: Instruction): string[] | undefined {
  if (/^NONE$/i.test(instruction.args)) return undefined;
  const cmd = /^CMD\s+(.*)$/is.exec(instruction.args);
  if (!cmd) throw new Error(`HEALTHCHECK on line ${instruction.line} has no CMD`);
  return execForm(cmd[1]) ?? ['/bin/sh', '-c', cmd[1]];
}

/** CMD/ENTRYPOINT as argv (shell form through /bin/sh -c, as Docker runs it). */
export function commandArgv(args: string): string[] {
  return execForm(args) ?? ['/bin/sh', '-c', args];
}

/**
 * `docker run --env-file` as Docker reads it: leading whitespace dropped, `#` lines and blank lines skipped,
 * the name up to the first `=` (no whitespace in it), the value verbatim (quotes and trailing spaces kept);
 * a bare NAME takes the caller's value if it has one.
 */
export function readEnvFile(text: string, hostEnv: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const line = raw.replace(/^\s+/, '');
      if (line === '' || line.startsWith('#')) return;
      const eq = line.indexOf('=');
      const name = (eq === -1 ? line : line.slice(0, eq)).replace(/^\s+/, '');
      if (name === '') throw new Error(`env file line ${index + 1}: no variable name`);
      if (/\s/.test(name)) throw new Error(`env file line ${index + 1}: variable "${name}" contains whitespaces`);
      if (eq !== -1) env[name] = line.slice(eq + 1);
      else if (hostEnv[name] !== undefined) env[name] = hostEnv[name]!;
    });
  return env;
}

/** A predicate telling whether .dockerignore keeps `path` (relative, `/`-separated) out of the build context. */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const exception = l.startsWith('!');
      const pattern = (exception ? l.slice(1) : l).trim().replace(/^\/+|\/+$/g, '');
      const source = pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      return { exception, regex: new RegExp(`^${source}$`) };
    });
  return (path: string) => {
    const parts = path.replace(/^\.\/|\/+$/g, '').split('/');
    let ignored = false;
    // A pattern that matches a directory keeps everything under it out, so test the path and its parents.
    for (const rule of rules) {
      for (let n = 1; n <= parts.length; n++) {
        if (rule.regex.test(parts.slice(0, n).join('/'))) {
          ignored = !rule.exception;
          break;
        }
      }
    }
    return ignored;
  };
}

export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

/**
 * The YAML docker-compose.yml is written in: block mappings and sequences by indentation, plain, quoted and
 * JSON-style flow scalars, `#` comments. Anchors, multi-line strings and flow mappings are refused.
 */
export function parseYaml(text: string): Yaml {
  const lines: { indent: number; text: string; line: number }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const body = stripComment(raw);
    if (body.trim() === '') return;
    if (/^\t/.test(body)) throw new Error(`YAML line ${index + 1}: tab indentation`);
    lines.push({ indent: body.length - body.trimStart().length, text: body.trim(), line: index + 1 });
  });
  let pos = 0;
  const block = (indent: number): Yaml => {
    const first = lines[pos];
    if (!first || first.indent < indent) return null;
    if (first.text.startsWith('- ') || first.text === '-') {
      const list: Yaml[] = [];
      while (pos < lines.length && lines[pos].indent === first.indent && /^-( |$)/.test(lines[pos].text)) {
        const item = lines[pos].text.replace(/^-\s*/, '');
        if (/^[^'"[{][^:]*:( |$)/.test(item))
          throw new Error(`YAML line ${lines[pos].line}: mappings inside sequences are not read here`);
        pos++;
        list.push(item === '' ? block(first.indent + 1) : scalar(item, lines[pos - 1].line));
      }
      return list;
    }
    const map: { [key: string]: Yaml } = {};
    while (pos < lines.length && lines[pos].indent === first.indent) {
      const { text: t, line } = lines[pos];
      const kv = /^("[^"]*"|'[^']*'|[^:]+?):(?: +(.*))?$/.exec(t);
      if (!kv) throw new Error(`YAML line ${line}: expected "key: value", got "${t}"`);
      const key = /^["']/.test(kv[1]) ? kv[1].slice(1, -1) : kv[1];
      pos++;
      if (kv[2] !== undefined && kv[2] !== '') map[key] = scalar(kv[2], line);
      else if (
        pos < lines.length &&
        (lines[pos].indent > first.indent || (lines[pos].indent === first.indent && /^-( |$)/.test(lines[pos].text)))
      )
        map[key] = block(lines[pos].indent);
      else map[key] = null;
    }
    if (pos < lines.length && lines[pos].indent > first.indent)
      throw new Error(`YAML line ${lines[pos].line}: unexpected indentation`);
    return map;
  };
  const result = block(0);
  if (pos < lines.length) throw new Error(`YAML line ${lines[pos].line}: unexpected indentation`);
  return result;
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}

function scalar(text: string, line: number): Yaml {
  if (/^[&*!|>{]/.test(text)) throw new Error(`YAML line ${line}: "${text}" uses YAML this reader does not take`);
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text) as Yaml;
    } catch {
      return text
        .slice(1, -1)
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
        .map((item) => scalar(item, line));
    }
  }
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) return text.slice(1, -1).replace(/''/g, "'");
  if (/^(true|false)$/.test(text)) return text === 'true';
  if (/^(null|~)$/.test(text)) return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}
