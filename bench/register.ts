/**
 * `npm run bench:register` — REGISTER throughput and CPU per REGISTER: Junction (memory and SQLite
 * location, with and without digest) side by side with Kamailio 5.6
 * (../shared/bench/kamailio/registrar.cfg: usrloc in memory, no auth) as shipped (`-m 256`) and
 * tuned (`-x fm -m 1024`), one server at a time on a free loopback UDP port, same load, same run.
 *
 * Load: an in-process UDP REGISTER generator (not SIPp, so digest costs only the generator's
 * hashes): a fixed rate, one new Call-ID per registration, RFC 3261 retransmissions (500 ms
 * doubling, give up after 4 s = a failure). Without digest every registration is a new AOR
 * (u000000001 …, as ../shared/bench/scenarios/register.xml); with digest a pool of subscribers
 * (added through the `subscriber_add` management command) is cycled: REGISTER → 401 →
 * REGISTER with Authorization (qop=auth) → 200, i.e. two REGISTER transactions per registration.
 *
 * Figures per server:
 * - CPU ms per REGISTER at 500 registrations/s (utime+stime of the server's processes from
 *   /proc over the run, divided by the registrations completed);
 * - max sustained registrations/s: ladder 500 … 16,000, 4 s steps (--quick: 2 s), pass = failures
 *   < 0.1 % and achieved ≥ 95 % of the target; the first failing rung ends the ladder.
 *
 * Options: --quick, --only junction|kamailio|all|ID[,ID…] (ids: junction-memory, junction-sqlite,
 * junction-memory-digest, junction-sqlite-digest, kamailio-shipped, kamailio-tuned), --seconds N (fixed-rate run length),
 * --port-offset N (fixed ports: server 5060+N, generator 5070+N, management 8888+N; the machine
 * is shared, so another benchmark may hold the defaults; without it, free ports are picked),
 * --cpu-prof DIR (Junction runs under node --cpu-prof, one .cpuprofile per server in DIR),
 * --trace-gc DIR (Junction runs with --trace-gc; its stdout goes to DIR/<server>.gc.log: the live
 * heap after each collection),
 * --skip-ladder (the fixed-rate CPU run only), --fill N (after the warm-up, N registrations at
 * 5000/s: without digest, N distinct AORs held while the rest runs; the memory column shows what
 * they cost; PSS is then measured after 35 s idle, once the REGISTER transactions are gone),
 * --warmup N (registrations before measuring, at up to 2500/s; default 5000).
 * The last line printed is one JSON object.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { waitPorts } from './sipbench/ports.ts';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const SHARED = process.env.JUNCTION_SHARED ?? resolve(REPO, '../shared');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const LADDER = [500, 1000, 2000, 3000, 4000, 6000, 8000, 10000, 12000, 16000];
const FAIL_MAX = 0.001;

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: 'all' },
    seconds: { type: 'string' },
    'port-offset': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'trace-gc': { type: 'string' },
    'skip-ladder': { type: 'boolean', default: false },
    fill: { type: 'string' },
    warmup: { type: 'string' },
  },
});
const QUICK = opts.quick === true;
const FIXED_S = Number(opts.seconds ?? (QUICK ? 3 : 6));
const STEP_S = QUICK ? 2 : 4;
const POOL = 2000;
const PORT_OFFSET = opts['port-offset'] === undefined ? undefined : Number(opts['port-offset']);
if (PORT_OFFSET !== undefined && (!Number.isInteger(PORT_OFFSET) || PORT_OFFSET < 0)) {
  console.error(`--port-offset: expected an integer ≥ 0, got ${JSON.stringify(opts['port-offset'])}`);
  process.exit(2);
}
const CPU_PROF = opts['cpu-prof'] === undefined ? undefined : resolve(opts['cpu-prof']);
const SKIP_LADDER = opts['skip-ladder'] === true;
const TRACE_GC = opts['trace-gc'] === undefined ? undefined : resolve(opts['trace-gc']);
const FILL = Number(opts.fill ?? 0);
const WARMUP = Number(opts.warmup ?? 5000);
if (!Number.isInteger(WARMUP) || WARMUP < 0) {
  console.error(`--warmup: expected an integer ≥ 0, got ${JSON.stringify(opts.warmup)}`);
  process.exit(2);
}
if (!Number.isInteger(FILL) || FILL < 0) {
  console.error(`--fill: expected an integer ≥ 0, got ${JSON.stringify(opts.fill)}`);
  process.exit(2);
}

// ------------------------------------------------------------------ processes

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const l = children.get(ppid);
      if (l === undefined) children.set(ppid, [Number(d)]);
      else l.push(Number(d));
    } catch {
      // gone
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return (ticks * 1000) / CLK_TCK;
}

/** The server's, the generator's and the management ports: fixed with --port-offset, else free ones. */
async function serverPort(): Promise<number> {
  if (PORT_OFFSET === undefined) return freePort();
  const port = 5060 + PORT_OFFSET;
  await waitPorts([port], 60_000, (m) => process.stderr.write(`${m}\n`));
  return port;
}

function generatorPort(): number {
  return PORT_OFFSET === undefined ? 0 : 5070 + PORT_OFFSET;
}

async function miPortOf(): Promise<number> {
  return PORT_OFFSET === undefined ? freePort() : 8888 + PORT_OFFSET;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Server {
  label: string;
  port: number;
  digest: boolean;
  child: ChildProcess;
  pids(): number[];
  stop(): Promise<void>;
}

async function waitUdp(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20000;
  for (;;) {
    const probe = createSocket('udp4');
    const bound = await new Promise<boolean>((ok) => {
      probe.once('error', () => ok(true));
      probe.bind(port, '127.0.0.1', () => ok(false));
    });
    probe.close();
    if (bound) return;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${log()}`);
    await sleep(100);
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) return ok();
    const t = setTimeout(() => child.kill('SIGKILL'), 8000);
    child.once('exit', () => {
      clearTimeout(t);
      ok();
    });
    child.kill('SIGTERM');
  });
}

async function startJunction(
  label: string,
  storage: 'memory' | 'sqlite',
  digest: boolean,
  dir: string,
): Promise<Server> {
  const port = await serverPort();
  const miPort = await miPortOf();
  const cfg = join(dir, `${label.replace(/\W+/g, '_')}.yaml`);
  writeFileSync(
    cfg,
    [
      `listen: [udp:127.0.0.1:${port}]`,
      `storage: ${storage === 'memory' ? 'memory' : `sqlite:${join(dir, `${label.replace(/\W+/g, '_')}.db`)}`}`,
      `mi: { http: 127.0.0.1:${miPort}, fifo: false }`,
      'log_level: warn',
      'modules:',
      '  registrar: { max_contacts: 10 }',
      '',
    ].join('\n'),
  );
  let out = '';
  const prof = CPU_PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`];
  const gc = TRACE_GC === undefined ? [] : ['--trace-gc'];
  const child = spawn(
    process.execPath,
    [...prof, ...gc, join(REPO, 'src/cli/junction.ts'), 'start', '-c', cfg],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (TRACE_GC !== undefined) {
    const log = createWriteStream(join(TRACE_GC, `${label.replace(/\W+/g, '_')}.gc.log`));
    child.stdout?.pipe(log);
  } else
    child.stdout?.on('data', (d: Buffer) => {
      if (out.length < 20000) out += d.toString();
    });
  child.stderr?.on('data', (d: Buffer) => {
    if (out.length < 20000) out += d.toString();
  });
  try {
    await waitUdp(port, child, () => out);
    if (digest) await addSubscribers(miPort);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return { label, port, digest, child, pids: () => [child.pid ?? 0], stop: () => stopChild(child) };
}

async function addSubscribers(miPort: number): Promise<void> {
  // The management interface comes up after the SIP listeners.
  for (let i = 0; ; i++) {
    try {
      await fetch(`http://127.0.0.1:${miPort}/mi`, {
        method: 'POST',
        body: '{"jsonrpc":"2.0","id":1,"method":"ul_stats"}',
      });
      break;
    } catch (e) {
      if (i > 100) throw e;
      await sleep(100);
    }
  }
  // Subscribers through the management interface, 50 at a time.
  for (let i = 0; i < POOL; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, POOL - i) }, (_, k) =>
        fetch(`http://127.0.0.1:${miPort}/mi`, {
          method: 'POST',
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'subscriber_add',
            params: [user(i + k), '127.0.0.1', `pw${i + k}`],
          }),
        }).then((r) => r.text()),
      ),
    );
  }
}

async function startKamailio(label: string, tuned: boolean, dir: string): Promise<Server> {
  const port = await serverPort();
  const src = readFileSync(join(SHARED, 'bench/kamailio/registrar.cfg'), 'utf8');
  const cfg = join(dir, `${label.replace(/\W+/g, '_')}.cfg`);
  writeFileSync(cfg, src.replaceAll('127.0.0.1:5060', `127.0.0.1:${port}`));
  const ctl = join(dir, `${label.replace(/\W+/g, '_')}.ctl`);
  const args = [
    '-f',
    cfg,
    '-A',
    'KCHILDREN=2',
    '-A',
    `CTLSOCK="unix:${ctl}"`,
    '-DD',
    '-E',
    '-m',
    tuned ? '1024' : '256',
    '-M',
    '32',
  ];
  if (tuned) args.push('-x', 'fm');
  let out = '';
  const child = spawn('kamailio', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => {
    if (out.length < 20000) out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    if (out.length < 20000) out += d.toString();
  });
  await waitUdp(port, child, () => out);
  await sleep(500);
  return {
    label,
    port,
    digest: false,
    child,
    pids: () => descendants(child.pid ?? 0),
    stop: () => stopChild(child),
  };
}

// ------------------------------------------------------------------ load generator

function user(i: number): string {
  return `u${String(i).padStart(9, '0')}`;
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

interface Pending {
  idx: number;
  aor: string;
  password: string;
  cseq: number;
  data: Buffer;
  sentAt: number;
  interval: number;
  startedAt: number;
}

interface RunResult {
  rate: number;
  attempted: number;
  ok: number;
  failed: number;
  retrans: number;
  achieved: number;
  cpuMs: number;
  cpuPerReg: number;
  p50: number;
  p99: number;
}

let aorCounter = 1;

async function run(server: Server, rate: number, seconds: number): Promise<RunResult> {
  const sock: Socket = createSocket('udp4');
  if (PORT_OFFSET !== undefined)
    await waitPorts([generatorPort()], 60_000, (m) => process.stderr.write(`${m}\n`));
  await new Promise<void>((ok) => sock.bind(generatorPort(), '127.0.0.1', () => ok()));
  sock.setRecvBufferSize(8 * 1024 * 1024);
  sock.setSendBufferSize(8 * 1024 * 1024);
  const localPort = sock.address().port;
  const pending = new Map<string, Pending>();
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let retrans = 0;
  let attempted = 0;
  const tag = Math.random().toString(36).slice(2, 8);

  const build = (p: Pending, callId: string, auth?: string): Buffer => {
    const lines = [
      `REGISTER sip:127.0.0.1:${server.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK-${tag}-${p.idx}-${p.cseq}`,
      'Max-Forwards: 70',
      `From: <sip:${p.aor}@127.0.0.1>;tag=${tag}`,
      `To: <sip:${p.aor}@127.0.0.1>`,
      `Call-ID: ${callId}`,
      `CSeq: ${p.cseq} REGISTER`,
      `Contact: <sip:${p.aor}@127.0.0.1:${localPort};transport=udp>`,
      'Expires: 3600',
      'User-Agent: junction-bench',
    ];
    if (auth !== undefined) lines.push(auth);
    lines.push('Content-Length: 0', '', '');
    return Buffer.from(lines.join('\r\n'));
  };

  const send = (p: Pending): void => {
    sock.send(p.data, server.port, '127.0.0.1');
  };

  sock.on('message', (buf) => {
    const text = buf.toString('latin1');
    const status = Number(text.slice(8, 11));
    const m = /\r\nCall-ID:\s*([^\r]+)/i.exec(text);
    if (m === null) return;
    const callId = m[1].trim();
    const p = pending.get(callId);
    if (p === undefined) return;
    const cseq = Number(/\r\nCSeq:\s*(\d+)/i.exec(text)?.[1] ?? '0');
    if (cseq !== p.cseq) return;
    if (status === 200) {
      pending.delete(callId);
      ok++;
      latencies.push(performance.now() - p.startedAt);
      return;
    }
    if (status === 401 && server.digest && p.cseq === 1) {
      const ch = /WWW-Authenticate:\s*Digest ([^\r]+)/i.exec(text)?.[1] ?? '';
      const realm = /realm="([^"]*)"/.exec(ch)?.[1] ?? '';
      const nonce = /nonce="([^"]*)"/.exec(ch)?.[1] ?? '';
      const uri = `sip:127.0.0.1:${server.port}`;
      const ha1 = md5(`${p.aor}:${realm}:${p.password}`);
      const ha2 = md5(`REGISTER:${uri}`);
      const cnonce = 'c0ffee';
      const resp = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${ha2}`);
      p.cseq = 2;
      p.data = build(
        p,
        callId,
        `Authorization: Digest username="${p.aor}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${resp}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"`,
      );
      p.sentAt = performance.now();
      p.interval = 500;
      send(p);
      return;
    }
    if (status >= 300) {
      pending.delete(callId);
      failed++;
    }
  });

  const cpu0 = cpuMs(server.pids());
  const t0 = performance.now();
  const total = Math.round(rate * seconds);
  let poolIdx = 0;
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * rate));
      while (attempted < due) {
        const idx = attempted++;
        let aor: string;
        let password = '';
        if (server.digest) {
          const k = poolIdx++ % POOL;
          aor = user(k);
          password = `pw${k}`;
        } else aor = user(aorCounter++);
        const callId = `${tag}-${idx}@bench`;
        const p: Pending = {
          idx,
          aor,
          password,
          cseq: 1,
          data: Buffer.alloc(0),
          sentAt: now,
          interval: 500,
          startedAt: now,
        };
        p.data = build(p, callId);
        pending.set(callId, p);
        send(p);
      }
      // Retransmissions and timeouts.
      for (const [id, p] of pending) {
        if (now - p.startedAt > 4000 + 500) {
          pending.delete(id);
          failed++;
        } else if (now - p.sentAt >= p.interval) {
          p.sentAt = now;
          p.interval = Math.min(p.interval * 2, 4000);
          retrans++;
          send(p);
        }
      }
      if (attempted >= total && (pending.size === 0 || now - t0 > seconds * 1000 + 5000)) {
        clearInterval(tick);
        for (const _ of pending) failed++;
        done();
      }
    }, 2);
  });
  const wallS = (performance.now() - t0) / 1000;
  const cpu = cpuMs(server.pids()) - cpu0;
  sock.close();
  latencies.sort((a, b) => a - b);
  const pct = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    rate,
    attempted,
    ok,
    failed,
    retrans,
    achieved: ok / Math.max(seconds, wallS - 0.001 > seconds ? seconds : wallS),
    cpuMs: cpu,
    cpuPerReg: ok > 0 ? cpu / ok : 0,
    p50: pct(0.5),
    p99: pct(0.99),
  };
}

// ------------------------------------------------------------------ main

interface Row {
  label: string;
  /** Proportional set size of the server's processes at the end (MB), and registrations done. */
  pssMb: number;
  registrations: number;
  cpuPerReg: number;
  fixed: RunResult;
  maxRate: number;
  ladder: Array<{ rate: number; pass: boolean; failed: number; achieved: number }>;
}

/**
 * Proportional set size (MB) of the processes: shared pages (Kamailio's shm) divided among the
 * processes sharing them, so a sum over Kamailio's children counts its shm once.
 */
function pssMb(pids: readonly number[]): number {
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /\nPss:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'latin1'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

async function measure(server: Server): Promise<Row> {
  let registrations = 0;
  const counted = async (rate: number, seconds: number): Promise<RunResult> => {
    const r = await run(server, rate, seconds);
    registrations += r.ok;
    return r;
  };
  // Warm-up (JIT: a few thousand REGISTERs before V8 settles on optimized code; Kamailio gets the
  // same), then --fill (distinct AORs at 5000/s), the fixed-rate run, the ladder.
  if (WARMUP > 0) await counted(Math.min(2500, WARMUP), WARMUP / Math.min(2500, WARMUP));
  if (FILL > 0) {
    const f = await counted(5000, FILL / 5000);
    process.stderr.write(`  fill: ${f.ok} registered, ${f.failed} failed\n`);
  }
  const fixed = await counted(500, FIXED_S);
  const ladder: Row['ladder'] = [];
  let maxRate = 0;
  for (const rate of SKIP_LADDER ? [] : LADDER) {
    const r = await counted(rate, STEP_S);
    const pass = r.failed / Math.max(1, r.attempted) < FAIL_MAX && r.ok >= 0.95 * rate * STEP_S;
    ladder.push({ rate, pass, failed: r.failed, achieved: Math.round(r.ok / STEP_S) });
    if (!pass) break;
    maxRate = rate;
    await sleep(300);
  }
  await sleep(500);
  let pss = pssMb(server.pids());
  if (FILL > 0) {
    // Junction keeps each REGISTER's transaction for Timer J (32 s on UDP): measure once they are gone.
    process.stderr.write(`  PSS ${pss.toFixed(1)} MB right after the load; again after 35 s idle …\n`);
    await sleep(35_000);
    pss = pssMb(server.pids());
  }
  return {
    label: server.label,
    pssMb: pss,
    registrations,
    cpuPerReg: fixed.cpuPerReg,
    fixed,
    maxRate,
    ladder,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-register-'));
  const rows: Row[] = [];
  // --only: junction, kamailio, all, or a comma-separated list of server ids.
  const only = String(opts.only).split(',');
  const all: Array<{ id: string; kind: string; start: () => Promise<Server> }> = [];
  for (const digest of [false, true])
    for (const storage of ['memory', 'sqlite'] as const) {
      const label = `Junction ${storage === 'memory' ? 'memory' : 'SQLite'}${digest ? ' + digest' : ''}`;
      const id = `junction-${storage}${digest ? '-digest' : ''}`;
      all.push({ id, kind: 'junction', start: () => startJunction(label, storage, digest, dir) });
    }
  if (existsSync(join(SHARED, 'bench/kamailio/registrar.cfg')))
    for (const tuned of [false, true]) {
      const label = tuned ? 'Kamailio tuned (-x fm -m 1024)' : 'Kamailio shipped';
      const id = tuned ? 'kamailio-tuned' : 'kamailio-shipped';
      all.push({ id, kind: 'kamailio', start: () => startKamailio(label, tuned, dir) });
    }
  const targets = all
    .filter((t) => only.includes('all') || only.includes(t.kind) || only.includes(t.id))
    .map((t) => t.start);
  if (targets.length === 0) {
    console.error(`--only: expected junction, kamailio, all or ids among ${all.map((t) => t.id).join(', ')}`);
    process.exit(2);
  }
  try {
    for (const start of targets) {
      const server = await start();
      try {
        process.stderr.write(`${server.label} …\n`);
        rows.push(await measure(server));
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pad = (s: string, n: number): string => s.padEnd(n);
  console.log(
    `\nREGISTER benchmark (loopback UDP; 500/s for ${FIXED_S} s; ladder steps ${STEP_S} s; pass: failures < 0.1 %, ≥ 95 % of target)\n`,
  );
  console.log(
    `${pad('server', 34)}${pad('CPU ms/REGISTER @500/s', 24)}${pad('max reg/s', 11)}${pad('p50/p99 ms @500', 17)}${pad('failed@500', 12)}${pad('registrations', 15)}PSS MB`,
  );
  for (const r of rows) {
    console.log(
      `${pad(r.label, 34)}${pad(r.cpuPerReg.toFixed(3), 24)}${pad(String(r.maxRate), 11)}${pad(`${r.fixed.p50.toFixed(2)}/${r.fixed.p99.toFixed(2)}`, 17)}${pad(String(r.fixed.failed), 12)}${pad(String(r.registrations), 15)}${r.pssMb.toFixed(1)}`,
    );
  }
  console.log('\n(digest rows: one registration = REGISTER → 401 → REGISTER → 200; CPU is per registration)');
  for (const r of rows)
    console.log(
      `${r.label}: ladder ${r.ladder.map((s) => `${s.rate}${s.pass ? '✓' : `✗(${s.failed} failed, ${s.achieved}/s)`}`).join(' ')}`,
    );
  console.log(
    JSON.stringify({
      bench: 'register',
      quick: QUICK,
      results: rows.map((r) => ({
        server: r.label,
        cpu_ms_per_register_at_500: Number(r.cpuPerReg.toFixed(4)),
        max_registers_per_s: r.maxRate,
        failed_at_500: r.fixed.failed,
        p50_ms: Number(r.fixed.p50.toFixed(3)),
        p99_ms: Number(r.fixed.p99.toFixed(3)),
        registrations: r.registrations,
        pss_mb: Number(r.pssMb.toFixed(1)),
      })),
    }),
  );
}

await main();
