/**
 * Timers and unreliable delivery through Junction with real SIPp (issue 3 §6): CANCEL while
 * ringing (487 to the caller, the callee sees the CANCEL), 408 when nobody answers (Timer B
 * before any provisional, Timer C = modules.tm.fr_inv_timer after one, Timer F =
 * modules.tm.fr_timer for non-INVITE), and calls completing under 10 % packet loss (SIPp -lost).
 * Short timers (T1 = 100 ms) keep the suite fast; the default routing script is used throughout,
 * in TypeScript and in Lua (every test runs once per script).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertAllPassed,
  assertNoRetransmissions,
  counts,
  type JunctionTest,
  runBenchCalls,
  runCalls,
  withJunction,
} from './call_flow.ts';
import {
  DEFAULT_SCRIPTS,
  ensureSipp,
  freePort,
  removeTempDirs,
  type SippResult,
  tempDir,
  writeFile,
} from './harness.ts';
import {
  messageTable,
  rows,
  showTable,
  sippMessages,
  uacCancel,
  uacExpectFailure,
  uacNonInvite,
  uasCancelled,
  uasSilent,
} from './scenarios.ts';

const T1 = 100;
const FR_TIMER = 2000;
const FR_INV_TIMER = 3000;
const TM = `modules: { tm: { t1: ${T1}, fr_timer: ${FR_TIMER}, fr_inv_timer: ${FR_INV_TIMER} } }`;

/**
 * `calls` traced calls at 10 calls/s through a Junction with the short timers: a callee running
 * `uasXml` (bound first), a caller running `uacXml`; both must pass every call. Their results.
 */
async function timedCalls(
  t: JunctionTest,
  calls: number,
  uasXml: string,
  uacXml: string,
): Promise<[SippResult, SippResult]> {
  await t.junction({ extraYaml: TM });
  const dir = tempDir();
  const uas = { scenario: writeFile(dir, 'uas.xml', uasXml), port: await freePort(), calls, timeoutS: 30 };
  const [rc, rs] = await runCalls(t.s, [uas], {
    scenario: writeFile(dir, 'uac.xml', uacXml),
    calls,
    timeoutS: 30,
    callee: uas.port,
    proxy: t.proxy,
    rate: 10,
    trace: true,
  });
  assertAllPassed('caller', rc, calls);
  assertAllPassed('callee', rs, calls);
  return [rc, rs];
}

/** For each call of a traced caller: ms from its first request to the first final response `code`. */
function delays(r: SippResult, method: string, code: number): number[] {
  const msgs = sippMessages(r.messages);
  const callId = (t: string): string => /^Call-ID: (.*)$/m.exec(t)?.[1] ?? '';
  const sentAt = new Map<string, number>();
  const out: number[] = [];
  for (const m of msgs) {
    const id = callId(m.text);
    if (!m.received && m.text.startsWith(`${method} `) && !sentAt.has(id)) sentAt.set(id, m.at);
    if (m.received && m.text.startsWith(`SIP/2.0 ${code} `) && sentAt.has(id)) {
      out.push(m.at - sentAt.get(id)!);
      sentAt.delete(id);
    }
  }
  return out;
}

for (const d of DEFAULT_SCRIPTS) {
  describe(`timers and loss through Junction, ${d.lang} default script`, { concurrency: true }, () => {
    before(() => ensureSipp());
    after(() => removeTempDirs());

    it(
      'CANCEL while ringing: 200 for the CANCEL, the callee sees it, 487 (the callee’s) to the caller',
      { timeout: 60_000 },
      withJunction(async (t) => {
        const calls = 10;
        // The callee's scenario has the CANCEL as a mandatory <recv>: passing means it saw it.
        const [rc, rs] = await timedCalls(t, calls, uasCancelled(), uacCancel());
        assert.deepEqual(counts(rc), [
          `send INVITE ${calls}`,
          `recv 100 ${calls}`,
          `recv 180 ${calls}`,
          `pause 200ms ${calls}`,
          `send CANCEL ${calls}`,
          `recv 200 ${calls}`,
          `recv 487 ${calls}`,
          `send ACK ${calls}`,
          `pause 1000ms ${calls}`,
        ]);
        assert.deepEqual(counts(rs), [
          `recv INVITE ${calls}`,
          `send 180 ${calls}`,
          `recv CANCEL ${calls}`,
          `send 200 ${calls}`,
          `send 487 ${calls}`,
          `recv ACK ${calls}`,
          `pause 1000ms ${calls}`,
        ]);
        // Nothing was retransmitted: every ACK matched its transaction at once.
        assertNoRetransmissions(rc, rs);
        // The 487 is the callee's, relayed (§16.7: the best response received), not one the proxy made.
        const finals = sippMessages(rc.messages).filter(
          (m) => m.received && m.text.startsWith('SIP/2.0 487 '),
        );
        assert.equal(finals.length, calls);
        for (const m of finals) assert.match(m.text, /^To: .*;tag=\d+SIPpTag01\d+$/m, m.text);
      }, d),
    );

    it(
      `408 when the callee never answers: Timer B = 64·T1 (${(64 * T1) / 1000} s)`,
      { timeout: 60_000 },
      withJunction(async (t) => {
        const calls = 3;
        const [rc, rs] = await timedCalls(
          t,
          calls,
          uasSilent('INVITE', 64 * T1 + 2000),
          uacExpectFailure(408),
        );
        assert.deepEqual(counts(rc), [
          `send INVITE ${calls}`,
          `recv 100 ${calls}`,
          'recv 180 0',
          `recv 408 ${calls}`,
          `send ACK ${calls}`,
          `pause 1000ms ${calls}`,
        ]);
        // The proxy's 100 Trying stopped the caller's retransmissions; its ACK stopped the 408's.
        const tc = messageTable(rc.stdout);
        assert.equal(rows(tc, 'send', 'INVITE')[0]?.retrans, 0, showTable(tc));
        assert.equal(rows(tc, 'recv', '408')[0]?.retrans, 0, showTable(tc));
        // Towards the silent callee the proxy retransmitted the INVITE (Timer A: T1, 2·T1, 4·T1 …,
        // due at 100, 300, 700, 1500, 3100 and 6300 ms) until Timer B (6400 ms): 6 per call, 5 when
        // timer drift on a loaded machine pushes the last one past Timer B. It sent no CANCEL (no
        // provisional): the callee's scenario would have failed on it.
        const tu = messageTable(rs.stdout);
        const retrans = rows(tu, 'recv', 'INVITE')[0]?.retrans ?? 0;
        assert.ok(retrans >= 5 * calls && retrans <= 6 * calls, showTable(tu));
        for (const d of delays(rc, 'INVITE', 408)) {
          assert.ok(d >= 64 * T1 - 50 && d < 64 * T1 + 1000, `408 after ${d} ms, Timer B is ${64 * T1} ms`);
        }
        assert.equal(delays(rc, 'INVITE', 408).length, calls);
      }, d),
    );

    it(
      `408 when the callee rings but never answers: Timer C = fr_inv_timer (${FR_INV_TIMER} ms), the callee is CANCELled`,
      { timeout: 60_000 },
      withJunction(async (t) => {
        const calls = 3;
        // The callee rings, then gets the proxy's CANCEL when Timer C fires (RFC 3261 §16.8).
        const [rc] = await timedCalls(t, calls, uasCancelled(), uacExpectFailure(408, { ringing: true }));
        assert.deepEqual(counts(rc), [
          `send INVITE ${calls}`,
          `recv 100 ${calls}`,
          `recv 180 ${calls}`,
          `recv 408 ${calls}`,
          `send ACK ${calls}`,
          `pause 1000ms ${calls}`,
        ]);
        // The callee's 487 (answering the CANCEL) stayed at the proxy: the caller got the 408 only.
        assert.doesNotMatch(rc.messages, /^SIP\/2\.0 487 /m);
        const ds = delays(rc, 'INVITE', 408);
        assert.equal(ds.length, calls);
        for (const d of ds)
          assert.ok(
            d >= FR_INV_TIMER - 50 && d < FR_INV_TIMER + 1000,
            `408 after ${d} ms, Timer C is ${FR_INV_TIMER} ms`,
          );
      }, d),
    );

    for (const method of ['OPTIONS', 'MESSAGE']) {
      it(
        `408 for a non-INVITE (${method}) nobody answers: Timer F = fr_timer (${FR_TIMER} ms)`,
        { timeout: 60_000 },
        withJunction(async (t) => {
          const calls = 3;
          const [rc, rs] = await timedCalls(
            t,
            calls,
            uasSilent(method, FR_TIMER + 2000),
            uacNonInvite(method, 408),
          );
          const ds = delays(rc, method, 408);
          assert.equal(ds.length, calls);
          for (const d of ds)
            assert.ok(
              d >= FR_TIMER - 50 && d < FR_TIMER + 1000,
              `408 after ${d} ms, Timer F is ${FR_TIMER} ms`,
            );
          // The proxy retransmitted the request to the silent callee (Timer E: T1 doubling up to T2).
          const tu = messageTable(rs.stdout);
          assert.ok((rows(tu, 'recv', method)[0]?.retrans ?? 0) >= calls * 4, showTable(tu));
        }, d),
      );
    }

    it(
      '10 % packet loss between caller and proxy: 200 calls complete through retransmissions',
      { timeout: 120_000 },
      withJunction(async ({ s, proxy, junction }) => {
        // SIPp's -lost drops 10 % of what the caller sends *and* of what it receives, so both
        // directions of the caller ↔ proxy leg are lossy: lost INVITEs, ACKs and BYEs are repaired by
        // the caller's retransmissions (the proxy absorbs duplicates or answers them from its
        // transactions), lost 100/180/200s by the proxy resending the provisional, the callee's 2xx
        // retransmissions relayed by the proxy, and the proxy's completed BYE transaction.
        // Not on the callee: SIPp 3.6.1's UAS takes an INVITE retransmission that arrives after it
        // "lost" both its 180 and 200 for an unexpected message and aborts the call (its own limit,
        // seen with Junction's Timer A retransmissions).
        // The default timers: the caller's T1 is SIPp's 500 ms, and a BYE retransmitted late (after
        // four losses) must still find the proxy's transaction (Timer J = 64·T1 of the *proxy's* T1).
        await junction();
        const calls = 200;
        const [rc, rs] = await runBenchCalls(s, {
          proxy,
          calls,
          timeoutS: 60,
          rate: 50,
          uacArgs: ['-lost', '10'],
        });
        assertAllPassed('caller', rc, calls);
        assertAllPassed('callee', rs, calls);
        // Loss really happened, both ways (SIPp's Lost column), and was repaired: the caller
        // retransmitted INVITEs and BYEs.
        const t = messageTable(rc.stdout);
        assert.ok(t.filter((r) => r.kind === 'send').reduce((n, r) => n + r.lost, 0) > 0, showTable(t));
        assert.ok(t.filter((r) => r.kind === 'recv').reduce((n, r) => n + r.lost, 0) > 0, showTable(t));
        assert.ok((rows(t, 'send', 'INVITE')[0]?.retrans ?? 0) > 0, showTable(t));
        assert.ok((rows(t, 'send', 'BYE')[0]?.retrans ?? 0) > 0, showTable(t));
      }, d),
    );
  });
}
