/**
 * `npm run bench:exec` — one `exec_avp` of a trivial shell script per INVITE, through Junction and
 * through Kamailio 5.6 in the same run: SIPp UAC → proxy → SIPp UAS on loopback UDP, one proxy at a
 * time on 127.0.0.1:5060. The script is the shared bench's exec-hook.sh (prints the next hop, used
 * as $du); Kamailio runs ../shared/bench/kamailio/stateful-exec.cfg, Junction
 * bench/fixtures/exec-route.ts (the same logic).
 *
 * Proxies: Junction with the pre-forked spawner (the default), Junction with Node's own spawn (to
 * show what the spawner saves), Kamailio tuned (`-x fm -m 1024`) and as shipped (`-m 256`).
 *
 * CPU per call, including the forked programs: utime+stime+cutime+cstime (/proc/PID/stat) of the
 * proxy's long-lived processes — Kamailio's main and worker processes (its workers popen() the
 * shell and reap it: cutime), Junction's node process and its spawner process (which reaps the
 * shells; the spawner's own CPU is utime+stime). The PIDs are taken after the warm-up, when no
 * transient child runs, so a child is counted once: in its reaper's cutime. Divided by the calls
 * SIPp placed. Also "own": utime+stime only (what a proxy spends itself). Fixed rate 500 calls/s
 * (--quick: 4 s, else 10 s).
 * Max sustained calls/s: find-max.sh's pass rule (not-ok < 0.1 %, retransmissions ≤ 0.5 %,
 * achieved ≥ 95 % of the target), ladder 250 … 3000 of 6 s steps (--quick: 3 s), stop at the first
 * failure, one bisection rounded to 50.
 *
 * Options: --quick, --only junction|kamailio|all, --max-minutes M. Last line: one JSON object.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  FAIL_MAX,
  guard,
  PROBE_UAC_PORT,
  PROBE_UAS_PORT,
  PROXY,
  passes,
  RETRANS_MAX,
  UAC_PORT,
  UAS,
  waitPorts,
} from './sipbench/ports.ts';
import { Probe } from './sipbench/probe.ts';
import { cpuTicks, cpuTicksWithChildren, stopTracked, type Tracked, ticksToMs } from './sipbench/procs.ts';
import { type ProxySpec, type RunningProxy, startProxy } from './sipbench/proxies.ts';
import { runUac, startUas, type UacResult } from './sipbench/sipp.ts';

const LADDER = [250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000];
const FIXED_RATE = 500;
const PORT_WAIT_MS = 15 * 60_000;

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: 'all' },
    'max-minutes': { type: 'string', default: '20' },
  },
  strict: true,
});
const quick = opts.quick === true;
const only = opts.only ?? 'all';
const FIXED_SECONDS = quick ? 4 : 10;
const STEP_SECONDS = quick ? 3 : 6;
const SETTLE_MS = quick ? 2000 : 4000;
const maxMinutes = Number(opts['max-minutes']);

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(repo, '../shared/bench');
const paths = { shared };
const hook = join(shared, 'kamailio/exec-hook.sh');
const runDir = mkdtempSync('/tmp/junction-bench-exec-');
const script = join(repo, 'bench/fixtures/exec-route.ts');

const SPECS: ProxySpec[] = [
  {
    id: 'junction',
    label: 'Junction (spawner)',
    kind: 'junction',
    script,
    yaml: 'modules: { exec: { spawner: 1 } }',
  },
  {
    id: 'junction-spawn',
    label: 'Junction (node spawn)',
    kind: 'junction',
    script,
    yaml: 'modules: { exec: { spawner: 0 } }',
  },
  {
    id: 'kamailio-tuned',
    label: 'Kamailio tuned',
    kind: 'kamailio',
    cfg: 'stateful-exec.cfg',
    defines: [`EXECHOOK="${hook}"`],
    shmMb: 1024,
    memmgr: 'fm',
  },
  {
    id: 'kamailio-shipped',
    label: 'Kamailio shipped',
    kind: 'kamailio',
    cfg: 'stateful-exec.cfg',
    defines: [`EXECHOOK="${hook}"`],
    shmMb: 256,
  },
];
const specs = SPECS.filter((s) => only === 'all' || s.kind === only);

const log = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;

const { cleanup, die, done } = guard('bench:exec', maxMinutes);

interface Run {
  rate: number;
  sipp: UacResult;
  /** CPU ms per call: the proxy's own, and including the programs it forked. */
  ownMs: number;
  totalMs: number;
  pass: boolean;
}

interface Result {
  spec: ProxySpec;
  fixed?: Run;
  maxCps: number;
  firstFail: number;
  error?: string;
}

/** The proxy's long-lived processes (taken when no forked program runs). */
function longLived(proxy: RunningProxy): number[] {
  return proxy.pids();
}

async function run(
  proxy: RunningProxy,
  rate: number,
  calls: number,
  name: string,
  abort: boolean,
): Promise<Run> {
  const pids = longLived(proxy);
  const own0 = cpuTicks(pids);
  const all0 = cpuTicksWithChildren(pids);
  const sipp = await runUac({
    paths,
    dir: join(runDir, proxy.spec.id, name),
    rate,
    calls,
    uas: UAS,
    proxy: PROXY,
    uacPort: UAC_PORT,
    recvTimeoutMs: 8000,
    abortOn: abort ? { failMax: FAIL_MAX, retransMax: RETRANS_MAX } : undefined,
  });
  await sleep(300);
  const n = Math.max(1, sipp.created);
  const r: Run = {
    rate,
    sipp,
    ownMs: ticksToMs(cpuTicks(pids) - own0) / n,
    totalMs: ticksToMs(cpuTicksWithChildren(pids) - all0) / n,
    pass: passes(sipp, rate),
  };
  const q = (p: number): number | undefined =>
    sipp.rtd[Math.min(sipp.rtd.length - 1, Math.floor(p * sipp.rtd.length))];
  log(
    `  ${proxy.spec.id.padEnd(17)} ${name.padEnd(9)} rate=${rate} calls=${sipp.created}/${calls} ok=${sipp.ok} ` +
      `not_ok=${sipp.notOk} retrans=${sipp.retrans} cps=${sipp.cps.toFixed(0)}${sipp.aborted ? ' ABORTED' : ''} ` +
      `cpu own=${r.ownMs.toFixed(3)} incl.children=${r.totalMs.toFixed(3)} ms/call rtd p50/p99=${q(0.5)}/${q(0.99)} ms ` +
      `pids=${pids.length} -> ${r.pass ? 'PASS' : 'FAIL'}`,
  );
  await sleep(SETTLE_MS);
  return r;
}

async function measure(spec: ProxySpec, probe: Probe): Promise<Result> {
  const res: Result = { spec, maxCps: 0, firstFail: 0 };
  const start = async (): Promise<RunningProxy> => {
    let proxy: RunningProxy;
    for (let attempt = 1; ; attempt++) {
      await waitPorts([PROXY.port], PORT_WAIT_MS, log);
      proxy = startProxy(spec, { repo, shared, dir: runDir });
      if (await probe.ready(20_000)) break;
      const tail = readFileSync(proxy.logFile, 'utf8').split('\n').slice(-15).join('\n');
      await stopTracked(proxy.tracked, 3000);
      // The machine is shared: another program may take the port between the check and the bind.
      if (!tail.includes('EADDRINUSE') || attempt === 5)
        throw new Error(`${spec.label} did not answer OPTIONS:\n${tail}`);
      log(`${spec.label}: port 5060 taken meanwhile; waiting, then starting again`);
    }
    // Warm-up: JIT, the spawner process, Kamailio's workers.
    await run(proxy, FIXED_RATE, quick ? 500 : 1000, 'warmup', false);
    log(`${spec.label}: up, long-lived pids ${longLived(proxy).join(' ')}`);
    return proxy;
  };
  let proxy = await start();
  try {
    res.fixed = await run(proxy, FIXED_RATE, FIXED_RATE * FIXED_SECONDS, `fixed${FIXED_RATE}`, false);
    // Node's own spawn is measured for its cost only (the comparison is with the spawner).
    if (spec.id === 'junction-spawn') return res;
    let best = res.fixed.pass ? FIXED_RATE : 0;
    let fail = res.fixed.pass ? Infinity : FIXED_RATE;
    const stepCalls = (r: number): number => Math.max(1000, r * STEP_SECONDS);
    const tryRate = async (r: number): Promise<boolean> => {
      const s = await run(proxy, r, stepCalls(r), `step${r}`, true);
      if (!s.pass) {
        // A failed step leaves the proxy loaded: the next one starts from a fresh proxy.
        await stopTracked(proxy.tracked, 5000);
        await restartUas();
        proxy = await start();
      }
      return s.pass;
    };
    for (const r of LADDER) {
      if (r <= best || r >= fail) continue;
      if (await tryRate(r)) best = r;
      else {
        fail = r;
        break;
      }
    }
    if (Number.isFinite(fail)) {
      const mid = Math.floor((best + fail) / 2 / 50) * 50;
      if (mid > best) {
        if (await tryRate(mid)) best = mid;
        else fail = mid;
      }
    }
    res.maxCps = best;
    res.firstFail = Number.isFinite(fail) ? fail : 0;
  } finally {
    await stopTracked(proxy.tracked, 10_000);
  }
  return res;
}

let uas: Tracked | undefined;
let uasN = 0;
async function restartUas(): Promise<void> {
  if (uas !== undefined) await stopTracked(uas, 3000);
  uasN++;
  await waitPorts([UAS.port], PORT_WAIT_MS, log);
  uas = startUas({
    paths,
    dir: join(runDir, `uas-${uasN}`),
    port: UAS.port,
    maxSeconds: maxMinutes * 60 + 60,
  });
  await sleep(500);
}

async function main(): Promise<void> {
  execFileSync(join(repo, 'scripts/ensure-debian.sh'), ['sip-tester', 'kamailio'], { stdio: 'inherit' });
  process.env.JUNCTION_EXEC_HOOK = hook;
  log(`bench:exec  run dir ${runDir}  (${quick ? 'quick' : 'full'}; ${specs.map((s) => s.id).join(', ')})`);
  log(`hook: ${hook} (exec_avp "<hook> '$ru'" → $du) on every INVITE`);
  // The machine is shared: another bench may hold the ports; wait for it rather than disturb it.
  await waitPorts([PROXY.port, UAS.port, UAC_PORT, PROBE_UAC_PORT, PROBE_UAS_PORT], PORT_WAIT_MS, log);
  const probe = new Probe({ proxy: PROXY, uacPort: PROBE_UAC_PORT, uasPort: PROBE_UAS_PORT });
  await probe.bind();
  const results: Result[] = [];
  for (const spec of specs) {
    try {
      await restartUas();
      results.push(await measure(spec, probe));
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      log(`${spec.label}: ERROR ${error}`);
      results.push({ spec, maxCps: 0, firstFail: 0, error });
    }
  }
  if (uas !== undefined) await stopTracked(uas, 3000);
  probe.close();
  await cleanup();

  log('');
  log(
    '| proxy | CPU ms/call incl. children @500/s | own CPU ms/call | rtd p50/p99 ms | max calls/s (first fail) |',
  );
  log('| --- | --- | --- | --- | --- |');
  for (const r of results) {
    const f = r.fixed;
    const rtd = f?.sipp.rtd ?? [];
    const q = (p: number): string => String(rtd[Math.min(rtd.length - 1, Math.floor(p * rtd.length))] ?? '-');
    log(
      `| ${r.spec.label} | ${f === undefined ? 'error' : f.totalMs.toFixed(3)} | ${f === undefined ? '-' : f.ownMs.toFixed(3)} | ` +
        `${q(0.5)}/${q(0.99)} | ${r.spec.id === 'junction-spawn' ? 'not measured' : `${r.maxCps} (${r.firstFail || '-'})`} |`,
    );
  }
  const by = (id: string): Result | undefined => results.find((r) => r.spec.id === id);
  const j = by('junction');
  const kams = [by('kamailio-tuned'), by('kamailio-shipped')].filter(
    (r) => r?.fixed !== undefined,
  ) as Result[];
  const bestKamCpu = Math.min(...kams.map((r) => r.fixed!.totalMs));
  const bestKamCps = Math.max(0, ...kams.map((r) => r.maxCps));
  const out: Record<string, unknown> = { bench: 'exec', quick, fixed_rate: FIXED_RATE };
  for (const r of results) {
    const k = r.spec.id.replaceAll('-', '_');
    out[`${k}_cpu_ms_per_call`] = r.fixed === undefined ? null : round(r.fixed.totalMs);
    out[`${k}_own_cpu_ms_per_call`] = r.fixed === undefined ? null : round(r.fixed.ownMs);
    out[`${k}_fixed_ok`] = r.fixed?.sipp.ok ?? null;
    out[`${k}_fixed_not_ok`] = r.fixed?.sipp.notOk ?? null;
    out[`${k}_max_cps`] = r.spec.id === 'junction-spawn' ? null : r.maxCps;
    if (r.error !== undefined) out[`${k}_error`] = r.error.slice(0, 200);
  }
  if (j?.fixed !== undefined && kams.length > 0) {
    out.cpu_ratio_vs_best_kamailio = round(j.fixed.totalMs / bestKamCpu);
    out.max_cps_ratio_vs_best_kamailio = bestKamCps > 0 ? round(j.maxCps / bestKamCps) : null;
    out.targets_met = j.fixed.totalMs <= bestKamCpu && j.maxCps >= bestKamCps;
  }
  log('');
  log(
    'CPU = utime+stime+cutime+cstime of the proxy’s long-lived processes (Junction: node + spawner; Kamailio: all its processes) / SIPp calls; ' +
      `max = highest rate passing not-ok<0.1%, rtx≤0.5%, rate≥95% (${STEP_SECONDS} s steps). The machine is shared: absolute figures are depressed, compare ratios.`,
  );
  log(`raw SIPp output: ${runDir}`);
  log(JSON.stringify(out));
}

main()
  .then(() => {
    done();
    process.exit(0);
  })
  .catch(async (err: unknown) => {
    await die(1, err instanceof Error ? (err.stack ?? err.message) : String(err));
  });
