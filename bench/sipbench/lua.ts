/**
 * `npm run bench:lua` (bench/proxy.ts --suite lua): the Lua default script (routes/default.lua) vs
 * the TypeScript one (routes/default.ts) on Junction vs Kamailio running the same routing in KEMI
 * Lua (../shared/bench/kamailio/stateful-kemi-lua.cfg), shipped and tuned, in one run.
 *
 * Besides the SIPp figures (CPU per call, max sustained calls/s — bench/proxy.ts's method), the
 * cost of the Lua engine itself is measured in-process, where it is not drowned in the noise of
 * a shared machine: both default scripts route the same INVITE (relayed, the common path: about
 * 20 KSR calls, t_relay awaited) with the real engine and modules on a recording context, in
 * alternating batches; the CPU time per message of each, and the difference.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODULES } from '../../src/modules/index.ts';
import { fakeContext } from '../../src/modules/testing/fake_context.ts';
import { ScriptEngine } from '../../src/script/engine.ts';
import { KsrRegistry } from '../../src/script/registry.ts';
import type { ProxySpec } from './proxies.ts';

export const LUA_SPECS: ProxySpec[] = [
  { id: 'junction', label: 'Junction TS', kind: 'junction' },
  { id: 'junction-lua', label: 'Junction Lua', kind: 'junction', script: 'routes/default.lua' },
  {
    id: 'kamailio-tuned',
    label: 'Kamailio Lua tuned',
    kind: 'kamailio',
    cfg: 'stateful-kemi-lua.cfg',
    shmMb: 1024,
    memmgr: 'fm',
  },
  {
    id: 'kamailio-shipped',
    label: 'Kamailio Lua shipped',
    kind: 'kamailio',
    cfg: 'stateful-kemi-lua.cfg',
    shmMb: 256,
  },
];

/** Requests per call the routing script runs for (INVITE, ACK, BYE; neither script has a reply route). */
export const ROUTED_PER_CALL = 3;
/** The target: the Lua engine costs at most this much more per message than TypeScript. */
export const TARGET_US = 25;

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface EngineCost {
  ts_us_per_message: number | null;
  lua_us_per_message: number | null;
  lua_extra_us_per_message: number | null;
  batches: number;
  messages_per_batch: number;
}

/** One call's requests as the proxy routes them: the INVITE, then the in-dialog ACK and BYE. */
function callRequests(i: number): string[] {
  const common = (method: string, cseq: number, inDialog: boolean): string =>
    [
      `${method} sip:bob@10.0.0.2:5080 SIP/2.0`,
      `Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK-bench-${i}-${method}`,
      'Max-Forwards: 70',
      ...(inDialog ? [`Route: <sip:127.0.0.1:5060;lr;ftag=${i}>`] : []),
      `To: <sip:bob@10.0.0.2:5080>${inDialog ? ';tag=uas' : ''}`,
      `From: <sip:alice@10.0.0.1:5070>;tag=${i}`,
      `Call-ID: bench-${i}@10.0.0.1`,
      `CSeq: ${cseq} ${method}`,
      'Contact: <sip:alice@10.0.0.1:5070>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  return [common('INVITE', 1, false), common('ACK', 1, true), common('BYE', 2, true)];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const QUIET = { info() {}, warn() {}, error() {} };

/**
 * In-process CPU µs per routed request, TypeScript vs Lua default script: the real engine, registry
 * and modules on a recording context (no network, no proxy core: only the script's own cost and
 * the KSR functions it calls), for a call's INVITE (relayed), ACK (forwarded by loose_route) and
 * BYE (relayed by loose_route), in alternating batches; medians over the batches.
 */
export async function engineCost(
  log: (s: string) => void,
  batches = 40,
  perBatch = 600,
): Promise<EngineCost> {
  const registry = new KsrRegistry(MODULES);
  const engines = await Promise.all(
    ['routes/default.ts', 'routes/default.lua'].map(async (f) => {
      const e = new ScriptEngine({ path: join(REPO, f), registry, log: QUIET });
      const r = await e.load();
      if (Array.isArray(r)) throw new Error(`${f} does not load: ${JSON.stringify(r)}`);
      return e;
    }),
  );
  const texts = Array.from({ length: Math.ceil(perBatch / 3) }, (_, i) => callRequests(i)).flat();
  const run = async (e: ScriptEngine): Promise<number> => {
    const ctxs = texts.map((t) => fakeContext(t));
    const t0 = process.cpuUsage();
    for (const ctx of ctxs) {
      const r = e.run('request', ctx);
      if (r !== undefined) await r;
    }
    const d = process.cpuUsage(t0);
    for (const ctx of ctxs)
      if (ctx.relays.length + ctx.forwards.length !== 1)
        throw new Error(`engine bench: the default script did not pass the ${ctx.msg.method} on`);
    return (d.user + d.system) / ctxs.length;
  };
  for (let i = 0; i < 10; i++) for (const e of engines) await run(e);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < batches; i++) {
    a.push(await run(engines[0]));
    b.push(await run(engines[1]));
  }
  const out: EngineCost = {
    ts_us_per_message: round(median(a), 2),
    lua_us_per_message: round(median(b), 2),
    lua_extra_us_per_message: round(median(b) - median(a), 2),
    batches,
    messages_per_batch: texts.length,
  };
  log(
    `engine (in-process: the default script routing a call's INVITE, ACK and BYE, real modules, recording context): ` +
      `TS ${out.ts_us_per_message} µs, Lua ${out.lua_us_per_message} µs per message ` +
      `(medians of ${batches} alternating batches × ${texts.length}); Lua costs ${out.lua_extra_us_per_message} µs more`,
  );
  return out;
}

function round(v: number | undefined, digits = 3): number | null {
  return v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(digits));
}

type Figure<R> = (r: R | undefined, rate: number) => number | undefined;

/** The bench:lua figures (the last JSON line), from bench/proxy.ts's results. */
export function luaSummary<R extends { spec: ProxySpec }>(
  results: readonly R[],
  engine: EngineCost | undefined,
  cpuAt: Figure<R>,
  maxCps: (r: R) => number | undefined,
): Record<string, unknown> {
  const by = new Map(results.map((r) => [r.spec.id, r]));
  const ts = by.get('junction');
  const lua = by.get('junction-lua');
  const kams = [by.get('kamailio-tuned'), by.get('kamailio-shipped')].filter((r) => r !== undefined);
  const max = (r: R | undefined): number | undefined => (r === undefined ? undefined : maxCps(r));
  const best = <T>(xs: (T | undefined)[], pick: (a: number, b: number) => number): number | undefined => {
    const v = xs.filter((x): x is T => typeof x === 'number') as number[];
    return v.length === 0 ? undefined : v.reduce((x, y) => pick(x, y));
  };
  const kamCpu = (rate: number): number | undefined =>
    best(
      kams.map((k) => cpuAt(k, rate)),
      Math.min,
    );
  const kamMax = best(
    kams.map((k) => max(k)),
    Math.max,
  );
  const extraUs = (rate: number): number | undefined => {
    const a = cpuAt(lua, rate);
    const b = cpuAt(ts, rate);
    return a === undefined || b === undefined ? undefined : ((a - b) * 1000) / ROUTED_PER_CALL;
  };
  const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined || b === 0 ? undefined : a / b;
  return {
    lua_cpu_ms_per_call: round(cpuAt(lua, 500)),
    ts_cpu_ms_per_call: round(cpuAt(ts, 500)),
    lua_cpu_ms_per_call_2000: round(cpuAt(lua, 2000)),
    ts_cpu_ms_per_call_2000: round(cpuAt(ts, 2000)),
    lua_max_cps: round(max(lua), 0),
    ts_max_cps: round(max(ts), 0),
    lua_extra_us_per_routed_message_sipp: round(extraUs(500), 1),
    lua_extra_us_per_routed_message_sipp_2000: round(extraUs(2000), 1),
    engine_ts_us_per_message: engine?.ts_us_per_message ?? null,
    engine_lua_us_per_message: engine?.lua_us_per_message ?? null,
    engine_lua_extra_us_per_message: engine?.lua_extra_us_per_message ?? null,
    target_us_per_message: TARGET_US,
    target_met:
      engine?.lua_extra_us_per_message == null ? null : engine.lua_extra_us_per_message <= TARGET_US,
    kamailio_lua_best_cpu_ms_per_call: round(kamCpu(500)),
    kamailio_lua_best_cpu_ms_per_call_2000: round(kamCpu(2000)),
    kamailio_lua_best_max_cps: round(kamMax, 0),
    lua_cpu_ratio_vs_kamailio_lua_best: round(ratio(cpuAt(lua, 500), kamCpu(500))),
    lua_cps_ratio_vs_kamailio_lua_best: round(ratio(max(lua), kamMax)),
  };
}

/** The readable lines before the JSON. */
export function luaTable(s: Record<string, unknown>, log: (line: string) => void): void {
  const v = (k: string): string => (s[k] === null || s[k] === undefined ? '-' : String(s[k]));
  log('');
  log('Lua engine vs TypeScript (same default routing):');
  log(
    `  in-process per routed request (INVITE, ACK, BYE): TS ${v('engine_ts_us_per_message')} µs, Lua ${v('engine_lua_us_per_message')} µs, ` +
      `Lua +${v('engine_lua_extra_us_per_message')} µs (target ≤ ${TARGET_US} µs: ${s.target_met === true ? 'met' : s.target_met === false ? 'NOT met' : '-'})`,
  );
  log(
    `  SIPp CPU per call @500/s: TS ${v('ts_cpu_ms_per_call')} ms, Lua ${v('lua_cpu_ms_per_call')} ms ` +
      `→ Lua +${v('lua_extra_us_per_routed_message_sipp')} µs per routed message (${ROUTED_PER_CALL} per call; noisy on a shared machine)`,
  );
  log(
    `  max calls/s: TS ${v('ts_max_cps')}, Lua ${v('lua_max_cps')}; Kamailio KEMI Lua (better of shipped/tuned): ` +
      `${v('kamailio_lua_best_max_cps')} calls/s, ${v('kamailio_lua_best_cpu_ms_per_call')} ms/call @500/s`,
  );
}
