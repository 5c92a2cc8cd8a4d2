/**
 * `npm run bench:core` — CPU per call of the stateful proxy's hot path, in-process and without the
 * kernel: the real server wiring (startServer, routes/default.ts, memory storage) with its UDP
 * socket replaced by an in-memory one (ServerHooks.udpSocketFactory), so every datagram goes
 * through the real receive path (TransportLayer.onDatagram → parse → transaction → script → send).
 *
 * A simulated UAC and UAS play ../shared/bench/scenarios/uac-rr.xml and uas.xml: INVITE / 100 /
 * 180 / 200 / ACK / BYE / 200, the UAS copying Via, From, To, Call-ID, CSeq and Record-Route into
 * its answers, the UAC sending ACK and BYE to the 200's Contact with the reversed Record-Route as
 * Route set. Their messages are built from string templates; the time spent in the generator
 * (building and reading its messages, performance.now() around each step) is measured separately
 * and subtracted: the figure is the proxy's own CPU per call.
 *
 * Loop: `--window` calls in flight; each turn hands every queued datagram to the proxy, yields one
 * macrotask (setImmediate: the script's awaits and the proxy's sends complete), then lets the UAC
 * and UAS answer what the proxy sent. Warm-up calls first (not measured), then `--rounds` rounds
 * of `--calls` calls each; CPU = process.cpuUsage() user+system over the round. The figure is the
 * median of the rounds. GC: count and pause time (PerformanceObserver 'gc') and heap growth.
 * Bounded: every round must finish within --max-seconds (default 60 s in all), else it fails.
 *
 * Options: --calls N (per round, default 20000), --rounds N (3), --warmup N (5000), --window N (100),
 * --script PATH (routes/default.ts). Works under `node --cpu-prof bench/core.ts` and
 * `perf record -g node --perf-basic-prof bench/core.ts`. The last line printed is one JSON object.
 */
import type { RemoteInfo, SocketOptions } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import { parseConfig } from '../src/config/load.ts';
import { createLogger } from '../src/log/logger.ts';
import { startServer } from '../src/server.ts';
import type { DatagramSocket } from '../src/transport/options.ts';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

const { values: opts } = parseArgs({
  options: {
    calls: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '5000' },
    window: { type: 'string', default: '100' },
    script: { type: 'string', default: 'routes/default.ts' },
    'max-seconds': { type: 'string', default: '60' },
    'alloc-profile': { type: 'string' },
    'heap-snapshot': { type: 'string' },
  },
});
const CALLS = Number(opts.calls);
const ROUNDS = Number(opts.rounds);
const WARMUP = Number(opts.warmup);
const WINDOW = Number(opts.window);
const MAX_MS = Number(opts['max-seconds']) * 1000;

const PROXY_PORT = 5060;
const UAC_PORT = 5061;
const UAS_PORT = 5062;
const HOST = '127.0.0.1';

// ------------------------------------------------------------------ in-memory network

interface Datagram {
  data: Buffer;
  port: number;
}

/** What the proxy sent (to the UAC or UAS), drained by the driver after each turn. */
let fromProxy: Datagram[] = [];
/** What the UAC and UAS sent to the proxy, handed to it on the next turn. */
let toProxy: Array<{ data: Buffer; rinfo: RemoteInfo }> = [];
let deliver: ((msg: Buffer, rinfo: RemoteInfo) => void) | undefined;

const rinfoOf = (port: number): RemoteInfo => ({ address: HOST, family: 'IPv4', port, size: 0 });
const UAC_RINFO = rinfoOf(UAC_PORT);
const UAS_RINFO = rinfoOf(UAS_PORT);

function fakeSocket(_options: SocketOptions): DatagramSocket {
  const sock: DatagramSocket = {
    once: () => sock,
    on(event: string, listener: unknown) {
      if (event === 'message') deliver = listener as (msg: Buffer, rinfo: RemoteInfo) => void;
      return sock;
    },
    off: () => sock,
    bind(_o, cb) {
      queueMicrotask(cb);
      return sock;
    },
    address: () => ({ port: PROXY_PORT }),
    setRecvBufferSize: () => undefined,
    setMulticastTTL: () => 1,
    send(data, port, _address, cb) {
      fromProxy.push({ data, port });
      cb(null);
    },
    close(cb) {
      if (cb !== undefined) queueMicrotask(cb);
      return sock;
    },
  };
  return sock;
}

// ------------------------------------------------------------------ UAC and UAS

/** Header lines of a message (latin1), up to the blank line; the start line first. */
function lines(data: Buffer): string[] {
  const s = data.latin1Slice(0, data.length);
  const end = s.indexOf('\r\n\r\n');
  return (end < 0 ? s : s.slice(0, end)).split('\r\n');
}

function headerName(line: string): string {
  return line.slice(0, line.indexOf(':')).trim().toLowerCase();
}

const SDP =
  'v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
  'm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

interface Call {
  n: number;
  callId: string;
  fromTag: string;
  answered: boolean;
  done: boolean;
}

const calls = new Map<string, Call>();
let callSeq = 0;
let completed = 0;
let branchSeq = 0;
const counts = { r100: 0, r180: 0, r200: 0, ack: 0, bye: 0, bye200: 0, other: 0, retransmissions: 0 };
/** Calls the UAS answered (a retransmitted INVITE, when a turn took longer than T1, is not answered twice). */
const uasCalls = new Set<string>();

function uacSend(text: string): void {
  toProxy.push({ data: Buffer.from(text, 'latin1'), rinfo: UAC_RINFO });
}

function commonUac(c: Call, cseq: string, to: string, routes: string): string {
  return (
    `Via: SIP/2.0/UDP ${HOST}:${UAC_PORT};branch=z9hG4bK-uac-${++branchSeq}\r\n${routes}` +
    `From: sipp <sip:sipp@${HOST}:${UAC_PORT}>;tag=${c.fromTag}\r\n${to}\r\nCall-ID: ${c.callId}\r\n` +
    `CSeq: ${cseq}\r\nContact: sip:sipp@${HOST}:${UAC_PORT}\r\nMax-Forwards: 70\r\nSubject: Performance Test\r\n`
  );
}

function startCall(): void {
  const n = ++callSeq;
  const c: Call = {
    n,
    callId: `${n}-bench@${HOST}`,
    fromTag: `1SIPpTag00${n}`,
    answered: false,
    done: false,
  };
  calls.set(c.callId, c);
  uacSend(
    `INVITE sip:service@${HOST}:${UAS_PORT} SIP/2.0\r\n` +
      commonUac(c, '1 INVITE', `To: service <sip:service@${HOST}:${UAS_PORT}>`, '') +
      `Content-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`,
  );
}

function uacReceive(data: Buffer): void {
  const ls = lines(data);
  const code = Number(ls[0].slice(8, 11));
  let callId = '';
  let cseq = '';
  let to = '';
  let contact = '';
  const rr: string[] = [];
  for (let i = 1; i < ls.length; i++) {
    const l = ls[i];
    const name = headerName(l);
    if (name === 'call-id' || name === 'i') callId = l.slice(l.indexOf(':') + 1).trim();
    else if (name === 'cseq') cseq = l.slice(l.indexOf(':') + 1).trim();
    else if (name === 'to' || name === 't') to = l;
    else if (name === 'contact' || name === 'm') contact = l.slice(l.indexOf(':') + 1).trim();
    else if (name === 'record-route') rr.push(l.slice(l.indexOf(':') + 1).trim());
  }
  const c = calls.get(callId);
  if (c === undefined || c.done || (c.answered && cseq.endsWith('INVITE'))) {
    // A response retransmitted by the proxy's timers (a turn slower than T1, e.g. under a profiler).
    if (c !== undefined || callId.endsWith(`-bench@${HOST}`)) counts.retransmissions++;
    else counts.other++;
    return;
  }
  if (cseq.endsWith('INVITE')) {
    if (code === 100) counts.r100++;
    else if (code === 180) counts.r180++;
    else if (code === 200) {
      counts.r200++;
      c.answered = true;
      const target = contact.startsWith('<') ? contact.slice(1, contact.indexOf('>')) : contact;
      const routes = rr.length === 0 ? '' : `Route: ${rr.reverse().join(', ')}\r\n`;
      uacSend(`ACK ${target} SIP/2.0\r\n${commonUac(c, '1 ACK', to, routes)}Content-Length: 0\r\n\r\n`);
      uacSend(`BYE ${target} SIP/2.0\r\n${commonUac(c, '2 BYE', to, routes)}Content-Length: 0\r\n\r\n`);
    } else counts.other++;
  } else if (cseq.endsWith('BYE') && code === 200) {
    counts.bye200++;
    c.done = true;
    calls.delete(callId);
    completed++;
  } else counts.other++;
}

function uasReceive(data: Buffer): void {
  const ls = lines(data);
  const method = ls[0].slice(0, ls[0].indexOf(' '));
  let vias = '';
  let rrs = '';
  let from = '';
  let to = '';
  let callId = '';
  let cseq = '';
  for (let i = 1; i < ls.length; i++) {
    const l = ls[i];
    const name = headerName(l);
    if (name === 'via' || name === 'v') vias += `${l}\r\n`;
    else if (name === 'record-route') rrs += `${l}\r\n`;
    else if (name === 'from' || name === 'f') from = l;
    else if (name === 'to' || name === 't') to = l;
    else if (name === 'call-id' || name === 'i') callId = l;
    else if (name === 'cseq') cseq = l;
  }
  const contact = `Contact: <sip:${HOST}:${UAS_PORT};transport=UDP>\r\n`;
  if (method === 'INVITE') {
    if (uasCalls.has(callId)) {
      counts.retransmissions++;
      return;
    }
    uasCalls.add(callId);
    const tag = `${to};tag=2SIPpTag01${callId.length}${callId.slice(9, 16)}`;
    const head = `${vias}${from}\r\n${rrs}${tag}\r\n${callId}\r\n${cseq}\r\n${contact}`;
    const send = (text: string): void => {
      toProxy.push({ data: Buffer.from(text, 'latin1'), rinfo: UAS_RINFO });
    };
    send(`SIP/2.0 180 Ringing\r\n${head}Content-Length: 0\r\n\r\n`);
    send(
      `SIP/2.0 200 OK\r\n${head}Content-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`,
    );
  } else if (method === 'ACK') {
    counts.ack++;
  } else if (method === 'BYE') {
    counts.bye++;
    uasCalls.delete(callId);
    toProxy.push({
      data: Buffer.from(
        `SIP/2.0 200 OK\r\n${vias}${from}\r\n${to}\r\n${callId}\r\n${cseq}\r\n${contact}Content-Length: 0\r\n\r\n`,
        'latin1',
      ),
      rinfo: UAS_RINFO,
    });
  } else counts.other++;
}

// ------------------------------------------------------------------ driver

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

interface RoundResult {
  calls: number;
  cpuUs: number;
  generatorUs: number;
  wallMs: number;
  gcCount: number;
  gcMs: number;
  heapGrowthMb: number;
}

let gcCount = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcMs += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

async function run(n: number): Promise<RoundResult> {
  const target = completed + n;
  let started = 0;
  let generatorMs = 0;
  const gc0 = gcCount;
  const gcMs0 = gcMs;
  const heap0 = process.memoryUsage().heapUsed;
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  while (completed < target) {
    if (performance.now() - wall0 > MAX_MS) throw new Error(`round did not finish in ${MAX_MS} ms`);
    let g = performance.now();
    while (started < n && calls.size < WINDOW) {
      startCall();
      started++;
    }
    generatorMs += performance.now() - g;
    const batch = toProxy;
    toProxy = [];
    const d = deliver as (msg: Buffer, rinfo: RemoteInfo) => void;
    for (const m of batch) d(m.data, m.rinfo);
    await tick();
    g = performance.now();
    const out = fromProxy;
    fromProxy = [];
    for (const m of out) {
      if (m.port === UAC_PORT) uacReceive(m.data);
      else if (m.port === UAS_PORT) uasReceive(m.data);
      else counts.other++;
    }
    generatorMs += performance.now() - g;
    if (out.length === 0 && toProxy.length === 0 && started >= n && completed < target) {
      // Nothing moves: give timers a chance, and fail the round if it stays stuck.
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    calls: n,
    cpuUs: cpu.user + cpu.system,
    generatorUs: generatorMs * 1000,
    wallMs: performance.now() - wall0,
    gcCount: gcCount - gc0,
    gcMs: gcMs - gcMs0,
    heapGrowthMb: (process.memoryUsage().heapUsed - heap0) / 1048576,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const parsed = parseConfig(
    [
      'listen:',
      `  - udp:${HOST}:${PROXY_PORT}`,
      `script: ${JSON.stringify(resolve(REPO, opts.script ?? 'routes/default.ts'))}`,
      'log_level: error',
      'storage: memory',
      'mi: { http: false, fifo: false }',
      '',
    ].join('\n'),
  );
  if (!parsed.ok) throw new Error(`config: ${JSON.stringify(parsed.errors)}`);
  const log = createLogger({ level: 'error' });
  const server = await startServer(parsed.config, log, { udpSocketFactory: fakeSocket });
  if (deliver === undefined) throw new Error('the fake socket got no message listener');

  const w = await run(WARMUP);
  console.log(`warm-up: ${WARMUP} calls in ${w.wallMs.toFixed(0)} ms`);
  const rounds: RoundResult[] = [];
  // --alloc-profile FILE: a sampling heap profile of every allocation of the measured rounds,
  // collected or not (what feeds the garbage collector), for DevTools or a script.
  const session = opts['alloc-profile'] === undefined ? undefined : new Session();
  if (session !== undefined) {
    session.connect();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  for (let r = 0; r < ROUNDS; r++) {
    const res = await run(CALLS);
    rounds.push(res);
    const per = (res.cpuUs - res.generatorUs) / res.calls;
    console.log(
      `round ${r + 1}: ${res.calls} calls, ${(res.wallMs / 1000).toFixed(2)} s, ` +
        `proxy ${per.toFixed(1)} µs CPU/call (process ${(res.cpuUs / res.calls).toFixed(1)}, ` +
        `generator ${(res.generatorUs / res.calls).toFixed(1)}), ` +
        `GC ${res.gcCount} (${res.gcMs.toFixed(0)} ms), heap ${res.heapGrowthMb >= 0 ? '+' : ''}${res.heapGrowthMb.toFixed(1)} MB`,
    );
  }
  if (session !== undefined) {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(opts['alloc-profile'] as string, JSON.stringify(profile));
    session.disconnect();
  }
  // --heap-snapshot FILE: what the server keeps after the rounds (transactions in their wait timers).
  if (opts['heap-snapshot'] !== undefined) writeHeapSnapshot(opts['heap-snapshot']);
  await server.stop();

  const expected = WARMUP + ROUNDS * CALLS;
  const ok =
    counts.bye200 === expected && counts.r200 === expected && counts.ack === expected && counts.other === 0;
  const perCall = rounds.map((r) => (r.cpuUs - r.generatorUs) / r.calls);
  const summary = {
    bench: 'core',
    script: opts.script,
    calls_per_round: CALLS,
    rounds: ROUNDS,
    window: WINDOW,
    proxy_us_per_call: Number(median(perCall).toFixed(1)),
    proxy_us_per_call_rounds: perCall.map((x) => Number(x.toFixed(1))),
    process_us_per_call: Number(median(rounds.map((r) => r.cpuUs / r.calls)).toFixed(1)),
    generator_us_per_call: Number(median(rounds.map((r) => r.generatorUs / r.calls)).toFixed(1)),
    gc_per_1k_calls: Number(median(rounds.map((r) => (r.gcCount * 1000) / r.calls)).toFixed(2)),
    gc_ms_per_1k_calls: Number(median(rounds.map((r) => (r.gcMs * 1000) / r.calls)).toFixed(2)),
    heap_growth_mb: rounds.map((r) => Number(r.heapGrowthMb.toFixed(1))),
    messages: counts,
    ok,
  };
  console.log(
    `proxy CPU per call: ${summary.proxy_us_per_call} µs (median of ${ROUNDS}); calls ok: ${ok} ` +
      `(100: ${counts.r100}, 180: ${counts.r180}, 200: ${counts.r200}, ACK: ${counts.ack}, BYE 200: ${counts.bye200}, ` +
      `other: ${counts.other}, retransmissions: ${counts.retransmissions})`,
  );
  console.log(JSON.stringify(summary));
  if (!ok) process.exitCode = 1;
}

await main();
