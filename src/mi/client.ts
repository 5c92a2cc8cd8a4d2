/**
 * Management clients (the CLI, the benchmark, tests): JSON-RPC over HTTP, and raw requests over
 * the FIFO with a private reply FIFO (mode 0600, removed afterwards), bounded by a timeout.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, open, rmSync } from 'node:fs';
import { request } from 'node:http';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MiResponse } from './registry.ts';

const execFileP = promisify(execFile);
const openP = promisify(open);

let nextId = 1;

/** A JSON-RPC request object (with an id). */
export function rpcRequest(
  method: string,
  params?: unknown,
): { jsonrpc: '2.0'; id: number; method: string; params?: unknown } {
  return { jsonrpc: '2.0', id: nextId++, method, ...(params === undefined ? {} : { params }) };
}

export async function httpCall(
  url: string,
  body: string,
  opts: { token?: string; timeoutMs?: number; agent?: import('node:http').Agent } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          ...(opts.token === undefined ? {} : { Authorization: `Bearer ${opts.token}` }),
        },
        timeout: opts.timeoutMs ?? 30_000,
        ...(opts.agent === undefined ? {} : { agent: opts.agent }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from ${url} within ${opts.timeoutMs ?? 30_000} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One JSON-RPC call over HTTP; the parsed response (or an Error for transport / HTTP failures). */
export async function miOverHttp(
  url: string,
  method: string,
  params: unknown,
  opts: { token?: string; timeoutMs?: number } = {},
): Promise<MiResponse> {
  const r = await httpCall(url, JSON.stringify(rpcRequest(method, params)), opts);
  if (r.status !== 200) throw new Error(`HTTP ${r.status} from ${url}: ${r.text.trim()}`);
  return JSON.parse(r.text) as MiResponse;
}

/** Write all of `data` to a FIFO without blocking: fails at once (ENXIO) when nobody reads it. */
async function writeFifo(path: string, data: string): Promise<void> {
  let fd: number;
  try {
    fd = await openP(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO') throw new Error(`no server reads the FIFO ${path}`);
    throw new Error(`cannot open the FIFO ${path}: ${(e as Error).message}`);
  }
  const s = new Socket({ fd, readable: false, writable: true });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.end(data, () => resolve());
  });
  s.destroy();
}

/**
 * Send `request(replyName)` to the server FIFO and return everything written to the reply FIFO
 * (up to EOF), or throw after `timeoutMs`. `request` builds the text with the reply name in it.
 */
export async function fifoExchange(
  fifoPath: string,
  request: (replyName: string) => string,
  opts: { replyDir?: string; timeoutMs?: number } = {},
): Promise<string> {
  const name = `junction_cli_${process.pid}_${randomBytes(6).toString('hex')}`;
  const replyPath = join(opts.replyDir ?? '/tmp', name);
  await execFileP('mkfifo', ['-m', '600', '--', replyPath]);
  try {
    // A blocking open for reading (on libuv's thread pool) returns once the server opens the
    // reply FIFO for writing; on timeout we open it for writing ourselves to release it.
    const reading = openP(replyPath, constants.O_RDONLY);
    try {
      await writeFifo(fifoPath, request(name));
    } catch (e) {
      // Release the pending open (we are a writer now), then report.
      const fd = await openP(replyPath, constants.O_WRONLY | constants.O_NONBLOCK);
      new Socket({ fd: await reading, readable: true, writable: false }).destroy();
      new Socket({ fd, readable: false, writable: true }).destroy();
      throw e;
    }
    let timedOut = false;
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      timedOut = true;
      openP(replyPath, constants.O_WRONLY | constants.O_NONBLOCK).then(
        (fd) => setTimeout(() => new Socket({ fd, writable: true, readable: false }).destroy(), 10),
        () => undefined,
      );
    }, timeoutMs);
    const fd = await reading;
    const sock = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    const text = await new Promise<string>((resolve, reject) => {
      sock.on('data', (c: Buffer) => chunks.push(c));
      sock.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      sock.once('error', reject);
      const t2 = setTimeout(() => {
        timedOut = true;
        sock.destroy();
        resolve(Buffer.concat(chunks).toString('utf8'));
      }, timeoutMs);
      sock.once('close', () => clearTimeout(t2));
    });
    clearTimeout(timer);
    sock.destroy();
    if (timedOut && text === '') throw new Error(`no reply on the FIFO ${fifoPath} within ${timeoutMs} ms`);
    return text;
  } finally {
    rmSync(replyPath, { force: true });
  }
}

/** One JSON-RPC call over the FIFO (OpenSIPS mi_fifo framing). */
export async function miOverFifo(
  fifoPath: string,
  method: string,
  params: unknown,
  opts: { replyDir?: string; timeoutMs?: number } = {},
): Promise<MiResponse> {
  const body = JSON.stringify(rpcRequest(method, params));
  const text = await fifoExchange(fifoPath, (reply) => `:${reply}:${body}\n`, opts);
  return JSON.parse(text) as MiResponse;
}

/** One SER text protocol request: `:cmd:reply`, the lines, an empty line; the reply text as is. */
export function fifoText(
  fifoPath: string,
  command: string,
  lines: readonly string[],
  opts: { replyDir?: string; timeoutMs?: number } = {},
): Promise<string> {
  return fifoExchange(
    fifoPath,
    (reply) => `:${command}:${reply}\n${lines.map((l) => `${l}\n`).join('')}\n`,
    opts,
  );
}
