/**
 * HTTP management interface: `POST /mi` (JSON-RPC 2.0, single or batch) and `GET /metrics`
 * (Prometheus text) on one node:http server, loopback by default.
 *
 * Rules: other methods on those paths → 405 with Allow; other paths → 404; a body over
 * `maxBodyBytes` → 413; notifications only → 202 with no body; with a token configured, both
 * paths want `Authorization: Bearer <token>` (401 otherwise). JSON-RPC errors are 200s carrying
 * the error object, as JSON-RPC over HTTP does. Replies are streamed (json_stream.ts): one
 * chunk or less → Content-Length; more → chunked transfer encoding, each write awaiting 'drain'.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jsonChunks, type PrimedChunks, primeChunks, writeChunks } from './json_stream.ts';
import type { MiRegistry } from './registry.ts';

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: MiRegistry;
  /** Prometheus text for GET /metrics. */
  readonly metrics: () => string;
  /** Bearer token; undefined = none asked. */
  readonly token?: string;
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number;
  readonly log?: { warn(obj: object, msg: string): void };
}

export interface MiHttpServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const h = req.headers.authorization;
  if (h === undefined || !h.startsWith('Bearer ')) return false;
  const given = Buffer.from(h.slice(7).trim());
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
  extra?: Record<string, string>,
): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

/**
 * A reply streamed: the first chunks are pulled before the status line, so a result that fits in
 * one chunk goes out with Content-Length and an error thrown before any output is still a 500;
 * a larger one goes out with chunked transfer encoding, each write waiting for 'drain'. An error
 * (or the client leaving) after the head was sent ends the connection: the body is cut short.
 */
async function sendReply(res: ServerResponse, reply: unknown, log: HttpServerOptions['log']): Promise<void> {
  let primed: PrimedChunks;
  try {
    primed = await primeChunks(jsonChunks(reply));
  } catch (err) {
    log?.warn({ err }, 'MI HTTP reply cannot be serialized');
    send(res, 500, 'internal error\n');
    return;
  }
  if (res.destroyed) {
    await primed.rest.return(undefined);
    return;
  }
  if (primed.complete) {
    send(res, 200, primed.head.join(''), 'application/json');
    return;
  }
  // No Content-Length: node frames it chunked (HTTP/1.1) or ends it by closing (HTTP/1.0).
  res.writeHead(200, { 'Content-Type': 'application/json' });
  try {
    const ok = (await writeChunks(res, primed.head)) && (await writeChunks(res, primed.rest));
    if (ok) res.end();
    else await primed.rest.return(undefined);
  } catch (err) {
    log?.warn({ err }, 'MI HTTP reply failed while streaming; connection closed');
    res.destroy();
  }
}

export async function startHttpServer(opts: HttpServerOptions): Promise<MiHttpServer> {
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const { registry } = opts;

  const onMi = (req: IncomingMessage, res: ServerResponse): void => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) {
      send(res, 413, `request body over ${maxBody} bytes\n`, undefined, { Connection: 'close' });
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      if (tooBig) return;
      size += c.length;
      if (size > maxBody) {
        tooBig = true;
        send(res, 413, `request body over ${maxBody} bytes\n`, undefined, { Connection: 'close' });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) return;
      registry
        .respond(Buffer.concat(chunks).toString('utf8'), { transport: 'http' })
        .then(async (out) => {
          if (out === undefined) {
            res.writeHead(202, { 'Content-Length': 0 });
            res.end();
            return;
          }
          await sendReply(res, out, opts.log);
        })
        .catch((err: unknown) => {
          opts.log?.warn({ err }, 'MI HTTP request failed');
          if (!res.headersSent) send(res, 500, 'internal error\n');
          else res.destroy();
        });
    });
    req.on('error', () => res.destroy());
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/mi' && path !== '/metrics') {
      send(res, 404, 'not found: use POST /mi or GET /metrics\n');
      req.resume();
      return;
    }
    if (!authorized(req, opts.token)) {
      send(res, 401, 'unauthorized\n', undefined, { 'WWW-Authenticate': 'Bearer realm="junction"' });
      req.resume();
      return;
    }
    if (path === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, 'method not allowed\n', undefined, { Allow: 'GET, HEAD' });
        req.resume();
        return;
      }
      send(res, 200, opts.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
      return;
    }
    if (req.method !== 'POST') {
      send(res, 405, 'method not allowed: POST a JSON-RPC 2.0 request\n', undefined, { Allow: 'POST' });
      req.resume();
      return;
    }
    onMi(req, res);
  });
  server.headersTimeout = 10_000;
  // t_uac_dlg waits for an INVITE's final reply (Timer C): requests may take minutes.
  server.requestTimeout = 300_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.log?.warn({ err }, 'MI HTTP server error'));
  const a = server.address() as AddressInfo;
  return {
    address: a.address,
    port: a.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
