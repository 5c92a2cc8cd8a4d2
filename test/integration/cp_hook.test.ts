/**
 * The M4 call flow through Junction's default routing script with real SIPp parties, a real HTTP
 * hook server and real local programs: connection point → localization → external script →
 * termination point (transformation, failover). The callee at the termination point checks the
 * rewritten Request-URI, From and To users; its BYE must reach the caller with the caller's own
 * identities. The HTTP/local/persistent hook test and the reject test run once per default script
 * (routes/default.ts, then its Lua port routes/default.lua); the others with the TypeScript one.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type JunctionTest, UAS, withJunction } from './call_flow.ts';
import {
  uacAuthenticatedCall,
  uacCalleeHangsUp,
  uacCancelEarly,
  uacRefused,
  uasChecksAndHangsUp,
} from './cp_scenarios.ts';
import {
  DEFAULT_SCRIPTS,
  describeSipp,
  ensureSipp,
  freePort,
  removeTempDirs,
  type SippResult,
  type SippRun,
  sleep,
  sqliteWithSubscriber,
  tempDir,
  waitSippBound,
  writeFile,
} from './harness.ts';
import { uasReject, uasSilent } from './scenarios.ts';

const SRC = '0037000000000';
const DIALED = '861234567';
/** After the connection point's localization (src "-00", dst "-8+370"). */
const LSRC = '37000000000';
const LDST = '37061234567';
const LOCALIZE = 'localization: { src: "-00", dst: "-8+370" }';

// ---------------------------------------------------------------- the HTTP hook server

interface HookCall {
  path: string;
  type: string | undefined;
  body: string;
}

const hookCalls: HookCall[] = [];
let hookServer: Server;
let hookBase = '';

function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
  hookCalls.push({ path: req.url ?? '', type: req.headers['content-type'], body });
  const send = (status: number, text: string): void => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(text);
  };
  if (req.url === '/slow') {
    setTimeout(() => send(200, '{"new_src":"999"}'), 1500);
    return;
  }
  const [status, text] = REPLIES[req.url ?? ''] ?? [200, '{}'];
  send(status, text);
}

/** What the hook server answers, by path ('/slow' answers after 1.5 s). */
const REPLIES: Record<string, [number, string]> = {
  '/rewrite': [200, '{"status_code":0,"message":"success","new_src":"37011111111","dst_prefix":"9"}'],
  '/reject': [200, '{"status_code":1,"message":"Blocked\\r\\nX-Evil: 1","reject_call":1}'],
  '/500': [500, '{"new_src":"999"}'],
  '/text': [200, 'not json'],
  '/big': [200, `{"new_src":"999","message":"${'x'.repeat(70 * 1024)}"}`],
};

before(async () => {
  ensureSipp();
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => answer(req, res, body));
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  hookBase = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}`;
});

after(async () => {
  hookServer.closeAllConnections();
  await new Promise<void>((r) => hookServer.close(() => r()));
  removeTempDirs();
});

// ---------------------------------------------------------------- local programs

const progDir = tempDir('junction-hooks-');

function program(name: string, body: string): string {
  const path = writeFile(progDir, name, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Answers as /rewrite does when it gets the localized request, else asks to reject. */
const LOCAL_REWRITE = program(
  'rewrite.sh',
  `read -r line
case "$line" in
  '{"cp_id":3,"user_id":30,"src":"${LSRC}","dst":"${LDST}"}') echo '{"new_src":"37011111111","dst_prefix":"9"}' ;;
  *) echo '{"reject_call":1,"message":"unexpected request"}' ;;
esac`,
);

/** The persistent form: JSON lines with ids, one process for every call. */
const PERSISTENT_REWRITE = program(
  'persistent.sh',
  `while IFS= read -r line; do
  id=\${line#'{"id":'}; id=\${id%%,*}
  case "$line" in
    *'"cp_id":4,"user_id":40,"src":"${LSRC}","dst":"${LDST}"}') echo "{\\"id\\":$id,\\"new_src\\":\\"37011111111\\",\\"dst_prefix\\":\\"9\\"}" ;;
    *) echo "{\\"id\\":$id,\\"reject_call\\":1}" ;;
  esac
done`,
);

const EXIT3 = program('exit3.sh', 'cat >/dev/null; echo \'{"new_src":"999"}\'; exit 3');
const EMPTY = program('empty.sh', 'cat >/dev/null');

// ---------------------------------------------------------------- calls

interface Call {
  proxy: number;
  /** The caller's source port: connection points are told apart by it. */
  callerPort: number;
  uac: string;
  /** The callee at the termination point (none: nothing may arrive there). */
  uas?: { xml: string; port: number };
  trace?: boolean;
}

async function call(t: JunctionTest, c: Call): Promise<{ caller: SippResult; callee?: SippResult }> {
  const dir = tempDir('junction-cp-');
  const calleeRun = c.uas === undefined ? undefined : await startTp(t, c.uas.xml, c.uas.port);
  const caller = t.s.uac({
    scenario: writeFile(dir, 'uac.xml', c.uac),
    port: c.callerPort,
    calls: 1,
    timeoutS: 20,
    callee: c.uas?.port ?? 9,
    proxy: c.proxy,
    rate: 1,
    args: ['-s', DIALED],
    trace: c.trace,
  });
  const [caller_, callee] = await Promise.all([caller.done, calleeRun?.done]);
  return { caller: caller_, ...(callee === undefined ? {} : { callee }) };
}

/** A SIPp callee at a termination point, bound before the call starts (one call). */
async function startTp(t: JunctionTest, xml: string, port: number): Promise<SippRun> {
  const run = t.s.uas({
    scenario: writeFile(tempDir('junction-tp-'), 'tp.xml', xml),
    port,
    calls: 1,
    timeoutS: 20,
  });
  await waitSippBound({ scenario: '', port, calls: 1, timeoutS: 20 });
  return run;
}

function assertPassed(name: string, r: SippResult | undefined): void {
  assert.ok(r !== undefined, name);
  const why = describeSipp(name, r);
  assert.equal(r.code, 0, why);
  assert.equal(r.successful, 1, why);
  assert.equal(r.failed, 0, why);
}

/** A connection point recognised by the caller's source port. */
function cp(id: number, port: number, script: string, tps: string, extra = ''): string {
  return `  - { id: ${id}, user_id: ${id * 10}, match: { ip: 127.0.0.1/32, port: ${port} }, external_script: "${script}", ${LOCALIZE}, termination_points: ${tps}${extra} }`;
}

describe('M4 call flow: connection point → external script → termination point', () => {
  for (const d of DEFAULT_SCRIPTS)
    it(
      `applies the HTTP, local and persistent hooks; the callee sees the new numbers, its BYE reaches the caller unchanged, ${d.lang} default script`,
      withJunction(async (t) => {
        const uasPort = await freePort();
        const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
        hookCalls.length = 0;
        await t.junction({
          extraYaml: `
connection_points:
${cp(2, ports[0]!, `${hookBase}/rewrite`, '[11]')}
${cp(3, ports[1]!, LOCAL_REWRITE, '[11]')}
${cp(4, ports[2]!, PERSISTENT_REWRITE, '[11]', ', external_script_mode: persistent')}
  - { id: 5, user_id: 50, match: { ip: 127.0.0.1/32, port: ${ports[3]} }, ${LOCALIZE}, termination_points: [11] }
termination_points:
  - { id: 11, uri: "sip:127.0.0.1:${uasPort}", transformation: { src: "+", dst: "-9+00" } }
`,
        });
        for (const [i, name] of ['http', 'local', 'persistent'].entries()) {
          const r = await call(t, {
            proxy: t.proxy,
            callerPort: ports[i]!,
            uac: uacCalleeHangsUp(SRC, DIALED),
            uas: {
              xml: uasChecksAndHangsUp('0037061234567', '+37011111111', '0037061234567'),
              port: uasPort,
            },
          });
          assertPassed(`${name} caller`, r.caller);
          assertPassed(`${name} callee`, r.callee);
        }
        assert.deepEqual(hookCalls, [
          {
            path: '/rewrite',
            type: 'application/json',
            body: `{"cp_id":2,"user_id":20,"src":"${LSRC}","dst":"${LDST}"}`,
          },
        ]);
        // No external script: localized numbers, then the termination point's rules.
        const plain = await call(t, {
          proxy: t.proxy,
          callerPort: ports[3]!,
          uac: uacCalleeHangsUp(SRC, DIALED),
          uas: { xml: uasChecksAndHangsUp(LDST, `+${LSRC}`, LDST), port: uasPort },
        });
        assertPassed('no hook caller', plain.caller);
        assertPassed('no hook callee', plain.callee);
      }, d),
    );

  it(
    'carries on unchanged after a timeout or any failure when not told to reject',
    withJunction(async (t) => {
      const uasPort = await freePort();
      const missing = program('missing.sh', 'echo "{}"');
      const scripts = [
        `${hookBase}/slow`,
        `${hookBase}/500`,
        `${hookBase}/text`,
        `${hookBase}/big`,
        'http://127.0.0.1:1/',
        EXIT3,
        EMPTY,
        missing,
      ];
      const ports: number[] = [];
      for (const _ of scripts) ports.push(await freePort());
      const j = await t.junction({
        extraYaml: `
external_script_timeout_ms: 300
connection_points:
${scripts.map((s, i) => cp(10 + i, ports[i]!, s, '[11]')).join('\n')}
termination_points:
  - { id: 11, uri: "sip:127.0.0.1:${uasPort}" }
`,
      });
      rmSync(missing);
      for (const [i, s] of scripts.entries()) {
        const started = Date.now();
        const r = await call(t, {
          proxy: t.proxy,
          callerPort: ports[i]!,
          uac: uacCalleeHangsUp(SRC, DIALED),
          uas: { xml: uasChecksAndHangsUp(LDST, LSRC, LDST), port: uasPort },
        });
        assertPassed(`${s} caller`, r.caller);
        assertPassed(`${s} callee`, r.callee);
        assert.ok(Date.now() - started < 10000);
      }
      const text = j.output();
      assert.match(text, /External script timeout after 0\.3\d+ seconds/);
      for (const why of [
        'HTTP status 500',
        'reply is not JSON',
        'reply over 65536 bytes',
        'connection error',
        'exit code 3',
        'empty reply',
        'not started',
      ]) {
        assert.ok(text.includes(`External script failed: ${why}`), `${why} logged\n${text.slice(-3000)}`);
      }
    }),
  );

  for (const d of DEFAULT_SCRIPTS)
    it(
      `rejects: reject_call with the mapped status and reason, timeouts and failures by policy, unknown sources, CANCEL during the hook, ${d.lang} default script`,
      withJunction(async (t) => {
        const ports: number[] = [];
        for (let i = 0; i < 6; i++) ports.push(await freePort());
        const tpPort = await freePort();
        hookCalls.length = 0;
        const j = await t.junction({
          extraYaml: `
external_script_timeout_ms: 400
external_script_reject_on_timeout: 1
external_script_reject_on_failure: 1
hangup_causes: { 384: 403 }
connection_points:
${cp(20, ports[0]!, `${hookBase}/reject`, '[11]')}
${cp(21, ports[1]!, `${hookBase}/slow`, '[11]')}
${cp(22, ports[2]!, `${hookBase}/500`, '[11]')}
${cp(23, ports[3]!, EXIT3, '[11]')}
  - { id: 24, match: { ip: 127.0.0.1/32, port: ${ports[4]} }, external_script: "${hookBase}/slow", termination_points: [11] }
termination_points:
  - { id: 11, uri: "sip:127.0.0.1:${tpPort}" }
`,
          logLevel: 'debug',
        });
        const reject = await call(t, {
          proxy: t.proxy,
          callerPort: ports[0]!,
          uac: uacRefused(SRC, 403),
          trace: true,
        });
        assertPassed('reject_call', reject.caller);
        assert.match(reject.caller.messages, /SIP\/2\.0 403 BlockedX-Evil: 1\r\n/);
        const started = Date.now();
        const timedOut = await call(t, { proxy: t.proxy, callerPort: ports[1]!, uac: uacRefused(SRC, 403) });
        assertPassed('timeout', timedOut.caller);
        assert.ok(Date.now() - started < 5000);
        // Failures are hangup cause 386, not in the table: 503.
        assertPassed(
          'HTTP failure',
          (await call(t, { proxy: t.proxy, callerPort: ports[2]!, uac: uacRefused(SRC, 503) })).caller,
        );
        assertPassed(
          'local failure',
          (await call(t, { proxy: t.proxy, callerPort: ports[3]!, uac: uacRefused(SRC, 503) })).caller,
        );
        // A caller no connection point matches: 403.
        assertPassed(
          'unknown source',
          (await call(t, { proxy: t.proxy, callerPort: ports[5]!, uac: uacRefused(SRC, 403) })).caller,
        );
        // CANCEL while the hook runs: 487 at once; the late answer is dropped, nothing reaches the TP.
        const cancelled = await call(t, {
          proxy: t.proxy,
          callerPort: ports[4]!,
          uac: uacCancelEarly(SRC, 200),
        });
        assertPassed('CANCEL during the hook', cancelled.caller);
        await sleep(1600);
        const text = j
          .logs()
          .map((l) => l.msg)
          .join('\n');
        assert.match(text, /Executing external script: http:\/\/127\.0\.0\.1:\d+\/reject/);
        assert.match(text, /External script: received output from HTTP script: \{"status_code":1/);
        assert.match(text, /External script executed in 0\.\d{6} seconds/);
        assert.match(text, /call canceled while the external script ran/);
        assert.equal(/"msg":"relayed|INVITE sip:[^ ]*@127\.0\.0\.1:${tpPort}/.test(text), false);
      }, d),
    );

  it(
    'fails over to the next termination point on 5xx and no answer; 486 ends the call',
    withJunction(async (t) => {
      const [a, b, c, silent] = [await freePort(), await freePort(), await freePort(), await freePort()];
      const ports = [await freePort(), await freePort(), await freePort()];
      await t.junction({
        extraYaml: `
connection_points:
  - { id: 30, match: { ip: 127.0.0.1/32, port: ${ports[0]} }, ${LOCALIZE}, termination_points: [1, 2] }
  - { id: 31, match: { ip: 127.0.0.1/32, port: ${ports[1]} }, ${LOCALIZE}, termination_points: [3, 2] }
  - { id: 32, match: { ip: 127.0.0.1/32, port: ${ports[2]} }, ${LOCALIZE}, termination_points: [4, { id: 5, prefix: "44" }, 2] }
termination_points:
  - { id: 1, uri: "sip:127.0.0.1:${a}" }
  - { id: 2, uri: "sip:127.0.0.1:${b}" }
  - { id: 3, uri: "sip:127.0.0.1:${c}" }
  - { id: 4, uri: "sip:127.0.0.1:${silent}", no_answer_timeout_ms: 1000 }
  - { id: 5, uri: "sip:127.0.0.1:9" }
`,
      });
      // TP 1 answers 503: the call moves on to TP 2.
      const first = await startTp(t, uasReject(503, 'Busy Here Too'), a);
      const r1 = await call(t, {
        proxy: t.proxy,
        callerPort: ports[0]!,
        uac: uacCalleeHangsUp(SRC, DIALED),
        uas: { xml: uasChecksAndHangsUp(LDST, LSRC, LDST), port: b },
      });
      assertPassed('failover caller', r1.caller);
      assertPassed('failover second TP', r1.callee);
      assertPassed('failover first TP', await first.done);
      // TP 3 answers 486: the caller gets it, TP 2 gets nothing.
      const busy = await startTp(t, uasReject(486, 'Busy Here'), c);
      const r2 = await call(t, { proxy: t.proxy, callerPort: ports[1]!, uac: uacRefused(SRC, 486) });
      assertPassed('486 caller', r2.caller);
      assertPassed('486 TP', await busy.done);
      // TP 4 never answers (no-answer timeout 1 s); TP 5 is only for "44…": TP 2 takes the call.
      const quiet = await startTp(t, uasSilent('INVITE', 3000), silent);
      const r3 = await call(t, {
        proxy: t.proxy,
        callerPort: ports[2]!,
        uac: uacCalleeHangsUp(SRC, DIALED),
        uas: { xml: uasChecksAndHangsUp(LDST, LSRC, LDST), port: b },
      });
      assertPassed('no-answer caller', r3.caller);
      assertPassed('no-answer second TP', r3.callee);
      await quiet.stop();
    }),
  );

  it(
    'skips a termination point at capacity (dialog profile) while its calls last',
    withJunction(async (t) => {
      const [a, b] = [await freePort(), await freePort()];
      const ports = [await freePort(), await freePort()];
      const j = await t.junction({
        extraYaml: `
connection_points:
  - { id: 40, match: { ip: 127.0.0.1/32, port: ${ports[0]} }, ${LOCALIZE}, termination_points: [1, 2] }
  - { id: 41, match: { ip: 127.0.0.1/32, port: ${ports[1]} }, ${LOCALIZE}, termination_points: [1, 2] }
termination_points:
  - { id: 1, uri: "sip:127.0.0.1:${a}", capacity: 1 }
  - { id: 2, uri: "sip:127.0.0.1:${b}" }
`,
      });
      // The first call holds TP 1 for 3 s; the second, meanwhile, goes to TP 2.
      const first = call(t, {
        proxy: t.proxy,
        callerPort: ports[0]!,
        uac: uacCalleeHangsUp(SRC, DIALED),
        uas: { xml: uasChecksAndHangsUp(LDST, LSRC, LDST, 3000), port: a },
      });
      await sleep(1000);
      const second = await call(t, {
        proxy: t.proxy,
        callerPort: ports[1]!,
        uac: uacCalleeHangsUp(SRC, DIALED),
        uas: { xml: uasChecksAndHangsUp(LDST, LSRC, LDST), port: b },
      });
      assertPassed('second caller', second.caller);
      assertPassed('TP 2', second.callee);
      const r1 = await first;
      assertPassed('first caller', r1.caller);
      assertPassed('TP 1', r1.callee);
      assert.ok(j.logs().some((l) => /termination point 1 at capacity \(1\)/.test(String(l.msg))));
    }),
  );

  it(
    'checks termination points with OPTIONS: a silent one is skipped until it answers again',
    withJunction(async (t) => {
      const b = await freePort();
      const callerPort = await freePort();
      // TP 1: a socket that answers OPTIONS with 200 while `answering`, and records what it gets.
      const tp1 = createSocket('udp4');
      await new Promise<void>((r) => tp1.bind(0, '127.0.0.1', () => r()));
      const a = tp1.address().port;
      let answering = true;
      const got: string[] = [];
      tp1.on('message', (m, rinfo) => {
        const text = m.toString('latin1');
        got.push(text.slice(0, text.indexOf(' ')));
        if (!answering || !text.startsWith('OPTIONS ')) return;
        const keep = text.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
        const reply = [
          'SIP/2.0 200 OK',
          ...keep.map((l) => (/^To:/i.test(l) ? `${l};tag=tp1` : l)),
          'Content-Length: 0',
          '',
          '',
        ];
        tp1.send(reply.join('\r\n'), rinfo.port, rinfo.address);
      });
      try {
        const j = await t.junction({
          extraYaml: `
connection_points:
  - { id: 50, match: { ip: 127.0.0.1/32, port: ${callerPort} }, ${LOCALIZE}, termination_points: [1, 2] }
termination_points:
  - { id: 1, uri: "sip:127.0.0.1:${a}", options_interval_ms: 300 }
  - { id: 2, uri: "sip:127.0.0.1:${b}" }
`,
        });
        const logged = async (re: RegExp): Promise<void> => {
          for (let i = 0; i < 60 && !j.logs().some((l) => re.test(String(l.msg))); i++) await sleep(100);
          assert.ok(
            j.logs().some((l) => re.test(String(l.msg))),
            `logged ${re}`,
          );
        };
        for (let i = 0; i < 30 && !got.includes('OPTIONS'); i++) await sleep(100);
        assert.ok(got.includes('OPTIONS'), 'TP 1 got an OPTIONS');
        answering = false;
        await logged(/termination point 1 does not answer OPTIONS/);
        const r = await call(t, {
          proxy: t.proxy,
          callerPort,
          uac: uacCalleeHangsUp(SRC, DIALED),
          uas: { xml: uasChecksAndHangsUp(LDST, LSRC, LDST), port: b },
        });
        assertPassed('caller', r.caller);
        assertPassed('TP 2', r.callee);
        assert.equal(got.includes('INVITE'), false, 'the silent TP got no call');
        answering = true;
        await logged(/termination point 1 answers again \(200\)/);
      } finally {
        tp1.close();
      }
    }),
  );

  it(
    'recognises a connection point by the digest user name of the caller',
    withJunction(async (t) => {
      const b = await freePort();
      const dir = tempDir('junction-cp-auth-');
      const storage = sqliteWithSubscriber(dir, 'alice@127.0.0.1', 'secret');
      await t.junction({
        storage,
        extraYaml: `
connection_points:
  - { id: 60, match: { username: alice }, ${LOCALIZE}, termination_points: [1] }
termination_points:
  - { id: 1, uri: "sip:127.0.0.1:${b}" }
`,
      });
      const callee = await startTp(t, readFileSync(UAS(), 'utf8'), b);
      const caller = t.s.uac({
        scenario: writeFile(dir, 'uac.xml', uacAuthenticatedCall(SRC)),
        port: await freePort(),
        calls: 1,
        timeoutS: 20,
        callee: b,
        proxy: t.proxy,
        rate: 1,
        args: ['-s', DIALED, '-au', 'alice', '-ap', 'secret'],
      });
      assertPassed('authenticated caller', await caller.done);
      assertPassed('TP', await callee.done);
      // Wrong password: no connection point, 403.
      const bad = t.s.uac({
        scenario: writeFile(dir, 'bad.xml', uacAuthenticatedCall(SRC, 403)),
        port: await freePort(),
        calls: 1,
        timeoutS: 10,
        callee: b,
        proxy: t.proxy,
        rate: 1,
        args: ['-s', DIALED, '-au', 'alice', '-ap', 'wrong'],
      });
      assertPassed('wrong password: 403', await bad.done);
    }),
  );
});
