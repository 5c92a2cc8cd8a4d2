import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MiError } from './command.ts';
import { createManagement } from './index.ts';
import { coerce } from './params.ts';
import { MiRegistry } from './registry.ts';
import { fakeServer, memoryLogger } from './test_support.ts';

const ctx = { transport: 'test' };

function registry(): MiRegistry {
  const r = new MiRegistry();
  r.register({
    name: 'add',
    aliases: ['math.add'],
    help: 'a + b',
    recipes: [
      [
        { name: 'a', type: 'int' },
        { name: 'b', type: 'int', optional: true },
      ],
    ],
    handler: (p) => (p.a as number) + ((p.b as number | undefined) ?? 0),
  });
  r.register({
    name: 'fail',
    help: 'fails',
    recipes: [[]],
    handler: () => {
      throw new MiError(404, 'AOR not found');
    },
  });
  r.register({
    name: 'bug',
    help: 'throws',
    recipes: [[]],
    handler: () => {
      throw new TypeError('oops');
    },
  });
  return r;
}

describe('MI registry (JSON-RPC 2.0)', () => {
  it('binds positional and named params with coercion', async () => {
    const r = registry();
    assert.deepEqual(await r.call('add', [2, '3'], ctx), { ok: true, result: 5 });
    assert.deepEqual(await r.call('math.add', { a: '40', b: 2 }, ctx), { ok: true, result: 42 });
    assert.deepEqual(await r.call('add', ['7'], ctx), { ok: true, result: 7 });
  });

  it('answers protocol faults with -326xx and command failures with their SIP-like code', async () => {
    const r = registry();
    const res = async (text: string): Promise<unknown> =>
      JSON.parse((await r.handleText(text, ctx)) ?? 'null');
    assert.equal(((await res('{bad')) as { error: { code: number } }).error.code, -32700);
    assert.equal(((await res('{"jsonrpc":"2.0","id":1}')) as { error: { code: number } }).error.code, -32600);
    assert.equal(
      ((await res('{"jsonrpc":"1.0","id":1,"method":"add"}')) as { error: { code: number } }).error.code,
      -32600,
    );
    assert.equal(((await res('[]')) as { error: { code: number } }).error.code, -32600);
    assert.deepEqual(await res('{"jsonrpc":"2.0","id":2,"method":"nope"}'), {
      jsonrpc: '2.0',
      id: 2,
      error: { code: -32601, message: "command 'nope' not available" },
    });
    const bad = (await res('{"jsonrpc":"2.0","id":3,"method":"add","params":["x"]}')) as {
      error: { code: number; message: string };
    };
    assert.equal(bad.error.code, -32602);
    assert.match(bad.error.message, /parameter 'a': expected an integer/);
    const unknown = (await res('{"jsonrpc":"2.0","id":3,"method":"add","params":{"c":1}}')) as {
      error: { message: string };
    };
    assert.match(unknown.error.message, /unknown parameter 'c'/);
    assert.deepEqual(await res('{"jsonrpc":"2.0","id":"x","method":"fail"}'), {
      jsonrpc: '2.0',
      id: 'x',
      error: { code: 404, message: 'AOR not found' },
    });
    assert.equal(
      ((await res('{"jsonrpc":"2.0","id":4,"method":"bug"}')) as { error: { code: number } }).error.code,
      -32603,
    );
  });

  it('sends nothing for notifications and answers batches', async () => {
    const r = registry();
    assert.equal(await r.handleText('{"jsonrpc":"2.0","method":"add","params":[1]}', ctx), undefined);
    assert.equal(await r.handleText('[{"jsonrpc":"2.0","method":"add","params":[1]}]', ctx), undefined);
    const out = JSON.parse(
      (await r.handleText(
        '[{"jsonrpc":"2.0","id":1,"method":"add","params":[1,1]},{"jsonrpc":"2.0","method":"add","params":[1]},{"jsonrpc":"2.0","id":2,"method":"nope"}]',
        ctx,
      )) ?? '',
    ) as Array<{ id: number }>;
    assert.deepEqual(
      out.map((o) => o.id),
      [1, 2],
    );
  });

  it('runs mutating commands one at a time', async () => {
    const r = new MiRegistry();
    let running = 0;
    let max = 0;
    r.register({
      name: 'slow_reload',
      help: '',
      recipes: [[]],
      mutating: true,
      handler: async () => {
        running++;
        max = Math.max(max, running);
        await new Promise((ok) => setTimeout(ok, 5));
        running--;
        return 'ok';
      },
    });
    const all = await Promise.all(Array.from({ length: 5 }, () => r.call('slow_reload', [], ctx)));
    assert.equal(max, 1);
    assert.ok(all.every((o) => o.ok));
  });

  it('refuses a name registered twice', () => {
    const r = registry();
    assert.throws(
      () => r.register({ name: 'x', aliases: ['math.add'], help: '', recipes: [[]], handler: () => 1 }, 'm'),
      /already registered by core/,
    );
  });

  it('coerces the scalar types', () => {
    assert.equal(coerce('12', 'int'), 12);
    assert.ok(coerce('1.5', 'int') instanceof Error);
    assert.equal(coerce('1.5', 'number'), 1.5);
    assert.equal(coerce('yes', 'bool'), true);
    assert.equal(coerce(0, 'bool'), false);
    assert.equal(coerce(7, 'string'), '7');
    assert.deepEqual(coerce('a', 'array'), ['a']);
    assert.deepEqual(coerce('{"a":1}', 'json'), { a: 1 });
  });
});

describe('core commands', () => {
  it('uptime, which, help, statistics, log_level, reload_routes', async () => {
    const server = fakeServer();
    const { log } = memoryLogger();
    const { registry: r } = createManagement({ server, modules: [], log, version: '9.9.9' });
    const call = async (m: string, p?: unknown): Promise<unknown> => {
      const o = await r.call(m, p, ctx);
      if (!o.ok) throw new Error(`${o.code} ${o.message}`);
      return o.result;
    };
    const up = (await call('core.uptime')) as Record<string, string>;
    assert.match(up['Up time']!, /^\d+ \[sec\]$/);
    assert.match(up.Now!, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
    assert.ok(((await call('which')) as string[]).includes('t_uac_dlg'));
    assert.ok(((await call('system.listMethods')) as string[]).includes('tm.t_uac_start'));
    assert.deepEqual(await call('which', ['get_statistics']), [['statistics?']]);
    assert.equal(((await call('version')) as { Server: string }).Server.startsWith('Junction 9.9.9'), true);
    assert.deepEqual(await call('get_statistics', ['core:rcv_requests', 'tm:']), {
      'core:rcv_requests': 5,
      'tm:server_tx': 1,
      'tm:client_tx': 0,
      'tm:created': 7,
      'tm:inuse_transactions': 1,
    });
    assert.equal(
      ((await call('stats.get_statistics', ['all'])) as Record<string, number>)['net:udp_messages_in'],
      10,
    );
    await call('reset_statistics', ['core:']);
    assert.equal(
      ((await call('get_statistics', ['rcv_requests'])) as Record<string, number>)['core:rcv_requests'],
      0,
    );
    assert.deepEqual(await call('log_level'), { 'Log level': 'info' });
    assert.deepEqual(await call('log_level', ['dbg']), { 'New log level': 'debug' });
    assert.equal(log.level, 'debug');
    assert.deepEqual(await call('app_jsdt.reload'), { generation: 2 });
    server.failNextReload = true;
    const refused = await r.call('reload_routes', [], ctx);
    assert.deepEqual(refused, { ok: false, code: 500, message: 'routing script refused: r.ts:3: boom' });
    const nf = await r.call('which', ['nope'], ctx);
    assert.equal(nf.ok ? 0 : nf.code, 404);
  });

  it('picks up commands declared by modules', async () => {
    const { log } = memoryLogger();
    const { registry: r } = createManagement({
      server: fakeServer(),
      modules: [
        {
          name: 'demo',
          functions: {},
          commands: [
            {
              name: 'demo_hello',
              aliases: ['demo.hello'],
              help: 'hi',
              recipes: [[]],
              handler: () => 'hello',
            },
          ],
        },
      ],
      log,
      version: '1',
    });
    assert.deepEqual(await r.call('demo.hello', undefined, ctx), { ok: true, result: 'hello' });
    assert.equal(r.ownerOf('demo_hello'), 'demo');
  });
});
