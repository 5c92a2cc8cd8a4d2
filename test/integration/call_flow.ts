/**
 * The shapes the SIPp integration tests share: one Junction on a free port per test, stopped with
 * everything else by PID whatever happens (`withJunction`); SIPp callees started and bound before
 * the caller (`startCalls` / `runCalls`); and the common assertions on SIPp results.
 */
import assert from 'node:assert/strict';
import {
  describeSipp,
  freePort,
  type RunningServer,
  Session,
  type SippParty,
  type SippResult,
  type SippRun,
  shared,
  waitSippBound,
  writeScript,
} from './harness.ts';
import { messageTable, showTable } from './scenarios.ts';

/** The shared bench's callee (answers 200, waits for the BYE). */
export const UAS = (): string => shared('bench/scenarios/uas.xml');
/** The shared bench's caller (INVITE, ACK, BYE; honours Record-Route). */
export const UAC_RR = (): string => shared('bench/scenarios/uac-rr.xml');

/** What a `withJunction` body gets: its session, the proxy's port, and a way to start Junction there. */
export interface JunctionTest {
  s: Session;
  /** The port Junction listens on (picked before the body runs). */
  proxy: number;
  /** Start Junction on `proxy` (once per test). */
  junction(opts?: Omit<Parameters<Session['junction']>[0], 'port'>): Promise<RunningServer>;
}

/**
 * A test function (for `it`) that runs `body` with a fresh Session and a free port for Junction
 * (running `opts.script`, default routes/default.ts),
 * and stops everything it started, by PID, in `finally`. After the body, Junction must have logged
 * no error; after the stop, it must have exited gracefully (exit code 0).
 */
export function withJunction(
  body: (t: JunctionTest) => Promise<void>,
  opts: { script?: string } = {},
): () => Promise<void> {
  return async () => {
    const s = new Session({ script: opts.script });
    let server: RunningServer | undefined;
    let errors: object[] = [];
    try {
      const proxy = await freePort();
      await body({
        s,
        proxy,
        junction: async (opts = {}) => {
          server = await s.junction({ ...opts, port: proxy });
          return server;
        },
      });
      errors = server?.errors() ?? [];
    } finally {
      await s.close();
    }
    assert.deepEqual(s.junctionExits, [0]);
    assert.deepEqual(errors, []);
  };
}

/** A SIPp caller through the proxy, as `Session.uac` takes it, minus its own port (a free one). */
export type CallerParty = Omit<SippParty, 'port'> & { callee: number; proxy: number; rate: number };

/**
 * Start every callee, wait until each is bound (in order), then start the caller on a free port.
 * For tests that act while the calls run; `runCalls` when they just wait for the results.
 */
export async function startCalls(
  s: Session,
  callees: readonly SippParty[],
  caller: CallerParty,
): Promise<{ caller: SippRun; callees: SippRun[] }> {
  const runs = callees.map((p) => s.uas(p));
  for (const p of callees) await waitSippBound(p);
  return { caller: s.uac({ ...caller, port: await freePort() }), callees: runs };
}

/** `startCalls`, then wait for every party: the caller's result first, then each callee's. */
export async function runCalls(
  s: Session,
  callees: readonly SippParty[],
  caller: CallerParty,
): Promise<SippResult[]> {
  const runs = await startCalls(s, callees, caller);
  return Promise.all([runs.caller.done, ...runs.callees.map((r) => r.done)]);
}

/** The shared bench's pair through Junction: `calls` calls of uac-rr.xml (or `uacScenario`) to uas.xml. */
export interface BenchCalls {
  proxy: number;
  calls: number;
  /** Both parties' SIPp -timeout. */
  timeoutS: number;
  /** The caller's calls per second. */
  rate: number;
  /** Both parties over TCP. */
  tcp?: boolean;
  /** Both parties trace their messages. */
  trace?: boolean;
  /** Instead of the bench's uac-rr.xml. */
  uacScenario?: string;
  /** More SIPp options for the caller. */
  uacArgs?: string[];
}

/** `startCalls` for the bench pair (`BenchCalls`): the callee on a free port, then the caller. */
export async function startBenchCalls(
  s: Session,
  o: BenchCalls,
): Promise<{ caller: SippRun; callee: SippRun }> {
  const common = { calls: o.calls, timeoutS: o.timeoutS, tcp: o.tcp, trace: o.trace };
  const uas = { scenario: UAS(), port: await freePort(), ...common };
  const { caller, callees } = await startCalls(s, [uas], {
    scenario: o.uacScenario ?? UAC_RR(),
    ...common,
    callee: uas.port,
    proxy: o.proxy,
    rate: o.rate,
    args: o.uacArgs,
  });
  return { caller, callee: callees[0] };
}

/** `startBenchCalls`, then wait for both: [the caller's result, the callee's]. */
export async function runBenchCalls(s: Session, o: BenchCalls): Promise<[SippResult, SippResult]> {
  const { caller, callee } = await startBenchCalls(s, o);
  return Promise.all([caller.done, callee.done]);
}

/** SIPp exited 0 with exactly `calls` successful and none failed. */
export function assertAllPassed(name: string, r: SippResult, calls: number): void {
  const why = describeSipp(name, r);
  assert.equal(r.killed, false, why);
  assert.equal(r.code, 0, why);
  assert.equal(r.successful, calls, why);
  assert.equal(r.failed, 0, why);
}

/** Message counts of a SIPp table, `kind name` → messages, for deepEqual against the expected flow. */
export function counts(r: SippResult): string[] {
  return messageTable(r.stdout).map((row) => `${row.kind} ${row.name} ${row.messages}`);
}

/** No party retransmitted anything (every row of every table has 0 retransmissions). */
export function assertNoRetransmissions(...results: SippResult[]): void {
  for (const r of results)
    for (const row of messageTable(r.stdout)) assert.equal(row.retrans, 0, showTable(messageTable(r.stdout)));
}

/**
 * SIPp arguments for one call (-m 1) of `scenario` on 127.0.0.1:`port`, failing after `timeout`;
 * `to`: the remote party (`host:port`) of a caller.
 */
export function onceArgs(scenario: string, port: number, to?: string, timeout = '20s'): string[] {
  return [
    '-sf',
    scenario,
    ...(to === undefined ? [] : [to]),
    '-i',
    '127.0.0.1',
    '-p',
    String(port),
    '-m',
    '1',
    '-timeout',
    timeout,
    '-timeout_error',
  ];
}

/**
 * One call (-m 1) of `scenario` from a SIPp on `port` (default: a free one) straight to Junction
 * at `proxy`, as `user` (-s: the Request-URI's user part, so Junction looks the user up); its
 * result. `trace`: SIPp's message trace in the result.
 */
export async function runOnceAsUser(
  s: Session,
  proxy: number,
  user: string,
  scenario: string,
  opts: { port?: number; trace?: boolean } = {},
): Promise<SippResult> {
  const port = opts.port ?? (await freePort());
  const args = [...onceArgs(scenario, port, `127.0.0.1:${proxy}`), '-s', user];
  return s.sipp(args, 40_000, { trace: opts.trace }).done;
}

/**
 * Script text opening a request route (KSR as `KSR`): a CANCEL relayed when it matches a
 * transaction, in-dialog requests by loose routing (an ACK forwarded), other in-dialog requests
 * 404; every one of them returns.
 */
export const RELAY_CANCEL_AND_IN_DIALOG = `  if (KSR.is_CANCEL()) {
    if (KSR.tm.t_check_trans() > 0) await KSR.tm.t_relay();
    return;
  }
  if (KSR.siputils.has_totag() > 0) {
    if (KSR.rr.loose_route() > 0) {
      if (KSR.is_ACK()) { await KSR.forward(); return; }
      if ((await KSR.tm.t_relay()) < 0) KSR.sl.sl_reply_error();
      return;
    }
    if (KSR.is_ACK()) { if (KSR.tm.t_check_trans() > 0) await KSR.tm.t_relay(); return; }
    KSR.sl.sl_send_reply(404, 'Not here');
    return;
  }
`;

/**
 * A kamailio-basic-kemi-like script: in-dialog requests by loose routing, Record-Route, then
 * `decide` (code run before t_relay on an initial request) and t_relay. `extra` adds exports.
 */
export function proxyScript(decide: string, extra = ''): string {
  return writeScript(`
export async function ksr_request_route(KSR: Ksr): Promise<void> {
  if (KSR.maxfwd.process_maxfwd(10) < 0) {
    KSR.sl.sl_send_reply(483, 'Too Many Hops');
    KSR.x.exit();
  }
  // A CANCEL that matched its INVITE was handled before the script: this one matched nothing (481).
  if (KSR.is_CANCEL()) KSR.x.exit();
  if (KSR.siputils.has_totag() > 0) {
    if (KSR.rr.loose_route() > 0) {
      if (KSR.is_ACK()) await KSR.forward();
      else await KSR.tm.t_relay();
      KSR.x.exit();
    }
    if (!KSR.is_ACK()) KSR.sl.sl_send_reply(404, 'Not here');
    KSR.x.exit();
  }
  KSR.rr.record_route();
${decide}
  if ((await KSR.tm.t_relay()) < 0) KSR.sl.sl_reply_error();
}
${extra}`);
}
