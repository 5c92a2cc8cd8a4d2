/**
 * `npm run bench:proxy` — SIPp UAC → proxy → SIPp UAS on loopback UDP, for Junction and for
 * Kamailio 5.6 (../shared/bench/kamailio/stateful.cfg) tuned (`-x fm -m 1024`) and as shipped
 * (`-m 256`), one proxy at a time on 127.0.0.1:5060, same workload, same run.
 *
 * Method: ../shared/bench/README.md (run-calls.sh / find-max.sh), reimplemented here:
 * - CPU ms per call: utime+stime of every process of the proxy (/proc/PID/stat, main PID and its
 *   descendants) from just before SIPp starts to just after it exits, divided by the calls placed
 *   (SIPp's + the latency probe's). Fixed rates 500 and 2,000 calls/s, 10 s each (--quick: 4 s).
 *   Also shown: the same CPU including the settle period after the run (deferred work: timers, GC).
 * - Max sustained calls/s: find-max.sh's ladder (250 … 16,000) and pass rule (not-ok < 0.1 % of
 *   calls, retransmissions ≤ 0.5 %, achieved ≥ 95 % of the target rate), steps of 8 s (--quick:
 *   3 s), 5 s settle, then one bisection rounded to 50. The fixed-rate runs count as the 500 and
 *   2,000 rungs. A step stops early once SIPp's counters prove it failed, and the next step then
 *   starts from a fresh proxy and UAS (a failure leaves either damaged: Kamailio after its shm ran
 *   out fails every later step; the UAS retransmits the abandoned calls' 200 OKs). The ladder's
 *   result is then held for 40 s (longer than any transaction timer: Junction keeps transactions
 *   64·T1 = 32 s, Kamailio 5 s), searching down (≤ 3 steps) until a rate holds: that is max_cps.
 *   (--quick: no hold step.)
 * - Response time INVITE→200: a probe UAC/UAS in this process places 50 calls/s through the proxy
 *   during every run and times them with performance.now() (SIPp's own response-time trace ticks in
 *   4 ms steps here; its p50/p99 are printed too).
 * - Memory: VmRSS (and Pss, for multi-process Kamailio) of the proxy's processes every 500 ms.
 *
 * Options: --quick, --only junction|kamailio|all, --calls N (calls per fixed-rate run),
 *   --soak N [--rate R] (N calls at R/s, RSS every 2 s: flat-memory check), --probe-rate N,
 *   --cpu-prof DIR (Junction runs with node --cpu-prof), --node-options "..." (NODE_OPTIONS for
 *   Junction only, for experiments), --max-minutes M (hard deadline).
 * The last line printed is one JSON object.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { waitPorts as waitPortsShared } from './sipbench/ports.ts';
import { Probe, type ProbeStats, percentile } from './sipbench/probe.ts';
import {
  cpuTicks,
  killAllSync,
  MemorySampler,
  stopAll,
  stopTracked,
  type Tracked,
  ticksToMs,
  udpCounters,
} from './sipbench/procs.ts';
import { type ProxySpec, type RunningProxy, startProxy } from './sipbench/proxies.ts';
import {
  BENCH_ADDR,
  FAIL_MAX,
  RETRANS_MAX,
  runUac,
  startUas,
  stepPasses,
  type UacResult,
} from './sipbench/sipp.ts';

const {
  proxy: PROXY,
  uas: UAS,
  uacPort: UAC_PORT,
  probeUacPort: PROBE_UAC_PORT,
  probeUasPort: PROBE_UAS_PORT,
} = BENCH_ADDR;
const LADDER = [250, 500, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 7000, 8000, 10000, 12000, 16000];

const SPECS: ProxySpec[] = [
  { id: 'junction', label: 'Junction', kind: 'junction' },
  { id: 'kamailio-tuned', label: 'Kamailio tuned', kind: 'kamailio', shmMb: 1024, memmgr: 'fm' },
  { id: 'kamailio-shipped', label: 'Kamailio shipped', kind: 'kamailio', shmMb: 256 },
];

// ------------------------------------------------------------------ options

const USAGE = `usage: node bench/proxy.ts [--quick] [--only junction|kamailio|all] [--calls N]
                          [--soak N [--rate R]] [--probe-rate N] [--cpu-prof DIR]
                          [--node-options "..."] [--max-minutes M] [--dialog]
  --dialog: each proxy also runs with every call tracked as a dialog (Junction track_all,
            Kamailio dialog.so + dlg_manage()), next to its plain run`;

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    calls: { type: 'string' },
    soak: { type: 'string' },
    rate: { type: 'string' },
    'probe-rate': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'node-options': { type: 'string' },
    'max-minutes': { type: 'string' },
    dialog: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

function intOpt(name: string, v: string | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const quick = opts.quick === true;
const soakCalls = opts.soak === undefined ? 0 : intOpt('soak', opts.soak, 0);
const only = opts.only ?? (soakCalls > 0 ? 'junction' : 'all');
if (!['junction', 'kamailio', 'all'].includes(only)) {
  console.error(`--only: expected junction, kamailio or all, got ${JSON.stringify(only)}\n${USAGE}`);
  process.exit(2);
}
const FIXED_SECONDS = quick ? 4 : 10;
const STEP_SECONDS = quick ? 3 : 8;
const MIN_STEP_CALLS = quick ? 1000 : 2000;
const SETTLE_MS = quick ? 2000 : 5000;
const BISECT = 1;
/**
 * Ladder steps are short (8 s, as find-max.sh); a proxy whose transactions live longer than a step
 * (Junction: Timers L/M/J = 64·T1 = 32 s; Kamailio: wait_timer 5 s) only reaches its steady state
 * later. So the ladder's result is then confirmed by steps longer than the longest transaction
 * timer, searching down (at most 3 steps) until one holds. 0 = off (--quick).
 */
const SUSTAIN_SECONDS = quick ? 0 : 40;
const SUSTAIN_TRIES = 3;
const WARMUP_CALLS = quick ? 500 : 1000;
const fixedCalls = (rate: number): number => intOpt('calls', opts.calls, rate * FIXED_SECONDS);
const probeRate = intOpt('probe-rate', opts['probe-rate'], 50, 0);
const soakRate = intOpt('rate', opts.rate, 1000);
const maxMinutes = intOpt('max-minutes', opts['max-minutes'], soakCalls > 0 ? 30 : 16);
const cpuProfDir = opts['cpu-prof'] === undefined ? undefined : resolve(opts['cpu-prof']);
const junctionNodeOptions = [
  ...(cpuProfDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []),
  ...(opts['node-options'] !== undefined ? [opts['node-options']] : []),
].join(' ');

const specs = SPECS.filter((s) =>
  only === 'all' ? true : only === 'junction' ? s.kind === 'junction' : s.kind === 'kamailio',
)
  .filter((s) => soakCalls === 0 || s.id !== 'kamailio-shipped' || only === 'all')
  .flatMap((s) =>
    opts.dialog === true
      ? [s, { ...s, id: `${s.id}-dlg`, label: `${s.label} + dialogs`, dialog: true }]
      : [s],
  );

// ------------------------------------------------------------------ paths, install, cleanup

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(repo, '../shared/bench');
const paths = { shared };
const runDir = mkdtempSync('/tmp/junction-bench-');
const log = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= stopAll();
  return cleaning;
}
async function die(code: number, why: string): Promise<never> {
  console.error(`bench: ${why}; stopping everything it started`);
  await cleanup();
  process.exit(code);
}
process.on('SIGINT', () => void die(130, 'SIGINT'));
process.on('SIGTERM', () => void die(143, 'SIGTERM'));
process.on('exit', () => killAllSync());
const deadline = setTimeout(() => void die(3, `deadline of ${maxMinutes} min reached`), maxMinutes * 60_000);

function install(): void {
  if (!existsSync(join(shared, 'scenarios/uac-rr.xml'))) throw new Error(`${shared}: shared bench not found`);
  const pkgs = ['sip-tester', ...(specs.some((s) => s.kind === 'kamailio') ? ['kamailio'] : [])];
  execFileSync(join(repo, 'scripts/ensure-debian.sh'), pkgs, { stdio: 'inherit' });
  if (specs.some((s) => s.kind === 'kamailio')) {
    // Every module stateful.cfg loads must be installed (all are in Debian's base kamailio package).
    const cfg = readFileSync(join(shared, 'kamailio/stateful.cfg'), 'utf8');
    const mpath = /^mpath\s*=\s*"([^"]+)"/m.exec(cfg)?.[1] ?? '/usr/lib/x86_64-linux-gnu/kamailio/modules/';
    const missing = [...cfg.matchAll(/^loadmodule\s+"([^"]+)"/gm)]
      .map((m) => m[1])
      .filter((m) => !existsSync(join(mpath, m)));
    if (missing.length > 0)
      throw new Error(
        `kamailio modules missing in ${mpath}: ${missing.join(', ')} (see scripts/ensure-debian.sh)`,
      );
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const waitPorts = (ports: number[], timeoutMs: number): Promise<void> =>
  waitPortsShared(ports, timeoutMs, log);

// ------------------------------------------------------------------ measurement

interface Step {
  rate: number;
  sipp: UacResult;
  probe: ProbeStats;
  calls: number;
  cpuMs: number;
  /** CPU including the settle period after the run. */
  cpuMsDrained: number;
  pass: boolean;
  rcvbufErrors: number;
  logErrors: number;
}

const msPerCall = (s: Step): number => s.cpuMs / Math.max(1, s.calls);
const msPerCallDrained = (s: Step): number => s.cpuMsDrained / Math.max(1, s.calls);

async function step(
  proxy: RunningProxy,
  probe: Probe,
  rate: number,
  calls: number,
  name: string,
  abort: boolean,
): Promise<Step> {
  const pids = proxy.pids();
  let logOff = proxy.logOffset();
  let udp0 = udpCounters();
  let cpu0 = cpuTicks(pids);
  let sipp: UacResult;
  for (let attempt = 1; ; attempt++) {
    probe.start(probeRate);
    sipp = await runUac({
      paths,
      dir: join(runDir, proxy.spec.id, attempt === 1 ? name : `${name}-retry${attempt}`),
      rate,
      calls,
      uas: UAS,
      proxy: PROXY,
      uacPort: UAC_PORT,
      recvTimeoutMs: 8000,
      abortOn: abort ? { failMax: FAIL_MAX, retransMax: RETRANS_MAX } : undefined,
    });
    if (!sipp.bindFailed || attempt === 3) break;
    // The machine is shared: another program held the UAC port. Wait for it, then measure again.
    probe.stop();
    await probe.finish(0);
    log(`  udp port ${UAC_PORT} busy (SIPp could not bind): waiting, then retrying ${name}`);
    await waitPorts([UAC_PORT], 60_000);
    logOff = proxy.logOffset();
    udp0 = udpCounters();
    cpu0 = cpuTicks(pids);
  }
  probe.stop();
  const cpu1 = cpuTicks(pids);
  const udp1 = udpCounters();
  const probeStats = await probe.finish(1000);
  await sleep(SETTLE_MS);
  const cpu2 = cpuTicks(pids);
  const n = sipp.created + probeStats.started;
  const pass = stepPasses(sipp, rate);
  const errs = proxy.errorLinesSince(logOff);
  const s: Step = {
    rate,
    sipp,
    probe: probeStats,
    calls: n,
    cpuMs: ticksToMs(cpu1 - cpu0),
    cpuMsDrained: ticksToMs(cpu2 - cpu0),
    pass,
    rcvbufErrors: udp1.rcvbufErrors - udp0.rcvbufErrors,
    logErrors: errs.count,
  };
  const p = (q: number): string => fmt(percentile(probeStats.setup, q), 2);
  log(
    `  ${proxy.spec.id.padEnd(16)} ${name.padEnd(8)} rate=${rate} calls=${sipp.created}/${calls} ok=${sipp.ok} ` +
      `not_ok=${sipp.notOk} retrans=${sipp.retrans} cps=${sipp.cps.toFixed(0)}${sipp.aborted ? ' ABORTED' : ''} ` +
      `cpu=${msPerCall(s).toFixed(3)}ms/call (${msPerCallDrained(s).toFixed(3)} w/ settle) ` +
      `probe p50/p99=${p(0.5)}/${p(0.99)}ms (${probeStats.completed}/${probeStats.started}) ` +
      `rcvbuf+${s.rcvbufErrors} logerr=${errs.count} -> ${pass ? 'PASS' : 'FAIL'}`,
  );
  for (const l of errs.first) log(`      log: ${l}`);
  return s;
}

interface ProxyResult {
  spec: ProxySpec;
  fixed: Map<number, Step>;
  /** Highest rate that held for SUSTAIN_SECONDS (the ladder's result when that check is off). */
  maxCps: number;
  firstFail: number;
  /** The ladder's (8 s steps) result. */
  ladderMax?: number;
  ladderFirstFail?: number;
  maxStep?: Step;
  rssMaxMb: number;
  pssMaxMb: number;
  error?: string;
}

async function startAndWait(spec: ProxySpec, probe: Probe): Promise<RunningProxy> {
  await waitPorts([PROXY.port], 60_000);
  const proxy = startProxy(spec, {
    repo,
    shared,
    dir: runDir,
    nodeOptions: spec.kind === 'junction' ? junctionNodeOptions : undefined,
  });
  if (!(await probe.ready(20_000))) {
    const tail = readFileSync(proxy.logFile, 'utf8').split('\n').slice(-15).join('\n');
    await stopProxy(proxy);
    throw new Error(`${spec.label} did not answer OPTIONS on ${PROXY.host}:${PROXY.port}:\n${tail}`);
  }
  log(`${spec.label}: up, pids ${proxy.pids().join(' ')} (log ${proxy.logFile})`);
  return proxy;
}

async function stopProxy(proxy: RunningProxy, quickly = false): Promise<void> {
  // Junction stops gracefully (transactions drain, a --cpu-prof profile is written): give it time,
  // unless it is only restarted after a failed step (and no profile is being written).
  const grace = proxy.spec.kind === 'junction' && (!quickly || cpuProfDir !== undefined) ? 15_000 : 3000;
  await stopTracked(proxy.tracked, grace);
}

async function measureProxy(spec: ProxySpec, probe: Probe): Promise<ProxyResult> {
  const res: ProxyResult = {
    spec,
    fixed: new Map(),
    maxCps: 0,
    firstFail: 0,
    rssMaxMb: 0,
    pssMaxMb: 0,
  };
  let proxy = await startAndWait(spec, probe);
  const sampler = new MemorySampler(() => proxy.pids(), spec.kind === 'kamailio');
  sampler.start(500);
  /**
   * A failed step leaves the proxy overloaded or damaged (Kamailio after shm exhaustion fails every
   * later step, down to 1,500 calls/s; the UAS keeps retransmitting 200 OKs of the calls SIPp
   * abandoned): each step after a failure starts from a fresh proxy and a fresh UAS, warmed up.
   */
  const run = async (rate: number, calls: number, name: string, abort: boolean): Promise<Step> => {
    const s = await step(proxy, probe, rate, calls, name, abort);
    if (!s.pass) {
      const t0 = performance.now();
      await stopProxy(proxy, true);
      await restartUas();
      proxy = await startAndWait(spec, probe);
      await step(proxy, probe, 500, WARMUP_CALLS, 'warmup', false);
      log(
        `      (restarted ${spec.label} and the UAS after the failure: ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
    return s;
  };
  try {
    await step(proxy, probe, 500, WARMUP_CALLS, 'warmup', false);
    for (const rate of [500, 2000])
      res.fixed.set(rate, await run(rate, fixedCalls(rate), `fixed${rate}`, false));

    // Max sustained rate: ladder + bisection, reusing the fixed-rate runs as rungs when long enough.
    const known = new Map<number, Step>();
    for (const [rate, s] of res.fixed)
      if (s.sipp.calls >= Math.max(MIN_STEP_CALLS, rate * STEP_SECONDS)) known.set(rate, s);
    const stepCalls = (r: number): number => Math.max(MIN_STEP_CALLS, r * STEP_SECONDS);
    let fail = Math.min(Infinity, ...[...known].filter(([, s]) => !s.pass).map(([r]) => r));
    let best = Math.max(0, ...[...known].filter(([r, s]) => s.pass && r < fail).map(([r]) => r));
    let bestStep = known.get(best);
    for (const r of LADDER) {
      if (r <= best || r >= fail) continue;
      const s = await run(r, stepCalls(r), `step${r}`, true);
      if (s.pass) {
        best = r;
        bestStep = s;
      } else {
        fail = r;
        break;
      }
    }
    if (Number.isFinite(fail)) {
      for (let i = 0; i < BISECT; i++) {
        const mid = Math.floor((best + fail) / 2 / 50) * 50;
        if (mid <= best) break;
        const s = await run(mid, stepCalls(mid), `step${mid}`, true);
        if (s.pass) {
          best = mid;
          bestStep = s;
        } else fail = mid;
      }
    }
    res.ladderMax = best;
    res.ladderFirstFail = Number.isFinite(fail) ? fail : 0;
    res.maxCps = best;
    res.firstFail = res.ladderFirstFail;
    res.maxStep = bestStep;
    if (SUSTAIN_SECONDS > 0 && best > 0) {
      let lo = 0;
      let hi = best;
      let r = best;
      let confirmed = 0;
      let confirmedStep: Step | undefined;
      for (let i = 0; i < SUSTAIN_TRIES && r > lo; i++) {
        const s = await run(r, r * SUSTAIN_SECONDS, `sustain${r}`, true);
        if (s.pass) {
          confirmed = r;
          confirmedStep = s;
          lo = r;
        } else hi = r;
        if (confirmed === best) break;
        r = Math.floor((lo + hi) / 2 / 50) * 50;
      }
      res.maxCps = confirmed;
      res.firstFail = hi > confirmed ? hi : res.ladderFirstFail;
      res.maxStep = confirmedStep;
    }
  } catch (err) {
    res.error = err instanceof Error ? err.message : String(err);
    log(`${spec.label}: ERROR ${res.error}`);
  } finally {
    sampler.sample();
    sampler.stop();
    res.rssMaxMb = sampler.maxRssKb / 1024;
    res.pssMaxMb = sampler.maxPssKb / 1024;
    await stopProxy(proxy);
  }
  return res;
}

// ------------------------------------------------------------------ soak

interface SoakResult {
  spec: ProxySpec;
  sipp: UacResult;
  cpuMsPerCall: number;
  samples: { t: number; rssKb: number; pssKb: number }[];
  firstMb: number;
  at50Mb: number;
  lastMb: number;
  maxMb: number;
  afterDrainMb: number;
}

async function soak(spec: ProxySpec, probe: Probe): Promise<SoakResult> {
  const proxy = await startAndWait(spec, probe);
  const multi = spec.kind === 'kamailio';
  const sampler = new MemorySampler(() => proxy.pids(), multi);
  try {
    log(
      `${spec.label}: soak ${soakCalls} calls at ${soakRate}/s (~${Math.ceil(soakCalls / soakRate)} s), memory every 2 s`,
    );
    const pids = proxy.pids();
    const cpu0 = cpuTicks(pids);
    sampler.start(2000);
    const printer = setInterval(() => {
      const s = sampler.samples[sampler.samples.length - 1];
      if (s !== undefined)
        log(
          `  t=${s.t.toFixed(0)}s ${multi ? 'PSS' : 'RSS'}=${((multi ? s.pssKb : s.rssKb) / 1024).toFixed(1)} MB`,
        );
    }, 10_000);
    const sipp = await runUac({
      paths,
      dir: join(runDir, spec.id, 'soak'),
      rate: soakRate,
      calls: soakCalls,
      uas: UAS,
      proxy: PROXY,
      uacPort: UAC_PORT,
      recvTimeoutMs: 8000,
    });
    clearInterval(printer);
    const cpu1 = cpuTicks(pids);
    sampler.sample();
    sampler.stop();
    const runSamples = [...sampler.samples];
    await sleep(10_000);
    const after = sampler.sample();
    const v = (s: { rssKb: number; pssKb: number }): number => (multi ? s.pssKb : s.rssKb) / 1024;
    return {
      spec,
      sipp,
      cpuMsPerCall: ticksToMs(cpu1 - cpu0) / Math.max(1, sipp.created),
      samples: runSamples,
      firstMb: v(runSamples[0]),
      at50Mb: v(runSamples[Math.floor(runSamples.length * 0.5)]),
      lastMb: v(runSamples[runSamples.length - 1]),
      maxMb: Math.max(...runSamples.map(v)),
      afterDrainMb: v(after),
    };
  } finally {
    sampler.stop();
    await stopProxy(proxy);
  }
}

// ------------------------------------------------------------------ report

function fmt(v: number | undefined, digits = 3): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}
const round = (v: number | undefined, digits = 3): number | null =>
  v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

function table(results: ProxyResult[]): void {
  const byId = new Map(results.map((r) => [r.spec.id, r]));
  const j = byId.get('junction');
  const kt = byId.get('kamailio-tuned');
  const cols = results.map((r) => r.spec.label);
  const rows: [string, (r: ProxyResult) => string, string][] = [];
  const cpu = (rate: number) => (r: ProxyResult) => fmt(cpuAt(r, rate));
  const cpuD = (rate: number) => (r: ProxyResult) => {
    const s = r.fixed.get(rate);
    return s === undefined ? '-' : fmt(msPerCallDrained(s));
  };
  const outcome = (rate: number) => (r: ProxyResult) => {
    const s = r.fixed.get(rate);
    return s === undefined
      ? '-'
      : `${s.sipp.ok}/${s.sipp.calls} ok, ${s.sipp.notOk} not-ok, ${s.sipp.retrans} rtx${s.pass ? '' : ' FAIL'}`;
  };
  const lat = (rate: number) => (r: ProxyResult) => {
    const s = r.fixed.get(rate);
    return s === undefined
      ? '-'
      : `${fmt(percentile(s.probe.setup, 0.5), 2)} / ${fmt(percentile(s.probe.setup, 0.99), 2)} / ${fmt(s.probe.setup[s.probe.setup.length - 1], 1)}`;
  };
  const rtd = (rate: number) => (r: ProxyResult) => {
    const s = r.fixed.get(rate);
    return s === undefined
      ? '-'
      : `${percentile(s.sipp.rtd, 0.5) ?? '-'} / ${percentile(s.sipp.rtd, 0.99) ?? '-'}`;
  };
  const rj = (f: (r: ProxyResult) => number | undefined): string =>
    j !== undefined && kt !== undefined ? `${fmt(ratio(f(j), f(kt)), 2)}x` : '';
  rows.push(['CPU ms/call @500/s', cpu(500), rj((r) => cpuAt(r, 500))]);
  rows.push(['  incl. settle after the run', cpuD(500), '']);
  rows.push(['CPU ms/call @2000/s', cpu(2000), rj((r) => cpuAt(r, 2000))]);
  rows.push(['  incl. settle after the run', cpuD(2000), '']);
  rows.push(['calls @500/s', outcome(500), '']);
  rows.push(['calls @2000/s', outcome(2000), '']);
  rows.push([
    SUSTAIN_SECONDS > 0
      ? `max calls/s held ${SUSTAIN_SECONDS} s (<0.1% fail)`
      : 'max sustained calls/s (<0.1% fail)',
    (r) => (r.error ? `error` : String(r.maxCps)),
    rj((r) => r.maxCps),
  ]);
  rows.push(['  first failing rate', (r) => (r.firstFail > 0 ? String(r.firstFail) : '-'), '']);
  if (SUSTAIN_SECONDS > 0) {
    rows.push([
      `max calls/s, ladder of ${STEP_SECONDS} s steps`,
      (r) => (r.ladderMax === undefined ? '-' : String(r.ladderMax)),
      rj((r) => r.ladderMax),
    ]);
    rows.push([
      '  first failing rate',
      (r) => (r.ladderFirstFail === undefined || r.ladderFirstFail === 0 ? '-' : String(r.ladderFirstFail)),
      '',
    ]);
  }
  rows.push(['  CPU ms/call at max', (r) => (r.maxStep === undefined ? '-' : fmt(msPerCall(r.maxStep))), '']);
  rows.push(['INVITE→200 p50/p99/max ms @500 (probe)', lat(500), rj((r) => p99(r, 500))]);
  rows.push(['INVITE→200 p50/p99/max ms @2000 (probe)', lat(2000), '']);
  rows.push(['SIPp rtd p50/p99 ms @500 (4 ms ticks)', rtd(500), '']);
  rows.push(['SIPp rtd p50/p99 ms @2000 (4 ms ticks)', rtd(2000), '']);
  rows.push(['RSS max MB (sum over processes)', (r) => fmt(r.rssMaxMb, 1), '']);
  rows.push(['PSS max MB (sum over processes)', (r) => fmt(r.pssMaxMb, 1), rj((r) => r.pssMaxMb)]);
  const w0 = Math.max(...rows.map((r) => r[0].length)) + 2;
  const cells = rows.map(([, f]) => results.map((r) => f(r)));
  const ws = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)) + 2);
  const line = (a: string, bs: string[], c: string): string =>
    a.padEnd(w0) + bs.map((b, i) => b.padStart(ws[i])).join('') + (c === '' ? '' : `  ${c}`);
  log('');
  log(line('', cols, j !== undefined && kt !== undefined ? 'Junction/Kamailio-tuned' : ''));
  rows.forEach(([name, , r], i) => {
    log(line(name, cells[i], r));
  });
}

function cpuAt(r: ProxyResult | undefined, rate: number): number | undefined {
  const s = r?.fixed.get(rate);
  return s === undefined ? undefined : msPerCall(s);
}
function p99(r: ProxyResult | undefined, rate: number): number | undefined {
  const s = r?.fixed.get(rate);
  return s === undefined ? undefined : percentile(s.probe.setup, 0.99);
}
function p50(r: ProxyResult | undefined, rate: number): number | undefined {
  const s = r?.fixed.get(rate);
  return s === undefined ? undefined : percentile(s.probe.setup, 0.5);
}

function summary(results: ProxyResult[]): Record<string, unknown> {
  const by = new Map(results.map((r) => [r.spec.id, r]));
  const j = by.get('junction');
  const kt = by.get('kamailio-tuned');
  const ks = by.get('kamailio-shipped');
  const max = (r: ProxyResult | undefined): number | undefined =>
    r === undefined || r.error ? undefined : r.maxCps;
  const out: Record<string, unknown> = {
    cpu_ms_per_call: round(cpuAt(j, 500)),
    max_cps: round(max(j), 0),
    p99_ms: round(p99(j, 500)),
    rss_mb: round(j?.rssMaxMb, 1),
    kamailio_cpu_ms_per_call: round(cpuAt(kt, 500)),
    kamailio_max_cps: round(max(kt), 0),
    cpu_ratio_vs_kamailio: round(ratio(cpuAt(j, 500), cpuAt(kt, 500))),
    cps_ratio_vs_kamailio: round(ratio(max(j), max(kt))),
    max_cps_ladder: round(j?.ladderMax, 0),
    kamailio_max_cps_ladder: round(kt?.ladderMax, 0),
    sustain_seconds: SUSTAIN_SECONDS,
    cpu_ms_per_call_2000: round(cpuAt(j, 2000)),
    kamailio_cpu_ms_per_call_2000: round(cpuAt(kt, 2000)),
    cpu_ratio_vs_kamailio_2000: round(ratio(cpuAt(j, 2000), cpuAt(kt, 2000))),
    p50_ms: round(p50(j, 500)),
    p99_ms_2000: round(p99(j, 2000)),
    kamailio_p50_ms: round(p50(kt, 500)),
    kamailio_p99_ms: round(p99(kt, 500)),
    kamailio_p99_ms_2000: round(p99(kt, 2000)),
    kamailio_pss_mb: round(kt?.pssMaxMb, 1),
    kamailio_shipped_cpu_ms_per_call: round(cpuAt(ks, 500)),
    kamailio_shipped_cpu_ms_per_call_2000: round(cpuAt(ks, 2000)),
    kamailio_shipped_max_cps: round(max(ks), 0),
    kamailio_shipped_max_cps_ladder: round(ks?.ladderMax, 0),
    kamailio_shipped_p99_ms: round(p99(ks, 500)),
    kamailio_shipped_pss_mb: round(ks?.pssMaxMb, 1),
    cpu_ratio_vs_kamailio_shipped: round(ratio(cpuAt(j, 500), cpuAt(ks, 500))),
    cps_ratio_vs_kamailio_shipped: round(ratio(max(j), max(ks))),
    quick,
  };
  const jd = by.get('junction-dlg');
  const ktd = by.get('kamailio-tuned-dlg');
  if (jd !== undefined || ktd !== undefined) {
    Object.assign(out, {
      dialog_cpu_ms_per_call: round(cpuAt(jd, 500)),
      dialog_max_cps: round(max(jd), 0),
      dialog_cpu_ratio_vs_plain: round(ratio(cpuAt(jd, 500), cpuAt(j, 500))),
      kamailio_dialog_cpu_ms_per_call: round(cpuAt(ktd, 500)),
      kamailio_dialog_max_cps: round(max(ktd), 0),
      kamailio_dialog_cpu_ratio_vs_plain: round(ratio(cpuAt(ktd, 500), cpuAt(kt, 500))),
      dialog_cpu_ratio_vs_kamailio_dialog: round(ratio(cpuAt(jd, 500), cpuAt(ktd, 500))),
    });
  }
  return out;
}

// ------------------------------------------------------------------ main

/**
 * A fresh SIPp UAS per proxy: calls a previous proxy left unfinished (aborted ladder steps) wait
 * in the UAS for a BYE that never comes; they must not weigh on the next proxy's figures.
 */
let uasNow: { tracked: Tracked; spec: ProxySpec; n: number } | undefined;

async function startUasFor(spec: ProxySpec, n: number): Promise<void> {
  await waitPorts([UAS.port], 60_000);
  const dir = join(runDir, `uas-${spec.id}${n > 1 ? `-${n}` : ''}`);
  const tracked = startUas({ paths, dir, port: UAS.port, maxSeconds: maxMinutes * 60 + 60 });
  uasNow = { tracked, spec, n };
  await sleep(500);
  if (tracked.child.exitCode !== null) throw new Error(`SIPp UAS exited at once (see ${dir})`);
}

async function restartUas(): Promise<void> {
  if (uasNow === undefined) return;
  const { tracked, spec, n } = uasNow;
  await stopTracked(tracked, 3000);
  await startUasFor(spec, n + 1);
}

/**
 * A fresh SIPp UAS per proxy: calls a previous proxy left unfinished (aborted ladder steps) wait
 * in the UAS for a BYE that never comes; they must not weigh on the next proxy's figures.
 */
async function withUas<T>(spec: ProxySpec, fn: () => Promise<T>): Promise<T> {
  try {
    await startUasFor(spec, 1);
    return await fn();
  } finally {
    if (uasNow !== undefined) await stopTracked(uasNow.tracked, 3000);
    uasNow = undefined;
  }
}

async function main(): Promise<void> {
  install();
  log(
    `bench:proxy  run dir ${runDir}  (${quick ? 'quick' : 'full'}; proxies: ${specs.map((s) => s.id).join(', ')})`,
  );
  await waitPorts([UAS.port, UAC_PORT, PROBE_UAC_PORT, PROBE_UAS_PORT], 60_000);
  const probe = new Probe({ proxy: PROXY, uacPort: PROBE_UAC_PORT, uasPort: PROBE_UAS_PORT });
  await probe.bind();
  if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true });

  if (soakCalls > 0) {
    const out: Record<string, unknown> = { soak_calls: soakCalls, soak_rate: soakRate };
    for (const spec of specs) {
      const r = await withUas(spec, () => soak(spec, probe));
      const pfx = spec.id === 'junction' ? '' : `${spec.id.replaceAll('-', '_')}_`;
      const kind = spec.kind === 'junction' ? 'RSS' : 'PSS';
      log(
        `${spec.label}: soak ${r.sipp.ok}/${r.sipp.calls} ok, ${r.sipp.notOk} not-ok, ${r.sipp.retrans} rtx, ` +
          `${r.sipp.cps.toFixed(0)} calls/s, CPU ${r.cpuMsPerCall.toFixed(3)} ms/call`,
      );
      log(
        `${spec.label}: ${kind} MB first ${r.firstMb.toFixed(1)}  at 50% ${r.at50Mb.toFixed(1)}  last ${r.lastMb.toFixed(1)}  ` +
          `max ${r.maxMb.toFixed(1)}  10 s after ${r.afterDrainMb.toFixed(1)}  (growth over the second half ${(r.lastMb - r.at50Mb).toFixed(1)} MB)`,
      );
      Object.assign(out, {
        [`${pfx}soak_ok`]: r.sipp.ok,
        [`${pfx}soak_not_ok`]: r.sipp.notOk,
        [`${pfx}soak_cpu_ms_per_call`]: round(r.cpuMsPerCall),
        [`${pfx}rss_first_mb`]: round(r.firstMb, 1),
        [`${pfx}rss_at50_mb`]: round(r.at50Mb, 1),
        [`${pfx}rss_last_mb`]: round(r.lastMb, 1),
        [`${pfx}rss_max_mb`]: round(r.maxMb, 1),
        [`${pfx}rss_after_drain_mb`]: round(r.afterDrainMb, 1),
        [`${pfx}rss_growth_mb`]: round(r.lastMb - r.at50Mb, 1),
      });
    }
    probe.close();
    await cleanup();
    log(JSON.stringify(out));
    return;
  }

  const results: ProxyResult[] = [];
  for (const spec of specs) {
    try {
      results.push(await withUas(spec, () => measureProxy(spec, probe)));
    } catch (err) {
      // One proxy that does not start must not cost the others' figures.
      const error = err instanceof Error ? err.message : String(err);
      log(`${spec.label}: ERROR ${error}`);
      results.push({ spec, fixed: new Map(), maxCps: 0, firstFail: 0, rssMaxMb: 0, pssMaxMb: 0, error });
    }
  }
  probe.close();
  await cleanup();
  table(results);
  log('');
  log(
    'CPU = utime+stime of all proxy processes during the SIPp run / calls (SIPp + probe); probe = 50 calls/s timed in µs; ' +
      `max = highest rate passing not-ok<0.1%, rtx≤0.5%, rate≥95% (ladder of ${STEP_SECONDS} s steps` +
      (SUSTAIN_SECONDS > 0 ? `, then held for ${SUSTAIN_SECONDS} s).` : ').'),
  );
  log(`raw SIPp output: ${runDir}`);
  log(JSON.stringify(summary(results)));
}

main()
  .then(() => {
    clearTimeout(deadline);
    process.exit(0);
  })
  .catch(async (err: unknown) => {
    await die(1, err instanceof Error ? (err.stack ?? err.message) : String(err));
  });
