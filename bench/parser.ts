/**
 * Parser benchmark (`npm run bench:parser`): a typical 850-byte INVITE with SDP
 * (bench/fixtures/invite-850.sip: 2 Vias, Route, Contact, Allow, Supported, User-Agent, SDP).
 *
 *   (a) parse + read top-Via branch, Call-ID, CSeq and From-tag     — µs per message
 *   (b) full decode: parse + validate() + every typed accessor + every headerValue — µs per message
 *   (c) forwarding edits on a parsed message (Record-Route, Via with a new branch, Max-Forwards − 1,
 *       pop Route, new Request-URI) and serialize()                 — µs per message (the parse is
 *       not timed: messages are parsed in batches of 256 right before)
 *   (d) bytes allocated per message for (a)
 *
 * The same parse-and-read workload runs, in the same process and interleaved round by round,
 * through the npm `sip` package (`sip.parse`, with the Buffer→string decode it needs) and
 * drachtio-srf's parser (`lib/sip-parser/parser.js`, lazy mode as drachtio's SipMessage uses it,
 * then its header parsers for Via, CSeq and From; also with the Buffer→string decode).
 *
 * Timing: warm-up, then ROUNDS rounds of ~ROUND_MS each per workload, interleaved; the figure is the
 * median of the per-round means. Every workload keeps its results alive in a small ring so that the
 * JIT cannot drop the allocations a real server would make.
 *
 * Allocation: `process.memoryUsage().heapUsed` delta across a batch small enough to fit in the young
 * generation, after a full gc() (exposed at run time with v8.setFlagsFromString('--expose-gc')), with
 * a PerformanceObserver proving that no GC ran during the batch (a batch during which one did is
 * discarded and retried smaller); minus the cost of an empty batch; median of several batches. With
 * no collection in between, heapUsed grows by exactly what was allocated on the JS heap (Buffers'
 * backing stores are off-heap: the subarray views count, the bytes they view do not).
 *
 * The last line of output is one JSON object (see ../shared/DESIGN.md, "Benchmarks").
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { newBranch } from '../src/sip/build.ts';
import { isParseError } from '../src/sip/errors.ts';
import type { SipMessage } from '../src/sip/message.ts';
import { parseMessage } from '../src/sip/parse_message.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const require = createRequire(import.meta.url);

interface SipJsMessage {
  headers: {
    via: Array<{ params: { branch: string } }>;
    'call-id': string;
    cseq: { seq: number };
    from: { params: { tag: string } };
  };
}
interface DrachtioParsed {
  headers: Record<string, string>;
}
type DrachtioHeaderParser = (data: { s: string; i: number }) => unknown;

const sipJs = require('sip') as { parse(s: string): SipJsMessage | undefined };
const drachtio = require('drachtio-srf/lib/sip-parser/parser.js') as {
  parseSipMessage(s: string, lazy: boolean): DrachtioParsed | undefined;
  getParser(name: string): DrachtioHeaderParser;
};

const ROUNDS = 9;
const ROUND_MS = 250;
const WARMUP_MS = 400;

const FIXTURE = readFileSync(new URL('./fixtures/invite-850.sip', import.meta.url));

// ------------------------------------------------------------------------------------------ workloads

/** Results are parked here so that every message (and what it allocates) escapes. */
const ring: unknown[] = new Array(1024).fill(null);
let ringPos = 0;
function keep(x: unknown): void {
  ring[ringPos] = x;
  ringPos = (ringPos + 1) & 1023;
}

function parsed(buf: Buffer): SipMessage {
  const m = parseMessage(buf);
  if (isParseError(m)) throw new Error(`fixture does not parse: ${m.toString()}`);
  return m;
}

/** (a) Junction: parse, then the four transaction-matching reads. */
function oursParseRead(buf: Buffer): number {
  const m = parseMessage(buf) as SipMessage;
  keep(m);
  return (m.topVia.branch as string).length + m.callId.length + m.cseq + (m.fromTag as string).length;
}

/** (a) npm `sip`: parses every header eagerly; takes a string. */
function sipParseRead(buf: Buffer): number {
  const m = sipJs.parse(buf.toString('binary')) as SipJsMessage;
  keep(m);
  const h = m.headers;
  return h.via[0].params.branch.length + h['call-id'].length + h.cseq.seq + h.from.params.tag.length;
}

const drachtioVia = drachtio.getParser('via');
const drachtioCSeq = drachtio.getParser('cseq');
const drachtioFrom = drachtio.getParser('from');

/** (a) drachtio-srf: lazy parse (header values kept as strings), then its parsers for the reads. */
function drachtioParseRead(buf: Buffer): number {
  const m = drachtio.parseSipMessage(buf.toString('utf8'), true) as DrachtioParsed;
  keep(m);
  const h = m.headers;
  const via = drachtioVia({ s: h.via, i: 0 }) as Array<{ params: { branch: string } }>;
  const cseq = drachtioCSeq({ s: h.cseq, i: 0 }) as { seq: number };
  const from = drachtioFrom({ s: h.from, i: 0 }) as { params: { tag: string } };
  return via[0].params.branch.length + h['call-id'].length + cseq.seq + from.params.tag.length;
}

/** (a') drachtio-srf with every header parsed eagerly (its non-lazy mode), for reference. */
function drachtioEagerParseRead(buf: Buffer): number {
  const m = drachtio.parseSipMessage(buf.toString('utf8'), false) as unknown as SipJsMessage;
  keep(m);
  const h = m.headers;
  return h.via[0].params.branch.length + h['call-id'].length + h.cseq.seq + h.from.params.tag.length;
}

/** (b) parse + validate() + every typed accessor + every header value. */
function oursFullDecode(buf: Buffer): number {
  const m = parseMessage(buf) as SipMessage;
  keep(m);
  let n = m.validate() === undefined ? 1 : 0;
  const all = [
    m.requestUri(),
    m.vias(),
    m.from(),
    m.to(),
    m.contacts(),
    m.routes(),
    m.recordRoutes(),
    m.paths(),
    m.expires(),
    m.minExpires(),
    m.authorization(),
    m.proxyAuthorization(),
    m.wwwAuthenticate(),
    m.proxyAuthenticate(),
    m.allow(),
    m.supported(),
    m.require(),
    m.proxyRequire(),
    m.event(),
    m.contentType(),
    m.referTo(),
    m.referredBy(),
    m.pAssertedIdentities(),
    m.userAgent,
  ];
  n += all.length;
  for (let i = 0; i < m.headerCount; i++) n += m.headerValue(i).length;
  return n;
}

const RR = '<sip:198.51.100.1;lr>';
const NEW_RURI = 'sip:bob@192.0.2.20:5060';

/** (c) A proxy's forwarding edits on a parsed INVITE, then the bytes to send. */
function oursForward(m: SipMessage): number {
  m.prependHeader('Record-Route', RR);
  m.prependHeader('Via', `SIP/2.0/UDP 198.51.100.1:5060;branch=${newBranch()}`);
  m.setMaxForwards(m.maxForwards - 1);
  m.removeFirstRoute();
  m.setRuri(NEW_RURI);
  const out = m.serialize();
  keep(out);
  return out.length;
}

// ------------------------------------------------------------------------------------------ sanity

function sanity(): void {
  if (FIXTURE.length !== 850) throw new Error(`fixture is ${FIXTURE.length} bytes, expected 850`);
  const m = parsed(FIXTURE);
  const v = m.validate();
  if (v !== undefined) throw new Error(`fixture does not validate: ${v.toString()}`);
  if (m.contentLength !== m.bodyLength || m.contentLength <= 0)
    throw new Error('fixture Content-Length is wrong');
  const expect =
    'z9hG4bK74bf9a1c'.length +
    'a84b4c76e66710@pc33.atlanta.example.com'.length +
    314159 +
    '1928301774'.length;
  for (const [name, fn] of [
    ['junction', oursParseRead],
    ['sip', sipParseRead],
    ['drachtio', drachtioParseRead],
    ['drachtio-eager', drachtioEagerParseRead],
  ] as const) {
    const got = fn(FIXTURE);
    if (got !== expect) throw new Error(`${name} read ${got}, expected ${expect}`);
  }
  const f = parsed(FIXTURE);
  oursForward(f);
  const out = parsed(f.serialize());
  const routes = out.routes();
  const rrs = out.recordRoutes();
  if (
    out.validate() !== undefined ||
    out.ruri !== NEW_RURI ||
    out.maxForwards !== 68 ||
    !out.topVia.branch?.startsWith('z9hG4bK') ||
    out.topVia.branch === m.topVia.branch ||
    isParseError(routes) ||
    routes.length !== 0 ||
    isParseError(rrs) ||
    rrs.length !== 1 ||
    !out.body.equals(m.body)
  ) {
    throw new Error('forwarding edits did not produce the expected message');
  }
}

// ------------------------------------------------------------------------------------------ timing

interface Workload {
  name: string;
  /** Runs `n` operations; returns the milliseconds they took (set-up excluded). */
  run(n: number): number;
  /** Operations per round, calibrated during warm-up. */
  n: number;
  samples: number[];
}

let checksum = 0;

function loop(fn: (b: Buffer) => number): (n: number) => number {
  return (n) => {
    let s = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) s += fn(FIXTURE);
    const ms = performance.now() - t0;
    checksum += s;
    return ms;
  };
}

/**
 * (c) edits need a fresh parsed message each: batches of FORWARD_BATCH are parsed untimed, then
 * edited and serialized timed. Small batches keep the messages young and in cache, as in a proxy
 * that forwards a request right after parsing it.
 */
const FORWARD_BATCH = 256;
const batch: SipMessage[] = new Array(FORWARD_BATCH);
function forwardRun(n: number): number {
  let ms = 0;
  let s = 0;
  for (let done = 0; done < n; done += FORWARD_BATCH) {
    const k = Math.min(FORWARD_BATCH, n - done);
    for (let i = 0; i < k; i++) batch[i] = parseMessage(FIXTURE) as SipMessage;
    const t0 = performance.now();
    for (let i = 0; i < k; i++) s += oursForward(batch[i]);
    ms += performance.now() - t0;
  }
  checksum += s;
  return ms;
}

const workloads: Workload[] = [
  { name: 'parse_read', run: loop(oursParseRead), n: 0, samples: [] },
  { name: 'sip', run: loop(sipParseRead), n: 0, samples: [] },
  { name: 'drachtio', run: loop(drachtioParseRead), n: 0, samples: [] },
  { name: 'drachtio_eager', run: loop(drachtioEagerParseRead), n: 0, samples: [] },
  { name: 'full_decode', run: loop(oursFullDecode), n: 0, samples: [] },
  { name: 'forward', run: forwardRun, n: 0, samples: [] },
];

function timeOnce(w: Workload, n: number): number {
  return w.run(n);
}

function calibrate(w: Workload): void {
  // Warm up (JIT tiers) and find how many operations fill a round.
  let n = 256;
  const end = performance.now() + WARMUP_MS;
  let ms = timeOnce(w, n);
  while (performance.now() < end || ms < 20) {
    if (ms < ROUND_MS / 4) n *= 2;
    ms = timeOnce(w, n);
  }
  w.n = Math.max(1000, Math.round((n * ROUND_MS) / ms));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 === 1 ? s[k] : (s[k - 1] + s[k]) / 2;
}

// ------------------------------------------------------------------------------------------ allocation

let gcEvents = 0;
const gcObserver = new PerformanceObserver((list) => {
  gcEvents += list.getEntries().length;
});
gcObserver.observe({ entryTypes: ['gc'] });

/** Let the observer deliver pending GC entries. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

/** Heap bytes of one batch of `n` calls, or undefined when a GC ran during it. */
async function batchBytes(fn: (b: Buffer) => number, n: number): Promise<number | undefined> {
  gc();
  await settle();
  const before = gcEvents;
  const h0 = process.memoryUsage().heapUsed;
  let s = 0;
  for (let i = 0; i < n; i++) s += fn(FIXTURE);
  const h1 = process.memoryUsage().heapUsed;
  checksum += s;
  await settle();
  return gcEvents === before ? h1 - h0 : undefined;
}

async function allocPerMessage(fn: (b: Buffer) => number): Promise<number> {
  const noop = (): number => 0;
  const results: number[] = [];
  let n = 512;
  for (let attempt = 0; attempt < 60 && results.length < 7; attempt++) {
    const bytes = await batchBytes(fn, n);
    const empty = await batchBytes(noop, n);
    if (bytes === undefined || empty === undefined) {
      n = Math.max(8, n >> 1); // a GC ran: smaller batch
      continue;
    }
    results.push((bytes - empty) / n);
  }
  if (results.length === 0) throw new Error('could not measure allocation without a GC in the batch');
  return median(results);
}

// ------------------------------------------------------------------------------------------ run

async function main(): Promise<void> {
  const started = performance.now();
  sanity();
  for (const w of workloads) calibrate(w);
  for (let r = 0; r < ROUNDS; r++) {
    // Interleaved, and the order rotates each round, so drift (thermal, other load) hits all alike.
    for (let k = 0; k < workloads.length; k++) {
      const w = workloads[(k + r) % workloads.length];
      const ms = timeOnce(w, w.n);
      w.samples.push((ms * 1000) / w.n);
    }
  }
  const us = (name: string): number => median((workloads.find((w) => w.name === name) as Workload).samples);
  const spread = (name: string): string => {
    const s = (workloads.find((w) => w.name === name) as Workload).samples;
    return `${Math.min(...s).toFixed(2)}–${Math.max(...s).toFixed(2)}`;
  };

  const alloc = {
    parse_read: await allocPerMessage(oursParseRead),
    sip: await allocPerMessage(sipParseRead),
    drachtio: await allocPerMessage(drachtioParseRead),
    full_decode: await allocPerMessage(oursFullDecode),
  };

  const parseRead = us('parse_read');
  const fullDecode = us('full_decode');
  const forward = us('forward');
  const sipUs = us('sip');
  const drUs = us('drachtio');
  const drEagerUs = us('drachtio_eager');
  const ratioSip = sipUs / parseRead;
  const ratioDr = drUs / parseRead;

  const f2 = (x: number): string => x.toFixed(2);
  const kb = (x: number): string => `${Math.round(x)} B`;
  const rows: Array<[string, string, string, string, string]> = [
    [
      'junction  parse + read 4 fields (a)',
      f2(parseRead),
      spread('parse_read'),
      kb(alloc.parse_read),
      '1.00',
    ],
    ['npm sip 0.0.6  sip.parse(latin1 string)', f2(sipUs), spread('sip'), kb(alloc.sip), f2(ratioSip)],
    [
      'drachtio-srf  lazy parse + 3 header parsers',
      f2(drUs),
      spread('drachtio'),
      kb(alloc.drachtio),
      f2(ratioDr),
    ],
    [
      'drachtio-srf  eager parse (all headers)',
      f2(drEagerUs),
      spread('drachtio_eager'),
      '',
      f2(drEagerUs / parseRead),
    ],
    [
      'junction  full decode (b): parse + validate + all',
      f2(fullDecode),
      spread('full_decode'),
      kb(alloc.full_decode),
      '',
    ],
    ['junction  forwarding edits + serialize (c)', f2(forward), spread('forward'), '', ''],
  ];
  console.log(
    `Parser benchmark: ${FIXTURE.length}-byte INVITE with SDP (bench/fixtures/invite-850.sip), Node ${process.version}`,
  );
  console.log(
    `median of ${ROUNDS} interleaved rounds of ~${ROUND_MS} ms; alloc = JS heap bytes per message (see header comment)`,
  );
  console.log('ratio = peer µs / junction µs for parse + read (> 1: junction is faster)\n');
  const head: [string, string, string, string, string] = [
    'workload',
    'µs/msg',
    'min–max',
    'alloc/msg',
    'ratio',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log(
    `\nfull decode adds ${f2(fullDecode - parseRead)} µs over parse + read; targets: parse + read ≤ 3 µs ${parseRead <= 3 ? 'met' : 'MISSED'}, edits + serialize ≤ 3 µs ${forward <= 3 ? 'met' : 'MISSED'}, ≥ 3× both peers ${ratioSip >= 3 && ratioDr >= 3 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `(run took ${((performance.now() - started) / 1000).toFixed(1)} s; checksum ${checksum % 1000})`,
  );
  gcObserver.disconnect();
  console.log(
    JSON.stringify({
      parse_read_us: Number(f2(parseRead)),
      full_decode_us: Number(f2(fullDecode)),
      edit_serialize_us: Number(f2(forward)),
      alloc_bytes_per_msg: Math.round(alloc.parse_read),
      ratio_vs_sip: Number(f2(ratioSip)),
      ratio_vs_drachtio: Number(f2(ratioDr)),
    }),
  );
}

await main();
