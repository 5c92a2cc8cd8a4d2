/**
 * Large results are streamed (issue 4): HTTP chunked, unix socket NDJSON, FIFO JSON and SER text,
 * with async-iterable list results never materialized.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fifoText, miOverFifo, miOverHttp } from './client.ts';
import type { MiCommand } from './command.ts';
import { type FifoServer, startFifoServer } from './fifo.ts';
import { type MiHttpServer, startHttpServer } from './http.ts';
import { createManagement } from './index.ts';
import { type MiSocketServer, startSocketServer } from './socket.ts';
import { fakeServer, memoryLogger } from './test_support.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const N = 200_000;
/** One binding-like item; every item has the same JSON length. */
function binding(i: number): { AOR: string; Contact: string; Expires: number; Q: string; Path: string } {
  const id = String(i).padStart(6, '0');
  return {
    AOR: `user${id}@example.com`,
    Contact: `sip:user${id}@192.0.2.10:5060;transport=udp`,
    Expires: 3600,
    Q: '1.0',
    Path: `<sip:edge.example.com;lr>;x=${'p'.repeat(80)}`,
  };
}
const ITEM_LEN = JSON.stringify(binding(0)).length;

let lastStreamClosed = false;
const commands: MiCommand[] = [
  {
    name: 'big_array',
    help: '',
    recipes: [[]],
    handler: () => Array.from({ length: N }, (_, i) => binding(i)),
  },
  {
    name: 'big_stream',
    help: '',
    recipes: [[{ name: 'n', type: 'int', optional: true }]],
    handler: (p) => {
      const n = (p.n as number | undefined) ?? N;
      lastStreamClosed = false;
      return {
        Domains: [
          {
            name: 'location',
            AORs: (async function* () {
              try {
                for (let i = 0; i < n; i++) yield binding(i);
              } finally {
                lastStreamClosed = true;
              }
            })(),
          },
        ],
      };
    },
  },
  {
    name: 'big_lines',
    help: '',
    recipes: [[]],
    handler: () =>
      (async function* () {
        for (let i = 0; i < 50_000; i++) yield `line ${i} é😀`;
      })(),
  },
];

describe('streamed large results', () => {
  let dir: string;
  let http: MiHttpServer;
  let sock: MiSocketServer;
  let fifo: FifoServer;
  let port: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'junction-mi-stream-'));
    const { log } = memoryLogger();
    const { registry, statistics } = createManagement({
      server: fakeServer(),
      modules: [{ name: 'big', functions: {}, commands }],
      log,
      version: '1',
    });
    http = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      metrics: () => statistics.prometheus(),
      log,
    });
    port = http.port;
    sock = await startSocketServer({ path: join(dir, 'mi.sock'), registry, log });
    fifo = await startFifoServer({ path: join(dir, 'fifo'), registry, replyDir: dir, log });
  });
  after(async () => {
    await http.close();
    await sock.close();
    await fifo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('HTTP: a 200,000-element result arrives complete (chunked) while other requests are answered', async () => {
    const url = `http://127.0.0.1:${port}/mi`;
    let uptimeAnsweredMidStream = false;
    const body = await new Promise<{ text: string; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/mi',
          headers: { 'Content-Type': 'application/json' },
        },
        (res) => {
          const parts: string[] = [];
          let asked = false;
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            parts.push(c);
            if (!asked) {
              asked = true;
              // Stop reading the big reply; the server must still answer someone else.
              res.pause();
              miOverHttp(url, 'uptime', []).then((r) => {
                uptimeAnsweredMidStream = 'result' in r && !res.complete;
                res.resume();
              }, reject);
            }
          });
          res.on('end', () => resolve({ text: parts.join(''), headers: res.headers }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'big_array' }));
    });
    assert.equal(body.headers['transfer-encoding'], 'chunked');
    assert.equal(body.headers['content-length'], undefined);
    assert.ok(uptimeAnsweredMidStream, 'uptime was not answered while the big reply was streaming');
    const parsed = JSON.parse(body.text) as { id: number; result: unknown[] };
    assert.equal(parsed.id, 7);
    assert.equal(parsed.result.length, N);
    assert.deepEqual(parsed.result[N - 1], binding(N - 1));
  });

  it('HTTP: an async-iterable result streams with heap growth well below the JSON text size', async (t) => {
    const fullLength =
      JSON.stringify({ jsonrpc: '2.0', id: 1, result: { Domains: [{ name: 'location', AORs: [] }] } })
        .length +
      N * ITEM_LEN +
      (N - 1);
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let received = 0;
    let sinceGc = 0;
    let tail = '';
    let head = '';
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/mi' }, (res) => {
        res.on('data', (c: Buffer) => {
          received += c.length;
          sinceGc += c.length;
          if (head.length < 100) head += c.toString('latin1');
          tail = (tail + c.toString('latin1')).slice(-1000);
          if (sinceGc >= 2 * 1024 * 1024) {
            sinceGc = 0;
            gc();
            peak = Math.max(peak, process.memoryUsage().heapUsed - base);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'big_stream' }));
    });
    t.diagnostic(
      `peak heap growth ${(peak / 1e6).toFixed(1)} MB for ${(fullLength / 1e6).toFixed(1)} MB of JSON`,
    );
    assert.equal(received, fullLength);
    assert.ok(
      head.startsWith('{"jsonrpc":"2.0","id":1,"result":{"Domains":[{"name":"location","AORs":[{"AOR"'),
    );
    assert.ok(tail.endsWith(`${JSON.stringify(binding(N - 1))}]}]}}`));
    assert.ok(lastStreamClosed);
    assert.ok(
      peak < fullLength / 4,
      `heap grew ${(peak / 1e6).toFixed(1)} MB while streaming ${(fullLength / 1e6).toFixed(1)} MB`,
    );
  });

  it('HTTP: a client that leaves mid-stream closes the async iterable', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/mi' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'big_stream' }));
      setTimeout(() => reject(new Error('no data')), 5000).unref();
    });
    for (let i = 0; i < 100 && !lastStreamClosed; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(lastStreamClosed, 'the handler iterator was not closed');
  });

  it('unix socket: one NDJSON line per reply, a streamed one not interleaved with others', async () => {
    const c = connect(join(dir, 'mi.sock'));
    c.setEncoding('utf8');
    let parts: string[] = [];
    const lines: string[] = [];
    const done = new Promise<void>((resolve) => {
      c.on('data', (d: string) => {
        const pieces = d.split('\n');
        for (let i = 0; i < pieces.length - 1; i++) {
          parts.push(pieces[i]);
          lines.push(parts.join(''));
          parts = [];
        }
        parts.push(pieces[pieces.length - 1]);
        if (lines.length === 3) resolve();
      });
    });
    c.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'big_stream', params: [50_000] })}\n` +
        `${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'uptime' })}\n` +
        `${JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'big_array' })}\n`,
    );
    await done;
    c.destroy();
    const byId = new Map(lines.map((l) => [(JSON.parse(l) as { id: number }).id, JSON.parse(l)]));
    assert.equal(byId.size, 3);
    assert.equal(byId.get(1).result.Domains[0].AORs.length, 50_000);
    assert.ok(byId.get(2).result.Now);
    assert.equal(byId.get(3).result.length, N);
  });

  it('FIFO: JSON and SER text replies of streamed lists arrive complete', async () => {
    const r = await miOverFifo(fifo.path, 'big_stream', [30_000], { replyDir: dir, timeoutMs: 20_000 });
    assert.ok('result' in r);
    const aors = (r.result as { Domains: Array<{ AORs: unknown[] }> }).Domains[0].AORs;
    assert.equal(aors.length, 30_000);
    assert.deepEqual(aors[29_999], binding(29_999));
    const text = await fifoText(fifo.path, 'big_lines', [], { replyDir: dir, timeoutMs: 20_000 });
    const lines = text.split('\n');
    assert.equal(lines[0], '200 OK');
    assert.equal(lines.length, 50_000 + 2);
    assert.equal(lines[50_000], 'line 49999 é😀');
    assert.equal(lines[50_001], '');
  });
});
