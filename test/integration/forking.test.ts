/**
 * Forking through Junction with real SIPp (issue 3 §6): SIPp's built-in branchc/branchs pair,
 * parallel forking (KSR.corex.append_branch) with best-response selection (RFC 3261 §16.7,
 * src/proxy/response_selection.ts), CANCEL of the other branches when one answers 2xx, and serial
 * forking from a failure route. The routing scripts are written by each test into a temp folder.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertAllPassed,
  counts,
  type JunctionTest,
  proxyScript,
  runCalls,
  UAC_RR,
  UAS,
  withJunction,
} from './call_flow.ts';
import {
  ensureSipp,
  freePort,
  removeTempDirs,
  type SippResult,
  shared,
  tempDir,
  waitSippBound,
  writeFile,
  writeScript,
} from './harness.ts';
import {
  messageTable,
  rows,
  showTable,
  sippMessages,
  uacExpectFailure,
  uasCancelled,
  uasReject,
} from './scenarios.ts';

/** `proxyScript`'s `decide` for parallel forking: the Request-URI's branch plus one to `port`. */
function appendBranch(port: number): string {
  return `  if (KSR.is_INVITE()) KSR.corex.append_branch('sip:second@127.0.0.1:${port}');`;
}

/** Two callees and a caller whose Request-URI names the first: what `twoCallees` runs. */
interface TwoCallees {
  calls: number;
  /** The callees' scenario files: `a` is the Request-URI's, `b` the other destination. */
  a: string;
  b: string;
  /** The caller's scenario file. */
  uac: string;
  /** The routing script, given `b`'s port. */
  script: (bPort: number) => string;
  /** The caller traces its messages. */
  trace?: boolean;
}

/**
 * Junction with `o.script`; callees `a` and `b` (30 s SIPp timeouts) bound; then `o.calls` calls
 * to `a` at 5 calls/s. [the caller's result, a's, b's].
 */
async function twoCallees(t: JunctionTest, o: TwoCallees): Promise<SippResult[]> {
  const a = { scenario: o.a, port: await freePort(), calls: o.calls, timeoutS: 30 };
  const b = { scenario: o.b, port: await freePort(), calls: o.calls, timeoutS: 30 };
  await t.junction({ script: o.script(b.port) });
  return runCalls(t.s, [a, b], {
    scenario: o.uac,
    calls: o.calls,
    timeoutS: 30,
    callee: a.port,
    proxy: t.proxy,
    rate: 5,
    trace: o.trace,
  });
}

/** `twoCallees` with parallel forking: every INVITE goes to `a` and to `b` at once. */
function forkToBoth(t: JunctionTest, o: Omit<TwoCallees, 'script'>): Promise<SippResult[]> {
  return twoCallees(t, { ...o, script: (bPort) => proxyScript(appendBranch(bPort)) });
}

describe('forking through Junction', { concurrency: true }, () => {
  before(() => ensureSipp());
  after(() => removeTempDirs());

  it(
    "SIPp's built-in branchc/branchs through Junction: REGISTER, INVITE → 200 and INVITE → 403",
    { timeout: 90_000 },
    withJunction(async ({ s, proxy, junction }) => {
      const uasPort = await freePort();
      // branchc names hosts nobody can resolve (CA.cym.com): route everything to branchs by $du.
      const script = writeScript(`
export async function ksr_request_route(KSR: Ksr): Promise<void> {
  if (KSR.maxfwd.process_maxfwd(10) < 0) {
    KSR.sl.sl_send_reply(483, 'Too Many Hops');
    KSR.x.exit();
  }
  if (KSR.is_CANCEL()) KSR.x.exit();
  KSR.pv.sets('$du', 'sip:127.0.0.1:${uasPort}');
  if (KSR.is_ACK()) {
    await KSR.forward();
    KSR.x.exit();
  }
  if ((await KSR.tm.t_relay()) < 0) KSR.sl.sl_reply_error();
}
`);
      await junction({ script });
      const calls = 30;
      const uas = {
        scenario: shared('corpus/sipp-builtin/branchs.xml'),
        port: uasPort,
        calls,
        timeoutS: 45,
      };
      const callee = s.uas(uas);
      await waitSippBound(uas);
      // branchc's remote is the proxy itself (its Request-URIs name CA.cym.com, not a UAS).
      const caller = s.sipp(
        [
          '-sf',
          shared('corpus/sipp-builtin/branchc.xml'),
          `127.0.0.1:${proxy}`,
          '-i',
          '127.0.0.1',
          '-p',
          String(await freePort()),
          '-m',
          String(calls),
          '-r',
          '15',
          '-timeout',
          '45s',
          '-timeout_error',
        ],
        60_000,
      );
      const [rc, rs] = await Promise.all([caller.done, callee.done]);
      assertAllPassed('branchc', rc, calls);
      assertAllPassed('branchs', rs, calls);
      // branchs answers 200 when the caller's From display name contains "ua2" (calls 2, 20–29 of
      // branchc's numbering: 11 calls), 403 otherwise (19 calls); it always rings first.
      const ok = 11;
      const rejected = calls - ok;
      assert.deepEqual(
        counts(rc),
        [
          `send REGISTER ${calls}`,
          `recv 200 ${calls}`,
          'recv 200 0',
          `send INVITE ${calls}`,
          `recv 100 ${calls}`, // the proxy's own 100 Trying (branchs' 100 is hop by hop: not forwarded)
          `recv 180 ${calls}`,
          'recv 183 0',
          `recv 403 ${rejected}`,
          `recv 200 ${ok}`,
          `send ACK ${ok}`,
          `pause 5000ms ${ok - 1}`, // call 25 skips the pause
          `send BYE ${calls}`,
          `recv 200 ${calls}`,
          `pause 4000ms ${calls}`,
        ],
        showTable(messageTable(rc.stdout)),
      );
      assert.deepEqual(
        counts(rs),
        [
          `recv REGISTER ${calls}`,
          `send 200 ${calls}`,
          `recv INVITE ${calls}`,
          `send 180 ${calls}`,
          `send 403 ${rejected}`,
          `send 100 ${ok}`,
          `send 200 ${ok}`,
          // Every call's ACK: the callers' end-to-end ACKs of the 200s and the proxy's own
          // hop-by-hop ACKs of the 403s (RFC 3261 §17.1.1.3; branchc never ACKs a 403 itself).
          `recv ACK ${calls}`,
          `recv BYE ${calls}`,
          `send 200 ${calls}`,
          `pause 4000ms ${calls}`,
        ],
        showTable(messageTable(rs.stdout)),
      );
    }),
  );

  it(
    'parallel forking: one branch 486, the other 200 → the caller gets the 200',
    { timeout: 60_000 },
    withJunction(async (t) => {
      const [rc, resA, resB] = await forkToBoth(t, {
        calls: 5,
        a: writeFile(tempDir(), 'a.xml', uasReject(486, 'Busy Here')),
        b: UAS(),
        uac: UAC_RR(),
      });
      assertAllPassed('caller', rc, 5);
      assertAllPassed('uas 486', resA, 5);
      assertAllPassed('uas 200', resB, 5);
      // The 486 was ACKed hop by hop by the proxy and never reached the caller (it would be an
      // unexpected message there); the dialog is with the second branch, which got ACK and BYE.
      assert.deepEqual(counts(resA), ['recv INVITE 5', 'send 486 5', 'recv ACK 5', 'pause 1000ms 5']);
      const tb = messageTable(resB.stdout);
      assert.equal(rows(tb, 'recv', 'ACK')[0]?.messages, 5, showTable(tb));
      assert.equal(rows(tb, 'recv', 'BYE')[0]?.messages, 5, showTable(tb));
    }),
  );

  it(
    'parallel forking: a 200 on one branch CANCELs the ringing one ("Call completed elsewhere")',
    { timeout: 60_000 },
    withJunction(async (t) => {
      const [rc, resA, resB] = await forkToBoth(t, {
        calls: 5,
        // RFC 3326 Reason on the CANCEL a forking proxy sends when another branch answered.
        a: writeFile(tempDir(), 'a.xml', uasCancelled('cause=200.*Call completed elsewhere')),
        b: UAS(),
        uac: UAC_RR(),
      });
      assertAllPassed('caller', rc, 5);
      // The ringing callee saw the CANCEL (a mandatory <recv> with a checked Reason), answered 200
      // and 487, and got the proxy's ACK for the 487.
      assertAllPassed('ringing uas', resA, 5);
      assert.deepEqual(counts(resA), [
        'recv INVITE 5',
        'send 180 5',
        'recv CANCEL 5',
        'send 200 5',
        'send 487 5',
        'recv ACK 5',
        'pause 1000ms 5',
      ]);
      assertAllPassed('answering uas', resB, 5);
    }),
  );

  for (const [first, second] of [
    [
      [486, 'Busy Here'],
      [404, 'Not Found'],
    ],
    [
      [404, 'Not Found'],
      [486, 'Busy Here'],
    ],
  ] as const) {
    it(
      `parallel forking, both reject: ${first[0]} (first branch, answers last) and ${second[0]} → the caller gets ${first[0]}`,
      { timeout: 60_000 },
      withJunction(async (t) => {
        // RFC 3261 §16.7 step 6: no 6xx, so the lowest class (4xx here, both); within a class the
        // RFC lets the proxy pick. Junction (src/proxy/response_selection.ts) prefers 401, 407, 415,
        // 420 and 484 and otherwise takes the earliest *branch*: the R-URI branch (index 0) before the
        // appended one — whatever order the answers arrive in and whatever the codes. The first branch
        // answers 300 ms after the second here, so arrival order would pick the other one.
        const dir = tempDir();
        const [rc, resA, resB] = await forkToBoth(t, {
          calls: 3,
          a: writeFile(dir, 'a.xml', uasReject(first[0], `${first[1]} (first branch)`, { delayMs: 300 })),
          b: writeFile(dir, 'b.xml', uasReject(second[0], `${second[1]} (second branch)`)),
          uac: writeFile(dir, 'uac.xml', uacExpectFailure(first[0])),
          trace: true,
        });
        assertAllPassed('caller', rc, 3);
        assertAllPassed(`uas ${first[0]}`, resA, 3);
        assertAllPassed(`uas ${second[0]}`, resB, 3);
        // The response the caller got is the first branch's own (its reason phrase), forwarded.
        const finals = sippMessages(rc.messages).filter(
          (m) => m.received && /^SIP\/2\.0 [4-6]\d\d /.test(m.text),
        );
        assert.equal(finals.length, 3, finals.map((m) => m.text).join('\n\n'));
        for (const m of finals)
          assert.match(
            m.text,
            new RegExp(`^SIP/2\\.0 ${first[0]} ${first[1]} \\(first branch\\)\r\n`),
            m.text,
          );
        // No final was retransmitted to the caller: its ACK matched the proxy's server transaction.
        const tc = messageTable(rc.stdout);
        assert.equal(rows(tc, 'recv', String(first[0]))[0]?.retrans, 0, showTable(tc));
      }),
    );
  }

  it(
    'serial forking: 503 from the first destination → failure route relays to a second, which answers 200',
    { timeout: 60_000 },
    withJunction(async (t) => {
      const [rc, resA, resB] = await twoCallees(t, {
        calls: 5,
        a: writeFile(tempDir(), 'a.xml', uasReject(503, 'Service Unavailable')),
        b: UAS(),
        uac: UAC_RR(),
        trace: true,
        script: (bPort) =>
          proxyScript(
            `  if (KSR.is_INVITE()) KSR.tm.t_on_failure('ksr_failure_manage');`,
            `
/** Kamailio's failure_route[MANAGE_FAILURE], serial-forking flavour: on 503 try the next hop. */
export async function ksr_failure_manage(KSR: Ksr): Promise<void> {
  if (KSR.tm.t_is_canceled() > 0) return;
  if (KSR.tm.t_check_status('^503$') > 0) {
    KSR.seturi('sip:second@127.0.0.1:${bPort}');
    if ((await KSR.tm.t_relay()) < 0) KSR.tm.t_reply(500, 'Serial forking failed');
  }
}
`,
          ),
      });
      assertAllPassed('caller', rc, 5);
      assertAllPassed('uas 503', resA, 5);
      assertAllPassed('uas 200', resB, 5);
      assert.deepEqual(counts(resA), ['recv INVITE 5', 'send 503 5', 'recv ACK 5', 'pause 1000ms 5']);
      const tb = messageTable(resB.stdout);
      for (const m of ['INVITE', 'ACK', 'BYE'])
        assert.equal(rows(tb, 'recv', m)[0]?.messages, 5, showTable(tb));
      // The caller never saw the 503 (nor a 500 made of it).
      assert.doesNotMatch(rc.messages, /^SIP\/2\.0 5\d\d /m);
    }),
  );
});
