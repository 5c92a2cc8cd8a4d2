/**
 * Calls through Junction with real SIPp (issue 3 §6): UAC → Junction → UAS over UDP and over TCP
 * (2,000 calls each, none failed), the in-dialog BYE routed by Record-Route, and stateless mode.
 * The routing script is the default one, in TypeScript (routes/default.ts) and in Lua
 * (routes/default.lua): every test runs once per script. Every test starts its own Junction on
 * free ports and stops everything it started, by PID, in `finally`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  assertAllPassed,
  assertNoRetransmissions,
  runBenchCalls,
  UAC_RR,
  withJunction,
} from './call_flow.ts';
import {
  DEFAULT_SCRIPTS,
  ensureSipp,
  removeTempDirs,
  type SippResult,
  tempDir,
  writeFile,
} from './harness.ts';
import { messageTable, rows, showTable, sippMessages } from './scenarios.ts';

/** The callee's table: every call's INVITE, ACK and BYE arrived (so the BYE was routed to it). */
function assertUasSawCalls(r: SippResult, calls: number): void {
  const t = messageTable(r.stdout);
  const show = showTable(t);
  assert.equal(rows(t, 'recv', 'INVITE')[0]?.messages, calls, show);
  assert.equal(rows(t, 'recv', 'ACK')[0]?.messages, calls, show);
  assert.equal(rows(t, 'recv', 'BYE')[0]?.messages, calls, show);
  // The only message a callee may not expect is an ACK repeated for a 200 it retransmitted (the
  // UAC ACKs every 2xx it receives, RFC 3261 §13.2.2.4): never more of them than 200 retransmissions.
  const unexpected = t.reduce((n, row) => n + row.unexpected, 0);
  const ok200Retrans = rows(t, 'send', '200').reduce((n, row) => n + row.retrans, 0);
  assert.ok(unexpected <= ok200Retrans, show);
}

/** Both ends passed all `calls`, and the callee saw each call's INVITE, ACK and BYE. */
function assertCallsCompleted(rc: SippResult, rs: SippResult, calls: number): void {
  assertAllPassed('uac', rc, calls);
  assertAllPassed('uas', rs, calls);
  assertUasSawCalls(rs, calls);
}

for (const d of DEFAULT_SCRIPTS) {
  describe(`calls through Junction (SIPp UAC → Junction → SIPp UAS), ${d.lang} default script`, () => {
    before(() => ensureSipp());
    after(() => removeTempDirs());

    it(
      'UDP: 2,000 calls at 500 calls/s, none failed',
      { timeout: 120_000 },
      withJunction(async ({ s, proxy, junction }) => {
        await junction();
        const calls = 2000;
        const [rc, rs] = await runBenchCalls(s, { proxy, calls, timeoutS: 60, rate: 500 });
        assertCallsCompleted(rc, rs, calls);
      }, d),
    );

    it(
      'TCP: 2,000 calls at 500 calls/s, none failed',
      { timeout: 120_000 },
      withJunction(async ({ s, proxy, junction }) => {
        await junction({ tcp: true });
        // uac-rr.xml names the callee without a transport: ask for TCP in the Request-URI, so the
        // proxy relays over TCP (RFC 3261 §19.1.2); the UAS's Contact says transport=TCP itself.
        const original = readFileSync(UAC_RR(), 'latin1');
        const uri = 'sip:[service]@[remote_ip]:[remote_port]';
        assert.ok(original.includes(`INVITE ${uri} SIP/2.0`), 'uac-rr.xml changed: update this test');
        const scenario = writeFile(
          tempDir(),
          'uac-rr-tcp.xml',
          original.replace(`INVITE ${uri} SIP/2.0`, `INVITE ${uri};transport=tcp SIP/2.0`),
        );
        const calls = 2000;
        const [rc, rs] = await runBenchCalls(s, {
          proxy,
          calls,
          timeoutS: 60,
          rate: 500,
          tcp: true,
          uacScenario: scenario,
        });
        assertCallsCompleted(rc, rs, calls);
        // TCP is reliable: nobody retransmitted anything.
        assertNoRetransmissions(rc, rs);
      }, d),
    );

    it(
      'in-dialog BYE routed by Record-Route (loose routing)',
      { timeout: 60_000 },
      withJunction(async ({ s, proxy, junction }) => {
        await junction();
        const calls = 20;
        const [rc, rs] = await runBenchCalls(s, { proxy, calls, timeoutS: 30, rate: 20, trace: true });
        assertCallsCompleted(rc, rs, calls);

        // Our Record-Route (RFC 3261 §16.6 step 4): the proxy's address, ;lr, Kamailio's ;ftag.
        const rr = new RegExp(`^Record-Route: <sip:127\\.0\\.0\\.1:${proxy};lr;ftag=[^>]+>$`, 'm');
        const uacLog = sippMessages(rc.messages);
        const ok200 = uacLog.filter(
          (m) => m.received && /^SIP\/2\.0 200 /.test(m.text) && /^CSeq: 1 INVITE$/m.test(m.text),
        );
        assert.ok(ok200.length >= calls, `the caller received ${ok200.length} INVITE 200s`);
        for (const m of ok200) assert.match(m.text, rr, m.text);
        // The caller's BYE carries the route set: Route: <our Record-Route>.
        const byes = uacLog.filter((m) => !m.received && m.text.startsWith('BYE '));
        assert.equal(byes.length, calls);
        for (const m of byes)
          assert.match(
            m.text,
            new RegExp(`^Route: <sip:127\\.0\\.0\\.1:${proxy};lr;ftag=[^>]+>$`, 'm'),
            m.text,
          );
        // The BYE reached the callee through the proxy: the proxy's Via on top of the caller's, and
        // the proxy consumed its own Route entry (loose_route), so no Route is left.
        const uasByes = sippMessages(rs.messages).filter((m) => m.received && m.text.startsWith('BYE '));
        assert.equal(uasByes.length, calls);
        for (const m of uasByes) {
          const vias = m.text.split('\r\n').filter((l) => /^Via:/i.test(l));
          assert.equal(vias.length, 2, m.text);
          assert.match(
            vias[0],
            new RegExp(`^Via: SIP/2\\.0/UDP 127\\.0\\.0\\.1:${proxy};branch=z9hG4bK`),
            m.text,
          );
          assert.match(vias[1], new RegExp(`^Via: SIP/2\\.0/UDP 127\\.0\\.0\\.1:${callerPort(rc)}`), m.text);
          assert.doesNotMatch(m.text, /^Route:/im, m.text);
        }
      }, d),
    );

    it(
      'stateless mode (proxy.stateless): 1,000 calls, none failed',
      { timeout: 90_000 },
      withJunction(async ({ s, proxy, junction }) => {
        const j = await junction({ extraYaml: 'proxy: { stateless: true }' });
        assert.ok(
          j.logs().some((r) => r.msg === 'listening' && r.stateless === true),
          'the server says it runs stateless',
        );
        const calls = 1000;
        const [rc, rs] = await runBenchCalls(s, { proxy, calls, timeoutS: 60, rate: 250 });
        assertCallsCompleted(rc, rs, calls);
        // Stateless: no transaction, hence no 100 Trying from the proxy (the UAS sends none either).
        const t = messageTable(rc.stdout);
        assert.equal(rows(t, 'recv', '100')[0]?.messages, 0, showTable(t));
      }, d),
    );
  });
}

/** The local port the caller used (from its first sent INVITE's Via). */
function callerPort(r: SippResult): number {
  const m = /^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:(\d+);/m.exec(r.messages);
  return m === null ? -1 : Number(m[1]);
}
