/**
 * Unix stream socket management interface: newline-delimited JSON-RPC 2.0 (one request or batch
 * per line, one response per line, in completion order — match them by id). A large reply is
 * streamed (chunks written with backpressure); replies never interleave. The socket file is
 * mode 0660; a symlink at the path is refused, a stale socket file replaced.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { jsonChunks, type PrimedChunks, primeChunks, writeChunks } from './json_stream.ts';
import { errorResponse, INVALID_REQUEST, type MiRegistry } from './registry.ts';

export interface SocketServerOptions {
  readonly path: string;
  readonly registry: MiRegistry;
  /** Longest line accepted; a longer one closes the connection after an error. Default 1 MiB. */
  readonly maxLineBytes?: number;
  /** Default 64. */
  readonly maxConnections?: number;
  readonly mode?: number;
  readonly log?: { warn(obj: object, msg: string): void };
}

export interface MiSocketServer {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * One reply line, streamed with backpressure. An error before any output drops the reply (logged);
 * after some output the line cannot be completed, so the connection is closed.
 */
async function writeLine(sock: Socket, reply: unknown, log?: SocketServerOptions['log']): Promise<void> {
  if (sock.destroyed) return;
  let primed: PrimedChunks;
  try {
    primed = await primeChunks(jsonChunks(reply));
  } catch (err) {
    log?.warn({ err }, 'MI socket reply cannot be serialized');
    return;
  }
  try {
    const ok =
      (await writeChunks(sock, primed.head)) &&
      (await writeChunks(sock, primed.rest)) &&
      (await writeChunks(sock, ['\n']));
    if (!ok) await primed.rest.return(undefined);
  } catch (err) {
    log?.warn({ err }, 'MI socket reply failed while streaming; connection closed');
    sock.destroy();
  }
}

export async function startSocketServer(opts: SocketServerOptions): Promise<MiSocketServer> {
  const { path, registry } = opts;
  const maxLine = opts.maxLineBytes ?? 1024 * 1024;
  let st: ReturnType<typeof lstatSync> | undefined;
  try {
    st = lstatSync(path);
  } catch {
    st = undefined;
  }
  if (st !== undefined) {
    if (st.isSymbolicLink()) throw new Error(`refusing MI socket path ${path}: it is a symbolic link`);
    if (!st.isSocket()) throw new Error(`refusing MI socket path ${path}: it exists and is not a socket`);
    unlinkSync(path);
  }
  const conns = new Set<Socket>();
  const server: Server = createServer((sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => undefined);
    let buf = '';
    /** Replies are written one after the other (a streamed one never interleaves with another). */
    let queue: Promise<void> = Promise.resolve();
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line !== '') {
          registry.respond(line, { transport: 'socket' }).then(
            (out) => {
              if (out !== undefined) queue = queue.then(() => writeLine(sock, out, opts.log));
            },
            (err: unknown) => opts.log?.warn({ err }, 'MI socket request failed'),
          );
        }
        nl = buf.indexOf('\n');
      }
      if (Buffer.byteLength(buf) > maxLine) {
        sock.end(
          `${JSON.stringify(errorResponse(null, INVALID_REQUEST, `Invalid Request: line over ${maxLine} bytes`))}\n`,
        );
        buf = '';
      }
    });
  });
  server.maxConnections = opts.maxConnections ?? 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, opts.mode ?? 0o660);
  server.on('error', (err) => opts.log?.warn({ err }, 'MI socket server error'));
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}
