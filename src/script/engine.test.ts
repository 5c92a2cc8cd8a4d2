import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RouteHandler } from '../proxy/context.ts';
import { ScriptEngine, type ScriptLogger } from './engine.ts';
import { isLoadedScript } from './loader.ts';
import { KsrRegistry } from './registry.ts';
import { simpleContext, TEST_MODULES, tempScripts } from './test_support.ts';

const registry = new KsrRegistry(TEST_MODULES);

interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

function logger(): ScriptLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
    };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

const GOOD = `
export function ksr_request_route(KSR) {
  KSR.info('gen1');
  KSR.tm.t_on_failure('on_fail');
}
export function on_fail(KSR) {
  KSR.info('failure ' + KSR.pv.get('$T_reply_code'));
}
export function ksr_reply_route(KSR) {
  KSR.info('reply');
}
`;

describe('ScriptEngine', () => {
  const tmp = tempScripts();
  after(() => tmp.remove());

  async function engineFor(name: string, source: string, opts: { watch?: boolean } = {}) {
    const path = tmp.write(name, source);
    const log = logger();
    const engine = new ScriptEngine({ path, registry, log, watch: opts.watch, watchDebounceMs: 50 });
    const loaded = await engine.load();
    assert.ok(isLoadedScript(loaded), `load failed: ${JSON.stringify(loaded)}`);
    return { engine, log, path };
  }

  it('runs a synchronous route synchronously', async () => {
    const { engine } = await engineFor('sync.ts', GOOD);
    const ctx = simpleContext();
    const r = engine.run('request', ctx);
    assert.equal(r, undefined, 'no Promise for a synchronous script');
    assert.deepEqual(ctx.logs, [{ level: 'info', text: 'gen1' }]);
    assert.equal(ctx.handlers.get('failure'), 'on_fail');
    assert.equal(engine.has('reply'), true);
    assert.equal(engine.has('onsend'), false);
  });

  it('awaits an async route', async () => {
    const { engine } = await engineFor(
      'async.ts',
      "export async function ksr_request_route(KSR) {\n  await KSR.test.wait(10);\n  KSR.info('after wait');\n}\n",
    );
    const ctx = simpleContext();
    const r = engine.run('request', ctx);
    assert.ok(r instanceof Promise);
    assert.equal(ctx.logs.length, 0);
    await r;
    assert.deepEqual(ctx.logs, [{ level: 'info', text: 'after wait' }]);
  });

  it('ends the route at KSR.x.exit() even through try/catch, without logging an error', async () => {
    const { engine, log } = await engineFor(
      'exit.ts',
      [
        'export async function ksr_request_route(KSR) {',
        '  try {',
        "    KSR.sl.send_reply(404, 'Not Found');",
        '    KSR.x.exit();',
        '  } catch (e) {',
        "    KSR.info('caught');",
        '  }',
        "  KSR.info('not reached');",
        '}',
      ].join('\n'),
    );
    const ctx = simpleContext();
    await engine.run('request', ctx);
    assert.deepEqual(ctx.replies, [{ code: 404, reason: 'Not Found' }]);
    assert.deepEqual(ctx.logs, []);
    assert.equal(log.lines.filter((l) => l.level === 'error').length, 0);
    assert.equal(engine.stats().runtimeErrors, 0);
  });

  it('runs handlers by exported name and by function', async () => {
    const { engine } = await engineFor(
      'handlers.ts',
      `${GOOD}export const byFunction = (KSR) => KSR.info('branch ' + KSR.pv.get('$T_branch_idx'));\n`,
    );
    const fctx = simpleContext('failure');
    (fctx as { replyCode: number }).replyCode = 486;
    engine.run('failure', fctx, 'on_fail');
    assert.deepEqual(fctx.logs, [{ level: 'info', text: 'failure 486' }]);
    const fn = engine.current!.exports.byFunction as unknown as RouteHandler;
    const bctx = simpleContext('branch');
    (bctx as { branchIndex: number }).branchIndex = 1;
    engine.run('branch', bctx, fn);
    assert.deepEqual(bctx.logs, [{ level: 'info', text: 'branch 1' }]);
    const rctx = simpleContext('reply');
    engine.run('reply', rctx);
    assert.deepEqual(rctx.logs, [{ level: 'info', text: 'reply' }]);
  });

  it('logs an unknown handler name instead of throwing', async () => {
    const { engine, log } = await engineFor('nohandler.ts', GOOD);
    assert.equal(engine.run('failure', simpleContext('failure'), 'missing'), undefined);
    assert.match(log.lines.at(-1)!.msg, /no exported function missing for the failure route/);
  });

  it('logs exceptions with file:line and never throws', async () => {
    const { engine, log, path } = await engineFor(
      'throws.ts',
      "export function ksr_request_route(KSR) {\n  KSR.info('x');\n  null.boom;\n}\nexport async function later() {\n  await 0;\n  throw new TypeError('async failure');\n}\n",
    );
    assert.equal(engine.run('request', simpleContext()), undefined);
    const e1 = log.lines.at(-1)!;
    assert.equal(e1.level, 'error');
    assert.match(e1.msg, new RegExp(`routing script error in request route at ${path}:3:8: TypeError`));
    assert.deepEqual([e1.obj.file, e1.obj.line, e1.obj.column], [path, 3, 8]);
    await engine.run('failure', simpleContext('failure'), 'later');
    assert.match(log.lines.at(-1)!.msg, new RegExp(`${path}:7:9: TypeError: async failure`));
    assert.equal(engine.stats().runtimeErrors, 2);
  });

  it('refuses broken scripts with file:line and keeps the old one running', async () => {
    const { engine, path, log } = await engineFor('reload.ts', GOOD);
    const broken: Array<[string, RegExp, number]> = [
      ['export function ksr_request_route(KSR) {\n  KSR.info(;\n}\n', /SyntaxError/, 2],
      ['export function ksr_request_route(KSR) {}\nenum E { A }\n', /enum is not supported/, 2],
      ['export function ksr_reply_route(KSR) {}\n', /does not export a function ksr_request_route/, 1],
      [
        'export function ksr_request_route(KSR) {\n  KSR.tm.t_rleay();\n}\n',
        /KSR\.tm\.t_rleay does not exist; did you mean t_relay\?/,
        2,
      ],
    ];
    for (const [source, message, line] of broken) {
      tmp.write('reload.ts', source);
      const r = await engine.reload();
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.errors[0].file, path);
        assert.equal(r.errors[0].line, line);
        assert.match(r.errors[0].message, message);
      }
      const ctx = simpleContext();
      engine.run('request', ctx);
      assert.deepEqual(ctx.logs, [{ level: 'info', text: 'gen1' }], 'the old script keeps running');
      assert.match(log.lines.at(-1)!.msg, /routing script refused \(generation 1 keeps running\)/);
    }
    const s = engine.stats();
    assert.equal(s.generation, 1);
    assert.equal(s.loads, 1);
    assert.equal(s.failures, 4);
    assert.ok(s.lastError?.errors[0].message.includes('t_rleay'));
    tmp.write('reload.ts', GOOD.replace("'gen1'", "'gen2'"));
    assert.deepEqual(await engine.reload(), { ok: true, generation: 2 });
    const ctx = simpleContext();
    engine.run('request', ctx);
    assert.deepEqual(ctx.logs, [{ level: 'info', text: 'gen2' }]);
  });

  it('lets an in-flight route finish with the script it started with', async () => {
    const source = (tag: string): string =>
      `export async function ksr_request_route(KSR) {\n  await KSR.test.wait(40);\n  KSR.info('${tag}');\n}\n`;
    const { engine } = await engineFor('inflight.ts', source('old'));
    const first = simpleContext();
    const running = engine.run('request', first);
    tmp.write('inflight.ts', source('new'));
    assert.deepEqual(await engine.reload(), { ok: true, generation: 2 });
    const second = simpleContext();
    await Promise.all([running, engine.run('request', second)]);
    assert.deepEqual(first.logs, [{ level: 'info', text: 'old' }]);
    assert.deepEqual(second.logs, [{ level: 'info', text: 'new' }]);
  });

  it('serializes reloads', async () => {
    const { engine } = await engineFor('serial.ts', GOOD);
    const results = await Promise.all([engine.reload(), engine.reload(), engine.reload()]);
    assert.deepEqual(
      results.map((r) => (r.ok ? r.generation : -1)),
      [2, 3, 4],
    );
  });

  it('reloads when a watched file changes', async () => {
    tmp.write('watched_lib.ts', "export const tag = 'v1';\n");
    const { engine } = await engineFor(
      'watched.ts',
      "import { tag } from './watched_lib.ts';\nexport function ksr_request_route(KSR) { KSR.info(tag); }\n",
      { watch: true },
    );
    try {
      tmp.write('watched_lib.ts', "export const tag = 'v2';\n");
      for (let i = 0; i < 100 && engine.stats().generation < 2; i++) await sleep(20);
      assert.equal(engine.stats().generation, 2);
      const ctx = simpleContext();
      engine.run('request', ctx);
      assert.deepEqual(ctx.logs, [{ level: 'info', text: 'v2' }]);
    } finally {
      engine.close();
    }
  });

  it('does nothing before a script is loaded', () => {
    const engine = new ScriptEngine({ path: tmp.path('none.ts'), registry, log: logger() });
    assert.equal(engine.run('request', simpleContext()), undefined);
    assert.equal(engine.stats().generation, 0);
  });
});
