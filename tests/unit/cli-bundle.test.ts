// The bundled command line (scripts/bundle.mjs, built by npm run build) as the copy commands load it: the entry
// and the chunks a copy imports hold no Express, SQLite, winston or undici's index (fetch, WebSocket, mocks), and load
// nothing from node_modules at run time, only Node's own modules. esbuild's metafile says what each chunk holds.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';

interface Output {
  entryPoint?: string;
  inputs: Record<string, unknown>;
  imports: Array<{ path: string; kind: string; external?: boolean }>;
}
const meta = JSON.parse(readFileSync(fileURLToPath(new URL('../../dist/bin-meta.json', import.meta.url)), 'utf8')) as {
  outputs: Record<string, Output>;
};

/** The output files `start` loads before it runs: its static imports, followed to the end. */
function loadedWith(start: string): Set<string> {
  const seen = new Set<string>();
  const pending = [start];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const i of meta.outputs[file].imports) if (!i.external && i.kind === 'import-statement') pending.push(i.path);
  }
  return seen;
}

const outputOf = (entry: string) => {
  const found = Object.entries(meta.outputs).find(([, o]) => o.entryPoint === entry);
  if (!found) throw new Error(`no output for ${entry}`);
  return found[0];
};

describe('the bundled command line, as a copy loads it', () => {
  const main = outputOf('dist/src/cli/main.js');
  const copyChunk = meta.outputs[main].imports.find(
    (i) =>
      i.kind === 'dynamic-import' &&
      Object.keys(meta.outputs[i.path]?.inputs ?? {}).includes('dist/src/cli/copy-commands.js'),
  )?.path;
  const files = new Set([...loadedWith(main), ...loadedWith(copyChunk ?? main)]);
  const inputs = [...files].flatMap((f) => Object.keys(meta.outputs[f].inputs));

  test('the copy commands are a chunk of their own, loaded only when a copy runs', () => {
    expect(copyChunk).toBeDefined();
    expect(loadedWith(main).has(copyChunk!)).toBe(false);
  });

  test('holds the copy engine and undici parts, not the service or undici index', () => {
    expect(inputs).toContain('dist/src/copy/copy-image.js');
    expect(inputs.some((i) => i.endsWith('node_modules/undici/lib/dispatcher/agent.js'))).toBe(true);
    const unwanted = inputs.filter((i) =>
      /node_modules\/undici\/(index\.js|lib\/web\/(fetch\/index|websocket|eventsource)|lib\/mock|lib\/cache)|dist\/src\/(http|sqlite|redis|logging)\//.test(
        i,
      ),
    );
    expect(unwanted).toEqual([]);
  });

  test('loads nothing from node_modules at run time, only Node modules', () => {
    const external = [...files].flatMap((f) => meta.outputs[f].imports.filter((i) => i.external).map((i) => i.path));
    expect(external.length).toBeGreaterThan(0);
    // node: names Node's own, some newer than Node 20 (undici probes for node:sqlite when asked for a cache).
    expect(external.filter((path) => !path.startsWith('node:') && !isBuiltin(path))).toEqual([]);
  });
});
