/**
 * `npm run bench:hook` — the M4 external call-routing hook: what it adds to a call, side by side
 * with Kamailio's ../shared/bench/kamailio/stateful-http-hook.cfg (http_client to a local hook,
 * ../shared/bench/hook-server.js), as shipped (`-m 256`) and tuned (`-x fm -m 1024`).
 *
 * SIPp UAC (uac-rr.xml, 127.0.0.1:5070) → proxy 127.0.0.1:5060 → SIPp A.uas 127.0.0.1:5080, plus the
 * in-process latency probe (5072 → 5082) timing INVITE→200 (bench/sipbench/probe.ts). Junction
 * runs routes/default.ts with two connection points (SIPp's port → TP 5080, the probe's → TP
 * 5082), so every call goes through the whole flow: connection point, hook, termination point,
 * From/To replacement. Variants:
 *   junction-plain        routes/default.ts without connection points (plain relay, for reference)
 *   junction-nohook       the flow without an external script (the baseline)
 *   junction-http         external_script: http://127.0.0.1:8833 (hook-server.js, keep-alive pool)
 *   junction-spawn        a local program per call (bench/fixtures/m4_hook.sh), at a lower rate
 *   junction-persistent   one persistent program (examples/m4/persistent_hook.mjs)
 *   kamailio-nohook       stateful.cfg, tuned (Kamailio's own baseline)
 *   kamailio-http-*       stateful-http-hook.cfg, shipped and tuned
 * Per variant: CPU ms per call of the proxy (all its processes; Junction: the node process, plus
 * reaped children for spawn) and of the hook (hook server / persistent program), INVITE→200
 * p50/p99 from the probe, at a fixed rate. Added latency = variant − its proxy's no-hook baseline.
 * Max sustained calls/s (find-max rule: < 0.1 % not-ok, ≤ 0.5 % retransmissions, ≥ 95 % of the
 * rate) on a short ladder for junction-http and both Kamailio http variants. Hook layer alone:
 * calls/s of HttpHook and PersistentHook in this process (many in flight).
 *
 * Options: --quick, --rate N (fixed rate, default 500), --seconds N, --only junction|kamailio|all|ID,ID…,
 *   --no-ladder, --max-minutes M, --cpu-prof DIR (Junction runs with node --cpu-prof), --port-offset N
 *   (every port + N, the hook server's too). The last line printed is one JSON object.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeRequest } from '../src/modules/extscript/contract.ts';
import { HttpHook } from '../src/modules/extscript/http_hook.ts';
import type { HookOutcome } from '../src/modules/extscript/outcome.ts';
import { PersistentHook } from '../src/modules/extscript/persistent_hook.ts';
import { spawnHook } from '../src/modules/extscript/spawn_hook.ts';
import { ProcessRunner } from '../src/process/run.ts';
import {
  FAIL_MAX,
  PROBE_UAC_PORT,
  PROBE_UAS_PORT,
  PROXY,
  passes,
  RETRANS_MAX,
  UAC_PORT,
  UAS,
  waitPorts as waitPortsShared,
} from './sipbench/ports.ts';
import { Probe, percentile } from './sipbench/probe.ts';
import {
  cpuTicks,
  cpuTicksWithChildren,
  descendants,
  killAllSync,
  startTracked,
  stopAll,
  stopTracked,
  type Tracked,
  ticksToMs,
} from './sipbench/procs.ts';
import { kamailioCfg, type ProxySpec, type RunningProxy, startProxy } from './sipbench/proxies.ts';
import { runUac, startUas, type UacResult } from './sipbench/sipp.ts';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    only: { type: 'string' },
    'no-ladder': { type: 'boolean', default: false },
    'max-minutes': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'port-offset': { type: 'string' },
  },
  strict: true,
});
/** --port-offset N: every port + N (the machine is shared; another benchmark may hold 5060 …). */
const portOffset = Number(opts['port-offset'] ?? 0);
if (!Number.isInteger(portOffset) || portOffset < 0) {
  console.error(`--port-offset: expected an integer ≥ 0, got ${JSON.stringify(opts['port-offset'])}`);
  process.exit(2);
}
const A = {
  proxy: { ...PROXY, port: PROXY.port + portOffset },
  uas: { ...UAS, port: UAS.port + portOffset },
  uacPort: UAC_PORT + portOffset,
  probeUacPort: PROBE_UAC_PORT + portOffset,
  probeUasPort: PROBE_UAS_PORT + portOffset,
};
const HOOK_PORT = 8833 + portOffset;
const quick = opts.quick === true;
const RATE = Number(opts.rate ?? 500);
const SECONDS = Number(opts.seconds ?? (quick ? 4 : 8));
const SPAWN_RATE = Math.min(RATE, 100);
const LADDER = quick ? [1000, 2000, 3000] : [1000, 1500, 2000, 2500, 3000, 4000];
const STEP_SECONDS = quick ? 3 : 5;
const SETTLE_MS = quick ? 1500 : 3000;
const only = opts.only ?? 'all';
const maxMinutes = Number(opts['max-minutes'] ?? 15);

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(repo, '../shared/bench');
const paths = { shared };
const runDir = mkdtempSync('/tmp/junction-bench-hook-');
const log = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const waitPorts = (ports: number[], ms: number): Promise<void> => waitPortsShared(ports, ms, log);

let cleaning: Promise<void> | undefined;
const cleanup = (): Promise<void> => (cleaning ??= stopAll());
async function die(code: number, why: string): Promise<never> {
  console.error(`bench:hook: ${why}; stopping everything it started`);
  await cleanup();
  process.exit(code);
}
process.on('SIGINT', () => void die(130, 'SIGINT'));
process.on('SIGTERM', () => void die(143, 'SIGTERM'));
process.on('exit', () => killAllSync());
const deadline = setTimeout(() => void die(3, `deadline of ${maxMinutes} min reached`), maxMinutes * 60_000);

// ------------------------------------------------------------------ variants

type Hook = 'none' | 'http' | 'spawn' | 'persistent';

interface Variant {
  spec: ProxySpec;
  hook: Hook;
  /** The hook server's new_dst (Kamailio applies it as $du, Junction as the R-URI user). */
  hookDst?: string;
  rate: number;
  ladder: boolean;
}

function junctionYaml(script: string | undefined, mode: 'spawn' | 'persistent' = 'spawn'): string {
  const s = script === undefined ? '' : `external_script: "${script}", external_script_mode: ${mode}, `;
  return `external_script_timeout_ms: 900
connection_points:
  - { id: 1, user_id: 1, match: { ip: 127.0.0.1/32, port: ${A.uacPort} }, ${s}termination_points: [1] }
  - { id: 2, user_id: 2, match: { ip: 127.0.0.1/32, port: ${A.probeUacPort} }, ${s}termination_points: [2] }
termination_points:
  - { id: 1, uri: "sip:127.0.0.1:${A.uas.port}" }
  - { id: 2, uri: "sip:127.0.0.1:${A.probeUasPort}" }
`;
}

const noLadder = opts['no-ladder'] === true;
const ALL: Variant[] = [
  {
    spec: { id: 'junction-plain', label: 'Junction, default relay', kind: 'junction' },
    hook: 'none',
    rate: RATE,
    ladder: false,
  },
  {
    spec: {
      id: 'junction-nohook',
      label: 'Junction, no hook',
      kind: 'junction',
      yaml: junctionYaml(undefined),
    },
    hook: 'none',
    rate: RATE,
    ladder: false,
  },
  {
    spec: {
      id: 'junction-http',
      label: 'Junction, HTTP hook',
      kind: 'junction',
      yaml: junctionYaml(`http://127.0.0.1:${HOOK_PORT}/`),
    },
    hook: 'http',
    hookDst: '37061234567',
    rate: RATE,
    ladder: !noLadder,
  },
  {
    spec: {
      id: 'junction-spawn',
      label: 'Junction, local spawn',
      kind: 'junction',
      yaml: junctionYaml(join(repo, 'bench/fixtures/m4_hook.sh')),
    },
    hook: 'spawn',
    rate: SPAWN_RATE,
    ladder: false,
  },
  {
    spec: {
      id: 'junction-persistent',
      label: 'Junction, persistent local',
      kind: 'junction',
      yaml: junctionYaml(join(repo, 'examples/m4/persistent_hook.mjs'), 'persistent'),
    },
    hook: 'persistent',
    rate: RATE,
    ladder: false,
  },
  {
    spec: {
      id: 'kamailio-nohook',
      label: 'Kamailio tuned, no hook',
      kind: 'kamailio',
      shmMb: 1024,
      memmgr: 'fm',
    },
    hook: 'none',
    rate: RATE,
    ladder: false,
  },
  {
    spec: {
      id: 'kamailio-http-shipped',
      label: 'Kamailio shipped, HTTP hook',
      kind: 'kamailio',
      shmMb: 256,
      cfg: 'stateful-http-hook.cfg',
    },
    hook: 'http',
    rate: RATE,
    ladder: !noLadder,
  },
  {
    spec: {
      id: 'kamailio-http-tuned',
      label: 'Kamailio tuned, HTTP hook',
      kind: 'kamailio',
      shmMb: 1024,
      memmgr: 'fm',
      cfg: 'stateful-http-hook.cfg',
    },
    hook: 'http',
    rate: RATE,
    ladder: !noLadder,
  },
];
const VARIANTS = ALL.filter(
  (v) => only === 'all' || v.spec.kind === only || only.split(',').includes(v.spec.id),
);

// ------------------------------------------------------------------ one measured run

interface Run {
  rate: number;
  sipp: UacResult;
  calls: number;
  proxyMs: number;
  hookMs: number;
  p50?: number;
  p99?: number;
  pass: boolean;
}

interface Env {
  proxy: RunningProxy;
  hook: Tracked | undefined;
  variant: Variant;
}

function proxyPids(e: Env): number[] {
  // Junction: the node process (a persistent hook program is its child, counted as the hook).
  return e.variant.spec.kind === 'junction' ? [e.proxy.tracked.pid] : e.proxy.pids();
}

function hookPids(e: Env): number[] {
  if (e.hook !== undefined) return [e.hook.pid];
  if (e.variant.hook === 'persistent')
    return descendants(e.proxy.tracked.pid).filter((p) => p !== e.proxy.tracked.pid);
  return [];
}

async function measure(
  e: Env,
  probe: Probe,
  rate: number,
  calls: number,
  name: string,
  abort: boolean,
): Promise<Run> {
  const withChildren = e.variant.hook === 'spawn';
  const pp = proxyPids(e);
  const hp = hookPids(e);
  const cpuP = (): number => (withChildren ? cpuTicksWithChildren(pp) : cpuTicks(pp));
  const p0 = cpuP();
  const h0 = cpuTicks(hp);
  probe.start(Math.min(50, rate / 5));
  const sipp = await runUac({
    paths,
    dir: join(runDir, e.variant.spec.id, name),
    rate,
    calls,
    uas: A.uas,
    proxy: A.proxy,
    uacPort: A.uacPort,
    recvTimeoutMs: 8000,
    abortOn: abort ? { failMax: FAIL_MAX, retransMax: RETRANS_MAX } : undefined,
  });
  probe.stop();
  const p1 = cpuP();
  const h1 = cpuTicks(hp);
  const ps = await probe.finish(1000);
  await sleep(SETTLE_MS);
  const n = sipp.created + ps.started;
  const pass = passes(sipp, rate);
  const r: Run = {
    rate,
    sipp,
    calls: n,
    proxyMs: ticksToMs(p1 - p0) / Math.max(1, n),
    hookMs: ticksToMs(h1 - h0) / Math.max(1, n),
    p50: percentile(ps.setup, 0.5),
    p99: percentile(ps.setup, 0.99),
    pass,
  };
  log(
    `  ${e.variant.spec.id.padEnd(22)} ${name.padEnd(9)} rate=${rate} ok=${sipp.ok}/${sipp.calls} not_ok=${sipp.notOk} ` +
      `retrans=${sipp.retrans} cps=${sipp.cps.toFixed(0)} proxy=${r.proxyMs.toFixed(3)}ms/call hook=${r.hookMs.toFixed(3)}ms/call ` +
      `probe p50/p99=${fmt(r.p50)}/${fmt(r.p99)}ms (${ps.completed}/${ps.started}) -> ${pass ? 'PASS' : 'FAIL'}`,
  );
  return r;
}

interface Result {
  variant: Variant;
  fixed?: Run;
  maxCps?: number;
  firstFail?: number;
  error?: string;
}

function startHookServer(dst: string | undefined): Tracked {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOOK_PORT: String(HOOK_PORT),
    HOOK_MAX_SECONDS: String(maxMinutes * 60),
  };
  if (dst !== undefined) env.HOOK_DST = dst;
  return startTracked('hook-server', process.execPath, [join(shared, 'hook-server.js')], {
    env,
    stdio: 'ignore',
    watchdog: true,
  });
}

async function waitHttp(port: number): Promise<void> {
  const h = new HttpHook();
  try {
    for (let i = 0; i < 100; i++) {
      if ((await h.call(`http://127.0.0.1:${port}/`, '{}', 500)).kind === 'ok') return;
      await sleep(100);
    }
    throw new Error(`hook server on ${port} did not answer`);
  } finally {
    await h.close();
  }
}

/** With --port-offset, a Kamailio config that names the hook server's port gets the moved port. */
function offsetSpec(spec: ProxySpec): ProxySpec {
  if (portOffset === 0 || spec.kind !== 'kamailio' || spec.cfg === undefined) return spec;
  const text = readFileSync(kamailioCfg(shared, spec), 'utf8').replaceAll(
    '127.0.0.1:8833',
    `127.0.0.1:${HOOK_PORT}`,
  );
  const cfg = join(runDir, `hook-${HOOK_PORT}-${spec.cfg}`);
  writeFileSync(cfg, text);
  return { ...spec, cfg };
}

async function startEnv(v: Variant, probe: Probe): Promise<Env> {
  let hook: Tracked | undefined;
  if (v.hook === 'http') {
    hook = startHookServer(v.hookDst ?? (portOffset === 0 ? undefined : `sip:127.0.0.1:${A.uas.port}`));
    await waitHttp(HOOK_PORT);
  }
  await waitPorts([A.proxy.port], 60_000);
  const prof = opts['cpu-prof'];
  const proxy = startProxy(offsetSpec(v.spec), {
    repo,
    shared,
    dir: runDir,
    port: A.proxy.port,
    ...(prof !== undefined && v.spec.kind === 'junction'
      ? { nodeOptions: `--cpu-prof --cpu-prof-dir=${resolve(prof)}` }
      : {}),
  });
  if (!(await probe.ready(20_000))) {
    const tail = readFileSync(proxy.logFile, 'utf8').split('\n').slice(-15).join('\n');
    throw new Error(`${v.spec.label} did not answer OPTIONS:\n${tail}`);
  }
  return { proxy, hook, variant: v };
}

async function stopEnv(e: Env | undefined): Promise<void> {
  if (e === undefined) return;
  await stopTracked(e.proxy.tracked, e.variant.spec.kind === 'junction' ? 10_000 : 3000);
  if (e.hook !== undefined) await stopTracked(e.hook, 2000);
}

async function runVariant(v: Variant, probe: Probe): Promise<Result> {
  const res: Result = { variant: v };
  let env: Env | undefined;
  const uasDir = join(runDir, `uas-${v.spec.id}`);
  await waitPorts([A.uas.port], 60_000);
  const uas = startUas({ paths, dir: uasDir, port: A.uas.port, maxSeconds: maxMinutes * 60 });
  try {
    await sleep(300);
    env = await startEnv(v, probe);
    log(`${v.spec.label}: up`);
    await measure(env, probe, Math.min(250, v.rate), quick ? 250 : 500, 'warmup', false);
    res.fixed = await measure(env, probe, v.rate, v.rate * SECONDS, 'fixed', false);
    if (v.ladder) {
      let best = res.fixed.pass ? v.rate : 0;
      for (const r of LADDER) {
        if (r <= best) continue;
        const s = await measure(env, probe, r, r * STEP_SECONDS, `step${r}`, true);
        if (s.pass) best = r;
        else {
          res.firstFail = r;
          break;
        }
      }
      res.maxCps = best;
    }
  } catch (err) {
    res.error = err instanceof Error ? err.message : String(err);
    log(`${v.spec.label}: ERROR ${res.error}`);
  } finally {
    await stopEnv(env);
    await stopTracked(uas, 3000);
  }
  return res;
}

// ------------------------------------------------------------------ the hook layer alone

interface LayerResult {
  calls: number;
  perSecond: number;
  p50: number | undefined;
  p99: number | undefined;
  failures: number;
}

async function layer(n: number, inFlight: number, call: () => Promise<HookOutcome>): Promise<LayerResult> {
  const lat: number[] = [];
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const o = await call();
      if (o.kind === 'ok') lat.push(o.durationMs);
      else failures++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { calls: n, perSecond: n / secs, p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), failures };
}

async function hookLayer(): Promise<Record<string, LayerResult>> {
  const line = encodeRequest({ cp_id: 1, user_id: 1, src: '37000000000', dst: '061234567' });
  const out: Record<string, LayerResult> = {};
  const server = startHookServer('37061234567');
  const http = new HttpHook();
  try {
    await waitHttp(HOOK_PORT);
    await layer(2000, 32, () => http.call(`http://127.0.0.1:${HOOK_PORT}/`, line, 900));
    out.http = await layer(quick ? 10_000 : 30_000, 64, () =>
      http.call(`http://127.0.0.1:${HOOK_PORT}/`, line, 900),
    );
  } finally {
    await http.close();
    await stopTracked(server, 2000);
  }
  const runner = new ProcessRunner();
  const persistent = new PersistentHook(join(repo, 'examples/m4/persistent_hook.mjs'), runner, {
    info: () => undefined,
    warn: (o, m) => log(`persistent: ${m} ${JSON.stringify(o)}`),
  });
  try {
    await layer(2000, 32, () => persistent.call(line, 900));
    out.persistent = await layer(quick ? 20_000 : 50_000, 128, () => persistent.call(line, 900));
  } finally {
    persistent.stop();
  }
  out.spawn = await layer(quick ? 200 : 500, 8, () =>
    spawnHook(runner, join(repo, 'bench/fixtures/m4_hook.sh'), line, 900),
  );
  for (const [k, r] of Object.entries(out))
    log(
      `  hook layer ${k.padEnd(10)} ${r.perSecond.toFixed(0)} calls/s, p50/p99 ${fmt(r.p50)}/${fmt(r.p99)} ms, failures ${r.failures}/${r.calls}`,
    );
  return out;
}

// ------------------------------------------------------------------ report

function fmt(v: number | undefined, d = 3): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d);
}
const round = (v: number | undefined, d = 3): number | null =>
  v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(d));

async function main(): Promise<void> {
  execFileSync(join(repo, 'scripts/ensure-debian.sh'), ['sip-tester', 'kamailio'], { stdio: 'inherit' });
  if (!existsSync(join(shared, 'hook-server.js'))) throw new Error(`${shared}: shared bench not found`);
  await waitPorts([A.proxy.port, A.uas.port, A.uacPort, A.probeUacPort, A.probeUasPort], 600_000);
  const probe = new Probe({ proxy: A.proxy, uacPort: A.probeUacPort, uasPort: A.probeUasPort });
  await probe.bind();
  const results: Result[] = [];
  try {
    log(
      `bench:hook — fixed ${RATE} calls/s × ${SECONDS} s (spawn ${SPAWN_RATE}/s); the machine is shared: absolute figures are depressed, compare within this run`,
    );
    log('hook layer alone (in process, many calls in flight):');
    const layers = only === 'kamailio' ? {} : await hookLayer();
    for (const v of VARIANTS) results.push(await runVariant(v, probe));
    const by = new Map(results.map((r) => [r.variant.spec.id, r]));
    const f = (id: string): Run | undefined => by.get(id)?.fixed;
    const added = (id: string, base: string, q: 'p50' | 'p99'): number | undefined => {
      const a = f(id)?.[q];
      const b = f(base)?.[q];
      return a === undefined || b === undefined ? undefined : a - b;
    };
    log('');
    log(
      `${'variant'.padEnd(30)}${'rate'.padStart(6)}${'proxy ms/call'.padStart(15)}${'hook ms/call'.padStart(14)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'+p50'.padStart(8)}${'+p99'.padStart(8)}${'max cps'.padStart(9)}`,
    );
    for (const r of results) {
      const x = r.fixed;
      const base = r.variant.spec.kind === 'junction' ? 'junction-nohook' : 'kamailio-nohook';
      log(
        `${r.variant.spec.label.padEnd(30)}${String(x?.rate ?? '-').padStart(6)}${fmt(x?.proxyMs).padStart(15)}${fmt(x?.hookMs).padStart(14)}` +
          `${fmt(x?.p50, 2).padStart(9)}${fmt(x?.p99, 2).padStart(9)}${fmt(added(r.variant.spec.id, base, 'p50'), 2).padStart(8)}` +
          `${fmt(added(r.variant.spec.id, base, 'p99'), 2).padStart(8)}${String(r.maxCps ?? '-').padStart(9)}${r.error ? `  ERROR ${r.error.split('\n')[0]}` : ''}${x !== undefined && !x.pass ? '  (fixed run FAILED)' : ''}`,
      );
    }
    const kamMax = Math.max(
      by.get('kamailio-http-shipped')?.maxCps ?? 0,
      by.get('kamailio-http-tuned')?.maxCps ?? 0,
    );
    const kamCpu = [f('kamailio-http-shipped')?.proxyMs, f('kamailio-http-tuned')?.proxyMs].filter(
      (x) => x !== undefined,
    ) as number[];
    const json = {
      rate: RATE,
      seconds: SECONDS,
      spawn_rate: SPAWN_RATE,
      junction_plain_cpu_ms: round(f('junction-plain')?.proxyMs),
      junction_nohook_cpu_ms: round(f('junction-nohook')?.proxyMs),
      junction_http_cpu_ms: round(f('junction-http')?.proxyMs),
      junction_http_hook_server_cpu_ms: round(f('junction-http')?.hookMs),
      junction_spawn_cpu_ms_incl_children: round(f('junction-spawn')?.proxyMs),
      junction_persistent_cpu_ms: round(f('junction-persistent')?.proxyMs),
      junction_persistent_hook_cpu_ms: round(f('junction-persistent')?.hookMs),
      kamailio_nohook_tuned_cpu_ms: round(f('kamailio-nohook')?.proxyMs),
      kamailio_http_shipped_cpu_ms: round(f('kamailio-http-shipped')?.proxyMs),
      kamailio_http_tuned_cpu_ms: round(f('kamailio-http-tuned')?.proxyMs),
      kamailio_hook_server_cpu_ms: round(f('kamailio-http-shipped')?.hookMs),
      p50_ms: Object.fromEntries(results.map((r) => [r.variant.spec.id, round(r.fixed?.p50)])),
      p99_ms: Object.fromEntries(results.map((r) => [r.variant.spec.id, round(r.fixed?.p99)])),
      added_p50_ms_http: round(added('junction-http', 'junction-nohook', 'p50')),
      added_p99_ms_http: round(added('junction-http', 'junction-nohook', 'p99')),
      added_p50_ms_spawn: round(added('junction-spawn', 'junction-nohook', 'p50')),
      added_p99_ms_spawn: round(added('junction-spawn', 'junction-nohook', 'p99')),
      added_p50_ms_persistent: round(added('junction-persistent', 'junction-nohook', 'p50')),
      added_p99_ms_persistent: round(added('junction-persistent', 'junction-nohook', 'p99')),
      kamailio_added_p50_ms_http_tuned: round(added('kamailio-http-tuned', 'kamailio-nohook', 'p50')),
      kamailio_added_p99_ms_http_tuned: round(added('kamailio-http-tuned', 'kamailio-nohook', 'p99')),
      junction_http_max_cps: by.get('junction-http')?.maxCps ?? null,
      junction_http_first_fail: by.get('junction-http')?.firstFail ?? null,
      kamailio_http_shipped_max_cps: by.get('kamailio-http-shipped')?.maxCps ?? null,
      kamailio_http_tuned_max_cps: by.get('kamailio-http-tuned')?.maxCps ?? null,
      hook_layer_calls_per_s: Object.fromEntries(
        Object.entries(layers).map(([k, r]) => [k, round(r.perSecond, 0)]),
      ),
      hook_layer_p50_ms: Object.fromEntries(Object.entries(layers).map(([k, r]) => [k, round(r.p50)])),
      targets: {
        http_added_p50_le_0_5_ms:
          (added('junction-http', 'junction-nohook', 'p50') ?? Number.POSITIVE_INFINITY) <= 0.5,
        persistent_ge_5000_per_s: (layers.persistent?.perSecond ?? 0) >= 5000,
        http_cps_ge_kamailio_best: kamMax > 0 ? (by.get('junction-http')?.maxCps ?? 0) >= kamMax : null,
        http_cpu_le_kamailio_best:
          kamCpu.length > 0 ? (f('junction-http')?.proxyMs ?? Infinity) <= Math.min(...kamCpu) : null,
      },
      ladder: LADDER,
      step_seconds: STEP_SECONDS,
      quick,
    };
    log(JSON.stringify(json));
  } finally {
    probe.close();
    clearTimeout(deadline);
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => void die(1, err instanceof Error ? (err.stack ?? err.message) : String(err)),
);
