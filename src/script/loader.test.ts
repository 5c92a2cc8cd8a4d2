import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ScriptError } from './errors.ts';
import { isLoadedScript, type LoadedScript, loadScript } from './loader.ts';
import { tempScripts } from './test_support.ts';

const run = promisify(execFile);

async function loaded(path: string): Promise<LoadedScript> {
  const r = await loadScript(path);
  if (!isLoadedScript(r)) assert.fail(`unexpected errors: ${JSON.stringify(r)}`);
  return r;
}

async function errorsOf(path: string): Promise<ScriptError[]> {
  const r = await loadScript(path);
  if (isLoadedScript(r)) assert.fail('the script loaded');
  return r;
}

describe('loadScript', () => {
  const tmp = tempScripts({
    'lib.ts':
      'export let counter: number = 41;\ncounter++;\nexport function helper(): string {\n  return "h";\n}\n',
    'data.json': '{ "answer": 42 }',
    'main.ts': [
      "import { readFileSync } from 'node:fs';",
      "import { helper, counter } from './lib.ts';",
      "import data from './data.json' with { type: 'json' };",
      'type Ksr = { info(m: string): void };',
      'export function ksr_request_route(KSR: Ksr): string {',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a script
      '  return `${helper()} ${counter} ${data.answer} ${typeof readFileSync} ${import.meta.filename}`;',
      '}',
      'export function ksr_reply_route(_KSR: Ksr): void {}',
      'export async function lazy(): Promise<number> {',
      "  const m = await import('./lib.ts');",
      '  return m.counter;',
      '}',
      'export function boom(): void {',
      "  throw new Error('kaboom');",
      '}',
      'export const notAFunction = 1;',
    ].join('\n'),
  });
  after(() => tmp.remove());

  it('loads a TypeScript script with builtin, relative and JSON imports', async () => {
    const s = await loaded(tmp.path('main.ts'));
    assert.equal(s.path, tmp.path('main.ts'));
    assert.equal((s.requestRoute as () => string)(), `h 42 42 function ${tmp.path('main.ts')}`);
    assert.equal(typeof s.replyRoute, 'function');
    assert.equal(s.onsendRoute, undefined);
    assert.deepEqual(Object.keys(s.exports).sort(), ['boom', 'ksr_reply_route', 'ksr_request_route', 'lazy']);
    assert.equal(await (s.exports.lazy as () => Promise<number>)(), 42);
    assert.deepEqual(
      s.files.map((f) => f.path),
      [tmp.path('main.ts'), tmp.path('lib.ts'), tmp.path('data.json')],
    );
  });

  it('resolves handlers by exported name or by function', async () => {
    const s = await loaded(tmp.path('main.ts'));
    assert.equal(s.resolveHandler('boom'), s.exports.boom);
    const f = (): number => 1;
    assert.equal(s.resolveHandler(f), f);
    assert.equal(s.resolveHandler('missing'), undefined);
    assert.equal(s.resolveHandler('notAFunction'), undefined);
  });

  it('locates runtime errors at file:line:column', async () => {
    const s = await loaded(tmp.path('main.ts'));
    try {
      (s.exports.boom as () => void)();
      assert.fail('no throw');
    } catch (e) {
      assert.deepEqual(s.locate(e), { file: tmp.path('main.ts'), line: 14, column: 9, message: 'kaboom' });
      assert.match((e as Error).stack ?? '', new RegExp(`${tmp.path('main.ts')}:14:9`));
    }
  });

  it('corrects the column of errors on the first line (the wrapper shares it)', async () => {
    const p = tmp.write('first.ts', "export function ksr_request_route() { throw new Error('x'); }");
    const s = await loaded(p);
    try {
      (s.requestRoute as () => void)();
    } catch (e) {
      assert.deepEqual(s.locate(e), { file: p, line: 1, column: 45, message: 'x' });
    }
  });

  it('gives each load its own module instances (a reload re-runs top-level code)', async () => {
    const p = tmp.write('state.ts', 'let n = 0;\nexport function ksr_request_route() { return ++n; }');
    const a = await loaded(p);
    const b = await loaded(p);
    assert.equal((a.requestRoute as () => number)(), 1);
    assert.equal((a.requestRoute as () => number)(), 2);
    assert.equal((b.requestRoute as () => number)(), 1);
  });

  it('loads .js and .mjs files and refuses TypeScript syntax in them', async () => {
    const js = tmp.write('plain.mjs', 'export function ksr_request_route(KSR) { return 1; }\n');
    assert.equal((await loaded(js)).generation, 1);
    const bad = tmp.write('typed.js', 'export function ksr_request_route(KSR: number) {}\n');
    assert.deepEqual(await errorsOf(bad), [
      {
        file: bad,
        line: 1,
        column: 38,
        message: 'TypeScript syntax in a JavaScript file (rename it to .ts)',
      },
    ]);
  });

  it('refuses a syntax error with file:line:column', async () => {
    const p = tmp.write('syntax.ts', 'export function ksr_request_route(KSR) {\n  let x = ;\n}\n');
    const [e] = await errorsOf(p);
    assert.deepEqual([e.file, e.line, e.column], [p, 2, 11]);
    assert.match(e.message, /SyntaxError/);
  });

  it('refuses non-erasable TypeScript (enum) with file:line', async () => {
    const p = tmp.write('enum.ts', 'export function ksr_request_route() {}\nenum Color { Red }\n');
    const [e] = await errorsOf(p);
    assert.deepEqual([e.file, e.line, e.column], [p, 2, 1]);
    assert.match(e.message, /enum is not supported/);
  });

  it('locates early errors V8 reports without a position', async () => {
    const p = tmp.write('early.js', 'let a = 1;\nexport function ksr_request_route() {}\nlet  a = 2;\n');
    assert.deepEqual(await errorsOf(p), [
      { file: p, line: 3, column: 6, message: "SyntaxError: Identifier 'a' has already been declared" },
    ]);
  });

  it('refuses a script without ksr_request_route', async () => {
    const p = tmp.write('noroute.ts', 'export function other() {}\n');
    assert.deepEqual(await errorsOf(p), [
      {
        file: p,
        line: 1,
        column: 1,
        message: 'the script does not export a function ksr_request_route(KSR)',
      },
    ]);
  });

  it('refuses a missing import, a missing export and a failing top level, at the import site', async () => {
    const a = tmp.write(
      'missing.ts',
      "import { x } from './nothere.ts';\nexport function ksr_request_route() {}\n",
    );
    assert.deepEqual(await errorsOf(a), [
      { file: a, line: 1, column: 19, message: `cannot find ${tmp.path('nothere.ts')}` },
    ]);
    const b = tmp.write(
      'noexport.ts',
      "import { nope } from './lib.ts';\nexport function ksr_request_route() {}\n",
    );
    assert.deepEqual(await errorsOf(b), [
      {
        file: b,
        line: 1,
        column: 10,
        message: "SyntaxError: './lib.ts' does not provide an export named 'nope'",
      },
    ]);
    const c = tmp.write(
      'toplevel.ts',
      'export function ksr_request_route() {}\nconst o: any = null;\no.x = 1;\n',
    );
    const [e] = await errorsOf(c);
    assert.deepEqual([e.file, e.line], [c, 3]);
    assert.match(e.message, /Cannot set properties of null .*while loading the script/);
  });

  it('refuses circular imports clearly', async () => {
    tmp.write(
      'cyc_a.ts',
      "import { b } from './cyc_b.ts';\nexport const a = 1;\nexport function ksr_request_route() { return b; }\n",
    );
    tmp.write('cyc_b.ts', "import { a } from './cyc_a.ts';\nexport const b = 2;\n");
    const [e] = await errorsOf(tmp.path('cyc_a.ts'));
    assert.deepEqual([e.file, e.line], [tmp.path('cyc_b.ts'), 1]);
    assert.match(e.message, /circular import/);
  });

  it('reports a missing entry file', async () => {
    const p = tmp.path('absent.ts');
    assert.deepEqual(await errorsOf(p), [{ file: p, line: 0, column: 0, message: `cannot find ${p}` }]);
  });

  it('does not grow memory over 1,000 reloads', async () => {
    // A child process with --expose-gc measures the heap after a full collection.
    const child = tempScripts({
      'script.ts': `export const table: string[] = [${Array.from({ length: 500 }, (_, i) => `'entry-${i}'`).join(', ')}];\nexport function ksr_request_route(KSR: unknown): number {\n  return table.length;\n}\n`,
      'probe.ts': [
        `import { loadScript } from ${JSON.stringify(fileURLToPath(new URL('./loader.ts', import.meta.url)))};`,
        'const path = process.argv[2];',
        'const gc = globalThis.gc as () => void;',
        'async function loads(n: number): Promise<void> {',
        '  for (let i = 0; i < n; i++) {',
        '    const s = await loadScript(path, { generation: i });',
        "    if (Array.isArray(s)) throw new Error('load failed');",
        '    (s.requestRoute as (k: unknown) => number)({});',
        '  }',
        '}',
        'async function heap(): Promise<number> {',
        '  for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 5)); }',
        '  return process.memoryUsage().heapUsed;',
        '}',
        'await loads(100);',
        'const before = await heap();',
        'await loads(1000);',
        'const afterLoads = await heap();',
        'console.log(JSON.stringify({ before, after: afterLoads }));',
      ].join('\n'),
    });
    try {
      const { stdout } = await run(
        process.execPath,
        ['--expose-gc', child.path('probe.ts'), child.path('script.ts')],
        {
          timeout: 60_000,
        },
      );
      const { before, after: afterLoads } = JSON.parse(stdout.trim().split('\n').pop()!) as {
        before: number;
        after: number;
      };
      // A retained generation would cost at least its source (~8 KB) each: 8 MB over 1,000 loads.
      assert.ok(
        afterLoads - before < 2_000_000,
        `heap grew by ${afterLoads - before} bytes over 1,000 reloads`,
      );
    } finally {
      child.remove();
    }
  });
});
