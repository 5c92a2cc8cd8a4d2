/**
 * SIPp, driven the way ../shared/bench/run-calls.sh and uas.sh drive it (same scenarios, same
 * arguments), from TypeScript so the benchmark controls timing, early aborts and cleanup.
 *
 * UAS: scenarios/uas.xml (the built-in uas + Record-Route echoed) on UAS_PORT.
 * UAC: scenarios/uac-rr.xml from UAC_PORT; remote host = the UAS (so the R-URI names the UAS) and
 *      `-rsa` sends every packet to the proxy. `-default_behaviors all,-abortunexp` as in the
 *      shared scripts. not_ok = calls − successful + unexpected error responses/requests (the
 *      "Continuing call on unexpected message" events that are not 1xx/2xx), as run-calls.sh.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTracked, stopTracked, type Tracked } from './procs.ts';

export interface SippPaths {
  /** ../shared/bench */
  shared: string;
}

/** `ulimit -n` as high as allowed, then exec SIPp (the PID stays SIPp's). */
function sippArgs(args: string[]): [string, string[]] {
  return [
    'sh',
    ['-c', 'ulimit -n 100000 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec sipp "$@"', 'sipp', ...args],
  ];
}

export function startUas(opts: { paths: SippPaths; dir: string; port: number; maxSeconds: number }): Tracked {
  mkdirSync(opts.dir, { recursive: true });
  const [cmd, args] = sippArgs([
    '-sf',
    join(opts.paths.shared, 'scenarios/uas.xml'),
    '-i',
    '127.0.0.1',
    '-p',
    String(opts.port),
    '-t',
    'u1',
    '-nostdin',
    '-timeout',
    `${opts.maxSeconds}s`,
    '-default_behaviors',
    'all,-abortunexp',
    '-buff_size',
    '4194304',
    '-trace_err',
    '-error_file',
    join(opts.dir, 'uas_errors.log'),
  ]);
  return startTracked('sipp-uas', cmd, args, { cwd: opts.dir, stdio: 'ignore', watchdog: true });
}

export interface UacResult {
  rate: number;
  calls: number;
  created: number;
  ok: number;
  failed: number;
  notOk: number;
  retrans: number;
  /** SIPp's cumulative call rate. */
  cps: number;
  unexpected1xx: number;
  unexpected2xx: number;
  unexpectedErr: number;
  /** SIPp's INVITE→200 response times (ms, SIPp's clock resolution), sorted. */
  rtd: number[];
  rc: number | string;
  /** Stopped early because the step had already failed. */
  aborted: boolean;
  /** SIPp could not bind its UDP port (another program holds it): nothing was measured. */
  bindFailed: boolean;
  wallMs: number;
  dir: string;
}

function parseStat(file: string): Record<string, string> | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'latin1')
    .split('\n')
    .filter((l) => l.length > 0);
  if (lines.length < 2) return undefined;
  const h = lines[0].split(';');
  const v = lines[lines.length - 1].split(';');
  const out: Record<string, string> = {};
  h.forEach((k, i) => {
    out[k] = v[i] ?? '';
  });
  return out;
}

const num = (s: string | undefined): number => {
  const n = Number(s);
  return Number.isFinite(n) ? n : 0;
};

export interface UacOptions {
  paths: SippPaths;
  dir: string;
  rate: number;
  calls: number;
  uas: { host: string; port: number };
  proxy: { host: string; port: number };
  uacPort: number;
  /** SIPp -recv_timeout: a call waiting longer for its next message fails. */
  recvTimeoutMs: number;
  /**
   * Stop as soon as the cumulative counters prove the step failed (failed calls ≥ failMax × calls,
   * or retransmissions > retransMax × calls). For ladder steps, not for measured fixed-rate runs.
   */
  abortOn?: { failMax: number; retransMax: number };
}

export async function runUac(o: UacOptions): Promise<UacResult> {
  mkdirSync(o.dir, { recursive: true });
  const expectedS = Math.ceil(o.calls / o.rate);
  const sippTimeoutS = expectedS * 2 + 20;
  const limit = Math.min(15000, Math.max(2000, o.rate * 5));
  const [cmd, args] = sippArgs([
    '-sf',
    join(o.paths.shared, 'scenarios/uac-rr.xml'),
    `${o.uas.host}:${o.uas.port}`,
    '-rsa',
    `${o.proxy.host}:${o.proxy.port}`,
    '-i',
    '127.0.0.1',
    '-p',
    String(o.uacPort),
    '-t',
    'u1',
    '-r',
    String(o.rate),
    '-rp',
    '1000',
    '-m',
    String(o.calls),
    '-l',
    String(limit),
    '-nostdin',
    '-timeout',
    `${sippTimeoutS}s`,
    '-timeout_error',
    '-recv_timeout',
    String(o.recvTimeoutMs),
    '-default_behaviors',
    'all,-abortunexp',
    '-buff_size',
    '4194304',
    '-trace_stat',
    '-stf',
    'stat.csv',
    '-fd',
    '1',
    '-trace_rtt',
    '-rtt_freq',
    '1',
    '-trace_err',
  ]);
  const t0 = performance.now();
  const sipp = startTracked('sipp-uac', cmd, args, { cwd: o.dir, stdio: 'ignore' });
  let aborted = false;
  const hardTimer = setTimeout(() => void stopTracked(sipp, 2000), (sippTimeoutS + 10) * 1000);
  let monitor: NodeJS.Timeout | undefined;
  if (o.abortOn !== undefined) {
    const { failMax, retransMax } = o.abortOn;
    monitor = setInterval(() => {
      const s = parseStat(join(o.dir, 'stat.csv'));
      if (s === undefined) return;
      if (
        num(s['FailedCall(C)']) >= Math.max(1, failMax * o.calls) ||
        num(s['Retransmissions(C)']) > retransMax * o.calls
      ) {
        aborted = true;
        void stopTracked(sipp, 2000);
      }
    }, 1000);
  }
  const rc = await sipp.exited;
  clearTimeout(hardTimer);
  if (monitor !== undefined) clearInterval(monitor);
  const wallMs = performance.now() - t0;

  const s = parseStat(join(o.dir, 'stat.csv')) ?? {};
  const created = num(s['OutgoingCall(C)']);
  const ok = num(s['SuccessfulCall(C)']);
  let u1 = 0;
  let u2 = 0;
  let uerr = 0;
  let rtd: number[] = [];
  let bindFailed = false;
  for (const f of readdirSync(o.dir)) {
    if (f.endsWith('_errors.log')) {
      const re = /on unexpected message.*?received '(?:SIP\/2\.0 (\d{3})|([A-Z]+))/g;
      const text = readFileSync(join(o.dir, f), 'latin1');
      if (created === 0 && text.includes('Unable to bind')) bindFailed = true;
      for (const m of text.matchAll(re)) {
        if (m[1]?.startsWith('1')) u1++;
        else if (m[1]?.startsWith('2')) u2++;
        else uerr++;
      }
    } else if (f.endsWith('_rtt.csv')) {
      rtd = readFileSync(join(o.dir, f), 'latin1')
        .split('\n')
        .slice(1)
        .map((l) => l.split(';'))
        .filter((c) => c[2] === '1')
        .map((c) => Number(c[1]))
        .sort((a, b) => a - b);
    }
  }
  return {
    rate: o.rate,
    calls: o.calls,
    created,
    ok,
    failed: num(s['FailedCall(C)']),
    notOk: o.calls - ok + uerr,
    retrans: num(s['Retransmissions(C)']),
    cps: num(s['CallRate(C)']),
    unexpected1xx: u1,
    unexpected2xx: u2,
    unexpectedErr: uerr,
    rtd,
    rc,
    aborted,
    bindFailed,
    wallMs,
    dir: o.dir,
  };
}

/** find-max.sh's pass rule for one step: not-ok < 0.1 % of calls, retransmissions ≤ 0.5 %, ≥ 95 % of the rate. */
export const FAIL_MAX = 0.001;
export const RETRANS_MAX = 0.005;

export function stepPasses(sipp: UacResult, rate: number): boolean {
  return (
    !sipp.aborted &&
    sipp.created > 0 &&
    sipp.notOk / sipp.calls < FAIL_MAX &&
    sipp.retrans / sipp.calls <= RETRANS_MAX &&
    sipp.cps >= 0.95 * rate
  );
}

/** The addresses every SIP benchmark uses (those of ../shared/bench's scripts and Kamailio configs). */
export const BENCH_ADDR = {
  proxy: { host: '127.0.0.1', port: 5060 },
  uas: { host: '127.0.0.1', port: 5080 },
  uacPort: 5070,
  probeUacPort: 5072,
  probeUasPort: 5082,
} as const;
