/**
 * `node bench/hook_client.ts` — CPU per request of the HTTP hook client, and of the ways undici
 * (and, for comparison only, a bare node:net HTTP/1.1 client) can make it, against
 * ../shared/bench/hook-server.js on loopback. Two regimes:
 *   hot     requests back to back (1 or 8 in flight): the client's code stays in cache
 *   paced   one request every 1000/rate ms, the process sleeping in between — a proxy at that
 *           call rate; a no-op "request" (a setImmediate) gives the pacing loop's own cost,
 *           which the `net` figures subtract
 * Each variant runs `--rounds` times interleaved with the others; medians are reported.
 *
 * Options: --requests N (per round, default 5000), --rounds N (default 3), --rate N (paced,
 * default 500), --port N (hook server, default 9233). Last line: one JSON object.
 */
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, type Dispatcher, Pool } from 'undici';
import { encodeRequest } from '../src/modules/extscript/contract.ts';
import { HttpHook } from '../src/modules/extscript/http_hook.ts';
import { killAllSync, startTracked, stopTracked } from './sipbench/procs.ts';

const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string' },
    rounds: { type: 'string' },
    rate: { type: 'string' },
    port: { type: 'string' },
  },
  strict: true,
});
const N = Number(opts.requests ?? 5000);
const ROUNDS = Number(opts.rounds ?? 3);
const RATE = Number(opts.rate ?? 500);
const PORT = Number(opts.port ?? 9233);
const ORIGIN = `http://127.0.0.1:${PORT}`;
const BODY = encodeRequest({ cp_id: 1, user_id: 1, src: '37000000000', dst: '061234567' });
const HEADERS = { 'content-type': 'application/json' };
const shared = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/bench');
process.on('exit', () => killAllSync());

type Call = () => Promise<unknown>;

/** CPU ms per request, `n` requests with `inFlight` at a time. */
async function hot(call: Call, n: number, inFlight: number): Promise<number> {
  let next = 0;
  const c0 = process.cpuUsage();
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n / 1000;
}

/** CPU ms per request, one request every 1000/rate ms. */
async function paced(call: Call, n: number, rate: number): Promise<number> {
  const c0 = process.cpuUsage();
  let sent = 0;
  let done = 0;
  await new Promise<void>((finish) => {
    const t0 = performance.now();
    const tick = (): void => {
      const due = Math.min(n, Math.floor(((performance.now() - t0) * rate) / 1000));
      while (sent < due) {
        sent++;
        void call().then(() => {
          if (++done === n) finish();
        });
      }
      if (sent < n) setTimeout(tick, 1);
    };
    tick();
  });
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n / 1000;
}

/** The HTTP hook as it was: request(), the body as a stream, a timer per call. */
function requestStreamTimer(pool: Pool): Call {
  return () =>
    new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error('timeout')), 900);
      pool.request({ path: '/', method: 'POST', body: BODY, headers: HEADERS, headersTimeout: 900 }).then(
        (res) => {
          let text = '';
          res.body.setEncoding('utf8');
          res.body.on('data', (c: string) => {
            text += c;
          });
          res.body.on('end', () => {
            clearTimeout(timer);
            done(text);
          });
        },
        (e: Error) => {
          clearTimeout(timer);
          fail(e);
        },
      );
    });
}

/** undici dispatch with a minimal handler (no timeout). */
function dispatchMinimal(d: Dispatcher): Call {
  return () =>
    new Promise<string>((done, fail) => {
      let text = '';
      d.dispatch(
        { path: '/', method: 'POST', body: BODY, headers: HEADERS },
        {
          onRequestStart() {},
          onResponseStart() {},
          onResponseData(_c, chunk: Buffer) {
            text += chunk.toString('utf8');
          },
          onResponseEnd() {
            done(text);
          },
          onResponseError(_c, e) {
            fail(e);
          },
        },
      );
    });
}

/**
 * Comparison only: the least an HTTP/1.1 keep-alive client can do (one connection, one write
 * per request, Content-Length replies only, no error handling).
 */
function bareNet(): { call: Call; close: () => void } {
  const s = connect(PORT, '127.0.0.1');
  s.setNoDelay(true);
  s.setEncoding('latin1');
  const waiting: ((t: string) => void)[] = [];
  let buf = '';
  s.on('data', (d: string) => {
    buf += d;
    for (;;) {
      const h = buf.indexOf('\r\n\r\n');
      if (h < 0) return;
      const at = buf.toLowerCase().indexOf('content-length:');
      const len = at < 0 || at > h ? 0 : Number.parseInt(buf.slice(at + 15, buf.indexOf('\r\n', at)), 10);
      if (buf.length < h + 4 + len) return;
      const body = buf.slice(h + 4, h + 4 + len);
      buf = buf.slice(h + 4 + len);
      waiting.shift()?.(body);
    }
  });
  const head = `POST / HTTP/1.1\r\nhost: 127.0.0.1:${PORT}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n`;
  return {
    call: () =>
      new Promise<string>((done) => {
        waiting.push(done);
        s.write(head + BODY, 'latin1');
      }),
    close: () => s.destroy(),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function main(): Promise<void> {
  const server = startTracked('hook-server', process.execPath, [join(shared, 'hook-server.js')], {
    env: { ...process.env, HOOK_PORT: String(PORT), HOOK_MAX_SECONDS: '600' },
    stdio: 'ignore',
    watchdog: true,
  });
  const hook = new HttpHook();
  const pool = new Pool(ORIGIN, { connections: 128, pipelining: 1 });
  const poolB = new Pool(ORIGIN, { connections: 128, pipelining: 1 });
  const client = new Client(ORIGIN, { pipelining: 1 });
  let bare: ReturnType<typeof bareNet> | undefined;
  try {
    for (let i = 0; i < 100; i++) {
      if ((await hook.call(`${ORIGIN}/`, BODY, 500)).kind === 'ok') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    bare = bareNet();
    const variants: Record<string, Call> = {
      'no-op (pacing baseline)': () => new Promise((r) => setImmediate(r)),
      'request()+stream+timer (before)': requestStreamTimer(pool),
      'HttpHook (dispatch+deadlines)': async () => {
        const o = await hook.call(`${ORIGIN}/`, BODY, 900);
        if (o.kind !== 'ok') throw new Error(JSON.stringify(o));
      },
      'Pool.request + body.text()': async () => {
        const r = await poolB.request({ path: '/', method: 'POST', body: BODY, headers: HEADERS });
        return r.body.text();
      },
      'Pool.dispatch, minimal handler': dispatchMinimal(poolB),
      'Client.dispatch, minimal handler': dispatchMinimal(client),
      'node:net bare (comparison)': bare.call,
    };
    const modes: [string, (c: Call) => Promise<number>][] = [
      ['hot1', (c) => hot(c, N, 1)],
      ['hot8', (c) => hot(c, N, 8)],
      [`paced${RATE}`, (c) => paced(c, Math.min(N, RATE * 6), RATE)],
    ];
    const results: Record<string, Record<string, number[]>> = {};
    for (const call of Object.values(variants)) for (let i = 0; i < 300; i++) await call();
    for (let r = 0; r < ROUNDS; r++)
      for (const [mode, run] of modes)
        for (const [k, call] of Object.entries(variants)) {
          // One connection (Client, bare) cannot take 8 in flight without pipelining.
          if (mode === 'hot8' && (k.startsWith('Client') || k.startsWith('node:net'))) continue;
          if (mode.startsWith('hot') && k.startsWith('no-op')) continue;
          const byMode = results[k] ?? {};
          results[k] = byMode;
          const xs = byMode[mode] ?? [];
          byMode[mode] = xs;
          xs.push(await run(call));
        }
    const base = median(results['no-op (pacing baseline)']?.[`paced${RATE}`] ?? [0]);
    const table: Record<string, Record<string, number>> = {};
    console.log(
      `hook client CPU per request, ms (median of ${ROUNDS}; the machine is shared: compare within this run)`,
    );
    console.log(
      `${'variant'.padEnd(36)}${'hot1'.padStart(9)}${'hot8'.padStart(9)}${`paced${RATE}`.padStart(11)}${'net'.padStart(9)}`,
    );
    for (const [k, byMode] of Object.entries(results)) {
      const row: Record<string, number> = {};
      for (const [m, xs] of Object.entries(byMode)) row[m] = Number(median(xs).toFixed(4));
      const p = row[`paced${RATE}`];
      if (p !== undefined && !k.startsWith('no-op')) row[`paced${RATE}_net`] = Number((p - base).toFixed(4));
      table[k] = row;
      const f = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(4));
      console.log(
        `${k.padEnd(36)}${f(row.hot1).padStart(9)}${f(row.hot8).padStart(9)}${f(p).padStart(11)}${f(row[`paced${RATE}_net`]).padStart(9)}`,
      );
    }
    console.log(JSON.stringify({ requests: N, rounds: ROUNDS, rate: RATE, cpu_ms_per_request: table }));
  } finally {
    bare?.close();
    await hook.close();
    await Promise.all([pool.close(), poolB.close(), client.close()]);
    await stopTracked(server, 2000);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
