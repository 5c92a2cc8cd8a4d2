/**
 * The Lua engine on the real proxy (script harness) with the engine's small test modules: KSR
 * generated from the module declarations, missing modules probe as nil, a coroutine per message
 * (an awaited KSR call suspends only its message), KSR.x.exit / drop with and without pcall,
 * errors with file:line, value conversions, route checks, reload.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ModuleDefinition } from '../module.ts';
import { TEST_MODULES, tempScripts } from '../test_support.ts';
import { createScriptHarness } from '../testing.ts';

const INVITE = `
  INVITE sip:bob@example.com SIP/2.0
  Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds
  Max-Forwards: 70
  To: Bob <sip:bob@example.com>
  From: Alice <sip:alice@example.com>;tag=1928301774
  Call-ID: lua-engine@10.0.0.1
  CSeq: 1 INVITE
  Content-Length: 0
`;

function invite(callId: string): string {
  return INVITE.replace('lua-engine@10.0.0.1', callId);
}

const tmp = tempScripts();
after(() => tmp.remove());
let n = 0;

async function harness(source: string, modules: readonly ModuleDefinition[] = TEST_MODULES) {
  const path = tmp.write(`s${++n}.lua`, source);
  return createScriptHarness({ script: path, modules });
}

const texts = (logs: ReadonlyArray<{ text: string }>): string[] => logs.map((l) => l.text);

describe('Lua scripts: KSR from the module declarations', () => {
  it('every declared function is callable; a module that is not loaded is nil', async () => {
    const extra: ModuleDefinition = {
      name: 'newmod',
      functions: { hello: { fn: (ctx, who: string) => `hello ${who} from ${ctx.msg.method}` } },
    };
    const h = await harness(
      `
      function ksr_request_route()
        KSR.info(KSR.newmod.hello("lua"))
        if not KSR.auth then KSR.info("no auth module") end
        if KSR.tm.nosuch == nil then KSR.info("no tm.nosuch") end
        KSR.sl.send_reply(200, "OK")
      end`,
      [...TEST_MODULES, extra],
    );
    const r = await h.request(INVITE);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(texts(r.logs), ['hello lua from INVITE', 'no auth module', 'no tm.nosuch']);
    assert.deepEqual(
      r.replies.map((x) => x.code),
      [200],
    );
  });

  it('KSR in Lua has exactly the functions of every registered module (nothing listed by hand)', async () => {
    const { MODULES } = await import('../../modules/index.ts');
    let seen: Record<string, unknown> = {};
    const probe: ModuleDefinition = {
      name: 'probe_names',
      functions: {
        take: {
          fn: (_ctx, names: Record<string, unknown>) => {
            seen = names;
            return 1;
          },
        },
      },
    };
    const h = await harness(
      `
      function ksr_request_route()
        local out = {}
        for k, v in pairs(KSR) do
          if type(v) == "table" then
            local fns = {}
            for f, fv in pairs(v) do if type(fv) == "function" then fns[#fns + 1] = f end end
            table.sort(fns)
            out[k] = fns
          elseif type(v) == "function" then
            out[k] = true
          end
        end
        KSR.probe_names.take(out)
        KSR.sl.send_reply(200, "OK")
      end`,
      [...MODULES, probe],
    );
    const r = await h.request(INVITE);
    assert.deepEqual(r.errors, []);
    const registry = h.registry;
    const expected: Record<string, unknown> = {};
    for (const f of registry.functionNames('')) expected[f] = true;
    for (const m of registry.moduleNames()) {
      const fns = registry.functionNames(m);
      // An empty Lua table is an empty array on the way back.
      expected[m] = fns.length === 0 ? [] : fns;
    }
    assert.deepEqual(seen, expected);
    assert.ok(registry.moduleNames().length > 10);
  });

  it('converts values both ways: integers stay integers, null is nil, tables become objects', async () => {
    const seen: unknown[] = [];
    const probe: ModuleDefinition = {
      name: 'probe',
      functions: {
        take: {
          fn: (_ctx, ...args: unknown[]) => {
            seen.push(args);
            return 1;
          },
        },
        give: { fn: () => ({ code: 486, list: ['a', 'b'], ok: true, none: null }) },
      },
    };
    const h = await harness(
      `
      function ksr_request_route()
        KSR.probe.take("s", 5060, 1.5, true, nil, { 1, 2 }, { k = "v" })
        local g = KSR.probe.give()
        KSR.info("code " .. g.code .. " " .. g.list[2] .. " " .. tostring(g.ok) .. " " .. tostring(g.none))
        KSR.info("type " .. math.type(g.code))
        KSR.info("du " .. tostring(KSR.pv.get("$du")))
        KSR.sl.send_reply(200, "OK")
      end`,
      [...TEST_MODULES, probe],
    );
    const r = await h.request(INVITE);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(seen, [['s', 5060, 1.5, true, undefined, [1, 2], { k: 'v' }]]);
    assert.deepEqual(texts(r.logs), ['code 486 b true nil', 'type integer', 'du nil']);
  });

  it('a function used in a route kind it does not support returns -1 and logs', async () => {
    const h = await harness(`
      function ksr_request_route()
        KSR.tm.t_on_reply("on_reply")
        KSR.setdsturi("sip:10.0.0.2:5060")
        KSR.tm.t_relay()
      end
      function on_reply()
        KSR.info("send_reply gives " .. KSR.sl.send_reply(200, "no"))
      end`);
    const r = await h.request(INVITE);
    const branch = /;branch=(z9hG4bK[^;\r\n]+)/.exec(r.relays[0].message)?.[1] ?? '';
    const res = await h.reply(
      `SIP/2.0 180 Ringing
      Via: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}
      Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds
      To: Bob <sip:bob@example.com>;tag=b
      From: Alice <sip:alice@example.com>;tag=1928301774
      Call-ID: lua-engine@10.0.0.1
      CSeq: 1 INVITE
      Content-Length: 0`,
      { transaction: r },
    );
    assert.deepEqual(res.errors, []);
    assert.ok(
      res.logs.some(
        (l) => l.level === 'err' && /KSR\.sl\.send_reply\(\) cannot be used in onreply_route/.test(l.text),
      ),
      JSON.stringify(res.logs),
    );
    assert.ok(res.logs.some((l) => l.text === 'send_reply gives -1'));
  });
});

describe('Lua scripts: every route kind', () => {
  it('onsend, branch-failure and failure routes fire (real modules)', async () => {
    const { MODULES } = await import('../../modules/index.ts');
    const h = await harness(
      `
      function ksr_request_route()
        KSR.tm.t_on_branch_failure("bfail")
        KSR.tm.t_on_failure("fail")
        KSR.setdsturi("sip:10.0.0.2:5060")
        KSR.tm.t_relay()
      end
      function ksr_onsend_route() KSR.info("onsend " .. KSR.pv.get("$rm")) end
      function bfail() KSR.info("branch failure " .. KSR.pv.get("$T_reply_code")) end
      function fail() KSR.info("failure " .. KSR.pv.get("$T_reply_code")) end`,
      MODULES,
    );
    const r = await h.request(INVITE);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(texts(r.logs), ['onsend INVITE']);
    const f = await h.failure(r, 503);
    assert.deepEqual(f.errors, []);
    assert.deepEqual(texts(f.logs), ['branch failure 503', 'failure 503']);
  });
});

describe('Lua scripts: a coroutine per message', () => {
  it('a KSR call that returns a Promise suspends only its message', async () => {
    const events: string[] = [];
    const mark: ModuleDefinition = {
      name: 'mark',
      functions: { at: { fn: (_ctx, label: string) => events.push(label) } },
    };
    const h = await harness(
      `
      function ksr_request_route()
        local ru = tostring(KSR.pv.get("$ru"))
        local fast = string.find(ru, "fast") ~= nil
        KSR.mark.at("start " .. (fast and "fast" or "slow"))
        KSR.test.wait(fast and 1 or 80)
        KSR.mark.at("end " .. (fast and "fast" or "slow"))
        KSR.sl.send_reply(200, "OK")
      end`,
      [...TEST_MODULES, mark],
    );
    const slow = h.request(INVITE);
    const fast = h.request(invite('fast@10.0.0.1').replace('INVITE sip:bob@', 'INVITE sip:fast@'));
    const [rs, rf] = await Promise.all([slow, fast]);
    assert.deepEqual(events, ['start slow', 'start fast', 'end fast', 'end slow']);
    // (The harness records one message at a time: the two results share what was recorded.)
    assert.deepEqual([...rs.errors, ...rf.errors], []);
    assert.deepEqual(
      [...rs.replies, ...rf.replies].map((x) => x.code),
      [200, 200],
    );
  });

  it('t_relay waits inside the route and returns its code (also through pcall)', async () => {
    const h = await harness(`
      function ksr_request_route()
        KSR.setdsturi("sip:10.0.0.2:5060")
        local ok, rc = pcall(function() return KSR.tm.t_relay() end)
        KSR.info("relay " .. tostring(ok) .. " " .. rc)
      end`);
    const r = await h.request(INVITE);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(texts(r.logs), ['relay true 1']);
    assert.equal(r.relays.length, 1);
  });

  it('a waiting KSR call inside a coroutine of the script is refused with a clear error', async () => {
    const h = await harness(`
      function ksr_request_route()
        local co = coroutine.wrap(function() KSR.test.wait(1) end)
        co()
      end`);
    const r = await h.request(INVITE);
    assert.equal(r.errors.length, 1);
    assert.match(
      String(r.errors[0].error),
      /KSR\.test\.wait\(\) waits for I\/O and must be called from the route itself/,
    );
  });
});

describe('Lua scripts: KSR.x.exit and KSR.x.drop', () => {
  it('exit ends the route, also from a nested function and after a wait', async () => {
    const h = await harness(`
      local function stop() KSR.x.exit() end
      function ksr_request_route()
        KSR.test.wait(1)
        KSR.sl.send_reply(404, "Not here")
        stop()
        KSR.info("not reached")
      end`);
    const r = await h.request(INVITE);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.logs, []);
    assert.equal(r.exited, true);
    assert.deepEqual(
      r.replies.map((x) => x.code),
      [404],
    );
  });

  it('pcall catches the exit (as in Kamailio), but the route can call no KSR function after it', async () => {
    const h = await harness(`
      function ksr_request_route()
        local ok = pcall(KSR.x.exit)
        print_ok = ok
        local again = pcall(KSR.info, "after exit")
        _G.result = tostring(ok) .. " " .. tostring(again)
        KSR.info("unreachable: KSR calls raise the exit again")
      end`);
    const r = await h.request(INVITE);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.logs, []);
    assert.equal(r.exited, true);
  });

  it('drop ends the route and drops the branch', async () => {
    const h = await harness(`
      function ksr_request_route()
        KSR.tm.t_on_branch("br")
        KSR.setdsturi("sip:10.0.0.2:5060")
        if KSR.tm.t_relay() < 0 then KSR.sl.send_reply(500, "dropped") end
      end
      function br() KSR.x.drop() KSR.info("not reached") end`);
    const r = await h.request(INVITE);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.logs, []);
    assert.match(String(r.relays[0]?.targets[0]?.failure), /dropped by the branch route/);
  });
});

describe('Lua scripts: errors', () => {
  it('a runtime error is reported with the script line; the message gets no reply from the script', async () => {
    const h = await harness(`function ksr_request_route()
  local x = nil
  x.field = 1
end`);
    const r = await h.request(INVITE);
    assert.equal(r.errors.length, 1);
    assert.match(String(r.errors[0].error), /attempt to index a nil value/);
    assert.equal(r.errors[0].location?.line, 3);
  });

  it('an exception of a KSR function is a Lua error pcall can catch', async () => {
    const boom: ModuleDefinition = {
      name: 'boom',
      functions: {
        now: {
          fn: () => {
            throw new Error('kaboom');
          },
        },
      },
    };
    const h = await harness(
      `function ksr_request_route()
  local ok, err = pcall(KSR.boom.now)
  KSR.info(tostring(ok) .. " " .. err)
  KSR.boom.now()
end`,
      [...TEST_MODULES, boom],
    );
    const r = await h.request(INVITE);
    assert.deepEqual(texts(r.logs), ['false KSR.boom.now(): kaboom']);
    assert.equal(r.errors.length, 1);
    assert.match(String(r.errors[0].error), /s\d+\.lua:4: KSR\.boom\.now\(\): kaboom/);
    assert.equal(r.errors[0].location?.line, 4);
  });

  it('os.exit, os.execute and io.popen raise a Lua error instead of stopping the server', async () => {
    const h = await harness(`function ksr_request_route()
  local a, ea = pcall(os.exit, 1)
  local b, eb = pcall(os.execute, "true")
  local c, ec = pcall(io.popen, "true")
  KSR.info(tostring(a) .. tostring(b) .. tostring(c))
  KSR.info(ea)
  KSR.info(eb)
end`);
    const r = await h.request(INVITE);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(texts(r.logs), [
      'falsefalsefalse',
      'os.exit is not available in Junction routing scripts (a script cannot stop the server)',
      'os.execute is not available in Junction routing scripts; run programs with KSR.exec',
    ]);
  });

  it('KSR at load time is refused with the line', async () => {
    const path = tmp.write('load.lua', 'KSR.info("x")\nfunction ksr_request_route() end\n');
    await assert.rejects(
      createScriptHarness({ script: path, modules: TEST_MODULES }),
      /load\.lua:1.*can only be called in a route/s,
    );
  });
});

describe('Lua scripts: reload', () => {
  it('a broken script is refused and the running one keeps routing; a good one replaces it', async () => {
    const path = tmp.write('reload.lua', 'function ksr_request_route() KSR.sl.send_reply(201, "one") end\n');
    const h = await createScriptHarness({ script: path, modules: TEST_MODULES });
    tmp.write('reload.lua', 'function ksr_request_route()\n  if then\nend\n');
    const bad = await h.reload();
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.errors[0].line, 2);
    assert.deepEqual(
      (await h.request(INVITE)).replies.map((x) => x.code),
      [201],
    );
    tmp.write('reload.lua', 'function ksr_request_route() KSR.sl.send_reply(202, "two") end\n');
    const good = await h.reload();
    assert.equal(good.ok, true);
    assert.deepEqual(
      (await h.request(INVITE)).replies.map((x) => x.code),
      [202],
    );
  });

  it('a route waiting across a reload finishes in its own generation', async () => {
    const path = tmp.write(
      'across.lua',
      'function ksr_request_route() KSR.test.wait(40) KSR.sl.send_reply(201, "old") end\n',
    );
    const h = await createScriptHarness({ script: path, modules: TEST_MODULES });
    const waiting = h.request(INVITE);
    await new Promise((r) => setTimeout(r, 5));
    tmp.write('across.lua', 'function ksr_request_route() KSR.sl.send_reply(202, "new") end\n');
    assert.equal((await h.reload()).ok, true);
    const r = await waiting;
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.replies.map((x) => [x.code, x.reason]),
      [[201, 'old']],
    );
    assert.deepEqual(
      (await h.request(INVITE)).replies.map((x) => x.code),
      [202],
    );
  });
});
