/**
 * `junction check-script` on Lua scripts: syntax errors with file:line, a missing request route,
 * KSR references checked against the registry (with suggestions), handler names, module probes.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { checkScript, formatCheckErrors } from '../check.ts';
import { KsrRegistry } from '../registry.ts';
import { TEST_MODULES, tempScripts } from '../test_support.ts';
import { checkLuaSource, tokenizeLua } from './check.ts';

const registry = new KsrRegistry(TEST_MODULES);
const tmp = tempScripts();
after(() => tmp.remove());

async function check(name: string, source: string): Promise<string> {
  const r = await checkScript(tmp.write(name, source), { registry });
  return r.ok ? 'ok' : formatCheckErrors(r.errors);
}

describe('check-script on Lua', () => {
  it('accepts a good script', async () => {
    assert.equal(
      await check(
        'good.lua',
        `function ksr_request_route()
  KSR.tm.t_on_failure("on_fail")
  if KSR.tm.t_relay() < 0 then KSR.sl.send_reply(500, "Server error") end
end
function on_fail() end
`,
      ),
      'ok',
    );
  });

  it('reports a syntax error with file:line', async () => {
    const out = await check('syntax.lua', 'function ksr_request_route()\n  if x then\nend\n');
    assert.match(out, /syntax\.lua:4: 'end' expected \(to close 'function' at line 1\) near <eof>$/);
  });

  it('reports a runtime error of the main chunk with its line', async () => {
    const out = await check('chunk.lua', 'local t = nil\nlocal x = t.y\nfunction ksr_request_route() end\n');
    assert.match(out, /chunk\.lua:2: attempt to index a nil value .* \(while loading the script\)$/);
  });

  it('reports a missing request route', async () => {
    const out = await check('noroute.lua', 'function ksr_reply_route() end\n');
    assert.match(out, /noroute\.lua: the script defines no function ksr_request_route/);
  });

  it('refuses a route that is not a function', async () => {
    const out = await check('notfn.lua', 'ksr_request_route = 1\n');
    assert.match(out, /ksr_request_route is defined but is not a function/);
  });

  it('reports unknown KSR functions and handler names with suggestions, line and column', async () => {
    const out = await check(
      'refs.lua',
      `function ksr_request_route()
  if KSR.tm.t_rleay() < 0 then return end
  KSR.infoo("x")
  KSR.tm.t_on_failure("on_fial")
end
function on_fail() end
`,
    );
    assert.equal(
      out,
      [
        `${tmp.path('refs.lua')}:2:13: KSR.tm.t_rleay does not exist; did you mean t_relay?`,
        `${tmp.path('refs.lua')}:3:7: KSR.infoo does not exist; did you mean info?`,
        `${tmp.path('refs.lua')}:4:23: t_on_failure('on_fial'): the script defines no global function on_fial; did you mean on_fail?`,
      ].join('\n'),
    );
  });

  it('lets a script probe for modules and functions that are not loaded', async () => {
    const source = `function ksr_request_route()
  if not KSR.auth then KSR.info("no auth") end
  if KSR.tm.t_nosuch == nil then KSR.info("no t_nosuch") end
  if KSR.dialog and KSR.dialog.dlg_manage then KSR.dialog.dlg_manage() end
end
`;
    assert.equal(await check('probe.lua', source), 'ok');
  });

  it('ignores comments and strings', () => {
    const source = `-- KSR.nope.x()
--[[ KSR.nope.y() ]]
--[==[ KSR.nope.z() ]==]
local s = "KSR.nope.w()" .. [[KSR.nope.v()]]
`;
    assert.deepEqual(checkLuaSource('x.lua', source, registry, undefined), []);
    assert.deepEqual(
      tokenizeLua(source).map((t) => t.type),
      ['name', 'name', 'punct', 'string', 'punct', 'punct', 'string'],
    );
  });
});
