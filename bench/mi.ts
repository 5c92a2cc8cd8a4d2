/**
 * `npm run bench:mi` — management requests/s against a real server (bin/junction start, its own
 * temp config, loopback), one transport at a time, for a fixed duration each:
 * - HTTP: JSON-RPC `POST /mi` over keep-alive connections, `--concurrency` requests in flight;
 * - FIFO JSON: OpenSIPS framing `:reply:{json}`, one reply FIFO per worker made once and reused
 *   (a real client's mkfifo per request is left out: it measures the client, not the server);
 * - FIFO text: the SER protocol (`:uptime:reply` + empty line), same workers.
 * Commands: `uptime` (cheap) and `get_statistics all` (every counter, ~60 values).
 *
 * Options: --seconds N (default 3 per run), --concurrency N (HTTP, default 16), --workers N (FIFO,
 * default 4: one blocking reply-FIFO open each on libuv's pool). The last line is one JSON object.
 */
import { execFileSync, spawn } from 'node:child_process';
import { constants, mkdtempSync, open, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { Agent } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { httpCall } from '../src/mi/client.ts';

const openP = promisify(open);
const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
    workers: { type: 'string', default: '4' },
  },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const WORKERS = Number(values.workers);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });
}

interface Run {
  transport: string;
  command: string;
  requests: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function summarize(transport: string, command: string, lat: number[], errors: number, ms: number): Run {
  lat.sort((a, b) => a - b);
  const q = (p: number): number =>
    Number((lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0).toFixed(3));
  return {
    transport,
    command,
    requests: lat.length,
    errors,
    perSecond: Math.round((lat.length / ms) * 1000),
    p50Ms: q(0.5),
    p99Ms: q(0.99),
  };
}

async function benchHttp(url: string, method: string, params: unknown): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) });
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        try {
          const r = await httpCall(url, body, { agent });
          if (r.status !== 200 || r.text.includes('"error"')) errors++;
          else lat.push(performance.now() - s);
        } catch {
          errors++;
        }
      }
    }),
  );
  agent.destroy();
  return summarize('http', method, lat, errors, performance.now() - t0);
}

async function benchFifo(
  fifo: string,
  replyDir: string,
  kind: 'json' | 'text',
  method: string,
  params: string[],
): Promise<Run> {
  const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      const name = `bench_${process.pid}_${kind}_${w}`;
      const path = join(replyDir, name);
      rmSync(path, { force: true });
      execFileSync('mkfifo', ['-m', '600', path]);
      const req =
        kind === 'json'
          ? `:${name}:${JSON.stringify({ jsonrpc: '2.0', id: w, method, params })}\n`
          : `:${method}:${name}\n${params.map((p) => `${p}\n`).join('')}\n`;
      while (performance.now() < end) {
        const s = performance.now();
        const reading = openP(path, constants.O_RDONLY);
        writeSync(writer, req); // < PIPE_BUF: atomic
        const fd = await reading;
        const text = await new Promise<string>((ok) => {
          const sock = new Socket({ fd, readable: true, writable: false });
          let buf = '';
          sock.on('data', (c: Buffer) => {
            buf += c.toString();
          });
          sock.once('end', () => {
            sock.destroy();
            ok(buf);
          });
          sock.once('error', () => ok(buf));
        });
        const good = kind === 'json' ? text.includes('"result"') : text.startsWith('200 ');
        if (good) lat.push(performance.now() - s);
        else errors++;
      }
      rmSync(path, { force: true });
    }),
  );
  (await import('node:fs')).closeSync(writer);
  return summarize(`fifo-${kind}`, method, lat, errors, performance.now() - t0);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'junction-bench-mi-'));
  const port = await freePort();
  const http = await freePort();
  const fifo = join(dir, 'junction_fifo');
  const cfg = join(dir, 'junction.yaml');
  writeFileSync(
    cfg,
    [
      `listen: [udp:127.0.0.1:${port}]`,
      `script: ${join(REPO, 'routes/default.ts')}`,
      'log_level: warn',
      'storage: memory',
      'mi:',
      `  http: 127.0.0.1:${http}`,
      `  fifo: ${fifo}`,
      `  fifo_reply_dir: ${dir}`,
    ].join('\n'),
  );
  const child = spawn(join(REPO, 'bin/junction'), ['start', '-c', cfg], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const url = `http://127.0.0.1:${http}/mi`;
  const runs: Run[] = [];
  try {
    for (let i = 0; ; i++) {
      try {
        await httpCall(url, '{"jsonrpc":"2.0","id":1,"method":"uptime"}', { timeoutMs: 500 });
        break;
      } catch {
        if (i > 100 || child.exitCode !== null) throw new Error(`server did not start: ${err}`);
        await sleep(100);
      }
    }
    runs.push(await benchHttp(url, 'uptime', undefined));
    runs.push(await benchHttp(url, 'get_statistics', ['all']));
    runs.push(await benchFifo(fifo, dir, 'json', 'uptime', []));
    runs.push(await benchFifo(fifo, dir, 'json', 'get_statistics', ['all']));
    runs.push(await benchFifo(fifo, dir, 'text', 'uptime', []));
  } finally {
    child.kill('SIGTERM');
    await new Promise((ok) => child.once('exit', ok));
    rmSync(dir, { recursive: true, force: true });
  }
  const w = (s: string | number, n: number): string => String(s).padStart(n);
  console.log(
    `management requests/s, ${SECONDS} s per run (HTTP ${CONCURRENCY} in flight, FIFO ${WORKERS} workers)`,
  );
  console.log(
    `${'transport'.padEnd(10)} ${'command'.padEnd(16)} ${w('req/s', 8)} ${w('p50 ms', 8)} ${w('p99 ms', 8)} ${w('errors', 7)}`,
  );
  for (const r of runs) {
    console.log(
      `${r.transport.padEnd(10)} ${r.command.padEnd(16)} ${w(r.perSecond, 8)} ${w(r.p50Ms, 8)} ${w(r.p99Ms, 8)} ${w(r.errors, 7)}`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'mi',
      seconds: SECONDS,
      http_rps: runs[0]!.perSecond,
      http_stats_rps: runs[1]!.perSecond,
      fifo_json_rps: runs[2]!.perSecond,
      fifo_json_stats_rps: runs[3]!.perSecond,
      fifo_text_rps: runs[4]!.perSecond,
      runs,
    }),
  );
}

await main();
