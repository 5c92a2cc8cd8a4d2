/**
 * Hot reload under load (issue 3 §6): SIGHUP several times while SIPp runs 3,000 calls through
 * Junction, once with a broken script in place (refused with file:line, the running script keeps
 * routing) — and not one call fails. The script is a copy of routes/default.ts (then of its Lua
 * port, routes/default.lua) in a temp folder, rewritten atomically (write + rename) before each SIGHUP.
 */
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertAllPassed, startBenchCalls } from './call_flow.ts';
import {
  ensureSipp,
  freePort,
  type LogRecord,
  REPO,
  type RunningServer,
  removeTempDirs,
  Session,
  sleep,
  tempDir,
} from './harness.ts';
import { messageTable, rows, showTable } from './scenarios.ts';

/** Wait until the script engine has logged `n` lines with this message (a reload finished). */
async function waitForLog(
  j: RunningServer,
  msg: string,
  n: number,
  timeoutMs = 10_000,
): Promise<LogRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = j.logs().filter((r) => r.msg?.startsWith(msg) && r.script !== undefined);
    if (found.length >= n) return found;
    if (Date.now() > deadline)
      throw new Error(`no ${n}× "${msg}" in the server log:\n${j.output().slice(-3000)}`);
    await sleep(20);
  }
}

/** The default script in each language: its text, and the same text with a bad KSR reference 3 lines below its end. */
const VARIANTS = [
  {
    lang: 'TypeScript',
    file: 'route.ts',
    comment: '//',
    good: (): string =>
      readFileSync(join(REPO, 'routes/default.ts'), 'utf8').replace(
        "from '../src/script/types.ts'",
        `from '${join(REPO, 'src/script/types.ts')}'`,
      ),
    broken: (good: string): string => `${good}
/** Not a real function: the load-time check refuses this file. */
export function ksr_broken(KSR: Ksr): void {
  KSR.tm.t_rleay();
}
`,
  },
  {
    lang: 'Lua',
    file: 'route.lua',
    comment: '--',
    good: (): string => readFileSync(join(REPO, 'routes/default.lua'), 'utf8'),
    broken: (good: string): string => `${good}
-- Not a real function: the load-time check refuses this file.
function ksr_broken()
  KSR.tm.t_rleay()
end
`,
  },
];

for (const v of VARIANTS)
  describe(`script reload under load, ${v.lang} default script`, () => {
    before(() => ensureSipp());
    after(() => removeTempDirs());

    it('SIGHUP ×5 during 3,000 calls at 300 calls/s (one broken script refused): none failed', {
      timeout: 120_000,
    }, async () => {
      const s = new Session();
      try {
        const dir = tempDir();
        const script = join(dir, v.file);
        const good = v.good();
        // A reference to a KSR function that does not exist: refused at load time, with its line.
        const brokenLine = good.split('\n').length + 3;
        const broken = v.broken(good);
        const install = (text: string): void => {
          writeFileSync(`${script}.tmp`, text);
          renameSync(`${script}.tmp`, script);
        };
        install(good);

        const proxy = await freePort();
        const j = await s.junction({ port: proxy, script });
        const calls = 3000;
        const { caller, callee } = await startBenchCalls(s, { proxy, calls, timeoutS: 60, rate: 300 });

        // ~10 s of calls: reload at 1.5 s intervals; each SIGHUP waits for the previous reload's log line.
        let reloaded = 0;
        for (let k = 1; k <= 3; k++) {
          await sleep(1500);
          install(`${good}\n${v.comment} reload ${k}\n`);
          j.signal('SIGHUP');
          await waitForLog(j, 'routing script reloaded', ++reloaded);
        }
        await sleep(1500);
        install(broken);
        j.signal('SIGHUP');
        const [refused] = await waitForLog(j, 'routing script refused', 1);
        await sleep(1500);
        install(good);
        j.signal('SIGHUP');
        const ok = await waitForLog(j, 'routing script reloaded', ++reloaded);

        const [rc, rs] = await Promise.all([caller.done, callee.done]);
        assertAllPassed('uac', rc, calls);
        assertAllPassed('uas', rs, calls);
        const t = messageTable(rs.stdout);
        assert.equal(rows(t, 'recv', 'BYE')[0]?.messages, calls, showTable(t));

        // Four reloads swapped in, generations 2..5 (1 = the first load); the refused one is not counted.
        assert.deepEqual(
          ok.map((r) => r.generation),
          [2, 3, 4, 5],
        );
        // The refusal names the file and the line of the bad reference (file:line:column: message).
        assert.equal(refused.level, 'error');
        assert.match(
          String(refused.msg),
          /^routing script refused \(generation 4 keeps running\)/,
          String(refused.msg),
        );
        assert.ok(String(refused.msg).includes(`${script}:${brokenLine}:`), String(refused.msg));
        assert.match(String(refused.msg), /t_rleay/);
        // The only error lines are about that refusal (the engine's, and the server's own summary).
        for (const e of j.errors()) assert.match(String(e.msg), /^routing script refused/, JSON.stringify(e));
      } finally {
        await s.close();
      }
      assert.deepEqual(s.junctionExits, [0]);
    });
  });
