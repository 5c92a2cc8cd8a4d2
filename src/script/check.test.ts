import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { checkScript, checkSource, ksrNames } from './check.ts';
import { tokenize } from './lexer.ts';
import { KsrRegistry } from './registry.ts';
import { TEST_MODULES, tempScripts } from './test_support.ts';

const registry = new KsrRegistry(TEST_MODULES);

function check(source: string, exported?: string[]): Array<[number, number, string]> {
  return checkSource('s.ts', source, registry, exported === undefined ? undefined : new Set(exported)).map(
    (e) => [e.line, e.column, e.message],
  );
}

describe('checkSource', () => {
  it('accepts existing core and module functions', () => {
    assert.deepEqual(
      check(
        "export function ksr_request_route(KSR) {\n  KSR.info('x');\n  KSR.tm.t_relay();\n  const tm = KSR.tm;\n}\n",
      ),
      [],
    );
  });

  it('reports an unknown function with file:line:column and a suggestion', () => {
    assert.deepEqual(check('export function ksr_request_route(KSR) {\n  KSR.tm.t_rleay();\n}\n'), [
      [2, 10, 'KSR.tm.t_rleay does not exist; did you mean t_relay?'],
    ]);
  });

  it('reports an unknown module or core function', () => {
    assert.deepEqual(
      check('function ksr_request_route(KSR) {\n  KSR.tn.t_relay();\n  KSR.inf("x");\n  KSR.zzzzzz();\n}'),
      [
        [2, 7, 'KSR.tn does not exist; did you mean tm?'],
        [3, 7, 'KSR.inf does not exist; did you mean info?'],
        [4, 7, 'KSR.zzzzzz does not exist'],
      ],
    );
  });

  it('ignores comments, strings, templates text and regular expressions', () => {
    const src = [
      'export function ksr_request_route(KSR) {',
      '  // KSR.tm.t_nope()',
      '  /* KSR.nope() */',
      "  const s = 'KSR.tm.nope()';",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a script
      '  const t = `KSR.nope ${KSR.tm.t_relay()}`;',
      '  const r = /KSR.nope/;',
      '}',
    ].join('\n');
    assert.deepEqual(check(src), []);
  });

  it('follows the parameter under any name, and KSR-typed helpers', () => {
    const src = [
      "import type { KSR as Ksr } from 'junction/ksr';",
      'export async function ksr_request_route(k: Ksr) {',
      '  k.tm.t_relya();',
      '  helper(k);',
      '}',
      'function helper(h: Ksr) { h.sl.send_replyy(200, "OK"); }',
      'export const ksr_reply_route = (r) => r.nope();',
      'function unrelated(x) { x.tm.whatever(); }',
    ].join('\n');
    assert.deepEqual(check(src), [
      [3, 8, 'KSR.tm.t_relya does not exist; did you mean t_relay?'],
      [6, 32, 'KSR.sl.send_replyy does not exist; did you mean send_reply?'],
      [7, 41, 'KSR.nope does not exist'],
    ]);
  });

  it('checks handler names given as strings to t_on_*', () => {
    const src = [
      'export function ksr_request_route(KSR) {',
      "  KSR.tm.t_on_failure('ksr_failure_manage');",
      "  KSR.tm.t_on_branch('ksr_branch_manage');",
      "  KSR.tm.t_on_reply('private_handler');",
      '  KSR.tm.t_on_failure(someFunction);',
      '}',
    ].join('\n');
    assert.deepEqual(check(src, ['ksr_request_route', 'ksr_failure_manage', 'ksr_branch_manag']), [
      [
        3,
        22,
        "t_on_branch('ksr_branch_manage'): the script exports no function named ksr_branch_manage; did you mean ksr_branch_manag?",
      ],
      [
        4,
        21,
        "t_on_reply('private_handler'): the script exports no function named private_handler (handlers given by name must be exported)",
      ],
    ]);
  });

  it('finds the names the KSR object goes by, within their functions', () => {
    const src = [
      'export function f(a) { a.x(); }',
      'function ksr_x(b) { b.y(); }',
      'function g(c) { c.z(); }',
      'const h = (d: KSR) => d.w();',
      "function ksr_y(K) { K.tm.t_on_failure('on_f'); K.tm.t_on_branch(on_b); }",
      'export function on_f(e) {}',
      'function on_b(f) {}',
    ].join('\n');
    const names = ksrNames(tokenize(src));
    assert.deepEqual([...names.keys()].sort(), ['K', 'KSR', 'b', 'd', 'e', 'f']);
  });

  it('does not take a reused short name for KSR outside its function', () => {
    const src = [
      'export function ksr_request_route(k) {',
      '  k.tm.t_relay();',
      '}',
      'function elsewhere(list) {',
      '  for (const k of list) k.length;',
      '}',
    ].join('\n');
    assert.deepEqual(check(src), []);
  });
});

describe('checkScript', () => {
  const tmp = tempScripts({
    'lib.ts': 'export function relay(KSR: any) { return KSR.tm.t_relai(); }\n',
    'good.ts':
      "export function ksr_request_route(KSR) { KSR.tm.t_on_failure('f'); }\nexport function f() {}\n",
    'bad.ts':
      "import { relay } from './lib.ts';\nexport function ksr_request_route(KSR) {\n  KSR.tm.t_on_failure('missing');\n  return relay(KSR);\n}\n",
    'broken.ts': 'export function ksr_request_route(KSR) {\n',
  });
  after(() => tmp.remove());

  it('accepts a good script', async () => {
    assert.deepEqual(await checkScript(tmp.path('good.ts'), { registry }), { ok: true });
  });

  it('reports errors in every file of the script', async () => {
    const r = await checkScript(tmp.path('bad.ts'), { registry });
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.errors.map((e) => `${e.file}:${e.line}:${e.column}`), [
      `${tmp.path('bad.ts')}:3:23`,
      `${tmp.path('lib.ts')}:1:49`,
    ]);
  });

  it('reports compile errors first', async () => {
    const r = await checkScript(tmp.path('broken.ts'), { registry });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.errors[0].file, tmp.path('broken.ts'));
  });
});
