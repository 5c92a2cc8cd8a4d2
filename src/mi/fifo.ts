/**
 * The FIFO management server (SER's "Application FIFO server", OpenSIPS mi_fifo): a real FIFO
 * made with mkfifo, mode 0660, read without ever blocking the event loop (opened O_RDWR |
 * O_NONBLOCK, so it never sees EOF between writers). Requests: see fifo_framing.ts.
 *
 * Replies go to `<replyDir>/<name>`, which must already exist as a FIFO (never a symlink, never
 * a regular file): opened O_WRONLY | O_NONBLOCK | O_NOFOLLOW, retried while nobody has it open
 * for reading (ENXIO) or it does not exist yet, up to `openRetries` × `retryIntervalMs`; the write
 * is abandoned when the client reads nothing for `replyTimeoutMs`. Replies are streamed: written
 * in ~64 KiB chunks as the pipe drains, never built whole (json_stream.ts, text_reply.ts).
 * Retries back off 1, 2, 4 … ms up to the interval. A refused or lost reply never stops the server.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, fstatSync, lstatSync, open, openSync, type Stats, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MiCallContext } from './command.ts';
import { FifoFramer, type FifoRequest, validReplyName } from './fifo_framing.ts';
import { jsonChunks, type PrimedChunks, primeChunks, writeChunks } from './json_stream.ts';
import { errorResponse, INVALID_REQUEST, type MiRegistry } from './registry.ts';
import { textReplyChunks } from './text_reply.ts';

const execFileP = promisify(execFile);
const openP = promisify(open);

export interface FifoLog {
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export interface FifoServerOptions {
  readonly path: string;
  readonly registry: MiRegistry;
  /** Folder of reply FIFOs (OpenSIPS fifo_reply_dir). Default /tmp. */
  readonly replyDir?: string;
  /** Default 1 MiB. */
  readonly maxRequestBytes?: number;
  /** Default 50 × 20 ms. */
  readonly openRetries?: number;
  readonly retryIntervalMs?: number;
  /** Give up a reply the client does not read within this time. Default 5000 ms. */
  readonly replyTimeoutMs?: number;
  /** Replies being written at once; more are dropped (with a warning). Default 256. */
  readonly maxPendingReplies?: number;
  /** File mode of the FIFO. Default 0o660. */
  readonly mode?: number;
  readonly log?: FifoLog;
}

export interface FifoStats {
  requests: number;
  refused: number;
  replies: number;
  replyFailures: number;
}

export interface FifoServer {
  readonly path: string;
  readonly stats: FifoStats;
  close(): Promise<void>;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Make (or re-make) the FIFO at `path`; refuses symlinks and anything that is not a FIFO. */
export async function makeFifo(path: string, mode = 0o660): Promise<void> {
  const st = lstatOrUndefined(path);
  if (st !== undefined) {
    if (st.isSymbolicLink()) throw new Error(`refusing FIFO path ${path}: it is a symbolic link`);
    if (!st.isFIFO()) throw new Error(`refusing FIFO path ${path}: it exists and is not a FIFO`);
    // Someone reads it: another running server owns it (ENXIO = nobody, a stale FIFO of an earlier run).
    let inUse = false;
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW));
      inUse = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw e;
    }
    if (inUse)
      throw new Error(`refusing FIFO path ${path}: another process is reading it (a running server?)`);
    unlinkSync(path); // stale: recreate it with our mode and owner
  }
  await execFileP('mkfifo', ['-m', mode.toString(8), '--', path]);
}

/** The JSON text of a reply, then a newline. */
async function* jsonLine(reply: unknown): AsyncGenerator<string, void, undefined> {
  yield* jsonChunks(reply);
  yield '\n';
}

export async function startFifoServer(opts: FifoServerOptions): Promise<FifoServer> {
  const path = opts.path;
  const replyDir = opts.replyDir ?? '/tmp';
  const retries = opts.openRetries ?? 50;
  const interval = opts.retryIntervalMs ?? 20;
  const replyTimeout = opts.replyTimeoutMs ?? 5000;
  const maxPending = opts.maxPendingReplies ?? 256;
  const { registry, log } = opts;
  await makeFifo(path, opts.mode ?? 0o660);
  const made = lstatSync(path);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  const st = fstatSync(fd);
  if (!st.isFIFO() || st.ino !== made.ino || st.dev !== made.dev) {
    closeSync(fd);
    throw new Error(`refusing FIFO path ${path}: it changed while being opened`);
  }
  const stats: FifoStats = { requests: 0, refused: 0, replies: 0, replyFailures: 0 };
  const framer = new FifoFramer({
    maxBytes: opts.maxRequestBytes ?? 1024 * 1024,
    textForm: (c) => registry.lookup(c)?.text,
  });
  const input = new Socket({ fd, readable: true, writable: false });
  const writers = new Set<Socket>();
  let closed = false;
  let idle: NodeJS.Timeout | undefined;

  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

  /** Open the reply FIFO for writing without blocking; undefined when it never became ready. */
  const openReply = async (name: string): Promise<number | undefined> => {
    const file = join(replyDir, name);
    for (let i = 0; i <= retries && !closed; i++) {
      const st = lstatOrUndefined(file);
      if (st !== undefined && !st.isFIFO()) {
        log?.warn({ reply: file }, 'MI FIFO reply refused: not a FIFO (symlinks and files are not written)');
        return undefined;
      }
      if (st !== undefined) {
        try {
          const rfd = await openP(file, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
          const rst = fstatSync(rfd);
          if (!rst.isFIFO() || rst.ino !== st.ino) {
            closeSync(rfd);
            return undefined;
          }
          return rfd;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ENXIO' && code !== 'ENOENT') {
            log?.warn({ reply: file, code }, 'MI FIFO reply cannot be opened');
            return undefined;
          }
        }
      }
      // 1, 2, 4 … ms, then every `interval` ms: a client usually opens its end within a millisecond.
      await sleep(Math.min(interval, 2 ** i));
    }
    return undefined;
  };

  /**
   * Writes a reply (a string, or chunks pulled as the pipe drains) to the reply FIFO. The write is
   * abandoned when the client reads nothing for `replyTimeoutMs` (each wait for 'drain', and the
   * final flush, gets that long).
   */
  const writeReply = async (name: string, reply: string | PrimedChunks): Promise<void> => {
    const give = async (): Promise<void> => {
      if (typeof reply !== 'string') await reply.rest.return(undefined);
    };
    if (!validReplyName(name)) {
      if (name !== '') log?.warn({ reply: name }, "MI FIFO reply name refused (no '.', '/' or '\\' allowed)");
      await give();
      return;
    }
    if (writers.size >= maxPending) {
      stats.replyFailures++;
      log?.warn({ reply: name, pending: writers.size }, 'MI FIFO: too many replies pending, reply dropped');
      await give();
      return;
    }
    const rfd = await openReply(name);
    if (rfd === undefined) {
      stats.replyFailures++;
      log?.warn({ reply: name }, 'MI FIFO reply not delivered: no reader on the reply FIFO');
      await give();
      return;
    }
    const out = new Socket({ fd: rfd, readable: false, writable: true });
    writers.add(out);
    out.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    let abandoned = false;
    const stalled = (waiting: boolean): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (!waiting) return;
      timer = setTimeout(() => {
        abandoned = true;
        stats.replyFailures++;
        log?.warn(
          { reply: name, timeout_ms: replyTimeout },
          'MI FIFO reply abandoned: the client does not read it',
        );
        out.destroy();
      }, replyTimeout);
    };
    try {
      const chunks = typeof reply === 'string' ? [reply] : reply.head;
      let ok = await writeChunks(out, chunks, stalled);
      if (ok && typeof reply !== 'string') ok = await writeChunks(out, reply.rest, stalled);
      else if (typeof reply !== 'string') await reply.rest.return(undefined);
      if (ok) {
        stalled(true);
        const finished = await new Promise<boolean>((resolve) => {
          out.once('close', () => resolve(false));
          out.end((err?: Error | null) => resolve(err == null));
        });
        stalled(false);
        if (finished && !abandoned) stats.replies++;
      }
    } catch (err) {
      stalled(false);
      stats.replyFailures++;
      log?.warn({ reply: name, err }, 'MI FIFO reply failed while streaming; reply cut short');
    } finally {
      stalled(false);
      out.destroy();
      writers.delete(out);
    }
  };

  const serve = async (req: FifoRequest): Promise<void> => {
    stats.requests++;
    if (req.kind === 'error') {
      stats.refused++;
      log?.warn({ reason: req.message }, 'MI FIFO request refused');
      if (req.reply !== undefined) {
        const text = req.json
          ? JSON.stringify(errorResponse(null, INVALID_REQUEST, `Invalid Request: ${req.message}`))
          : `400 ${req.message}`;
        await writeReply(req.reply, `${text}\n`);
      }
      return;
    }
    if (req.kind === 'json') {
      const ctx: MiCallContext = { transport: 'fifo' };
      const res = await registry.respond(req.json, ctx);
      if (res === undefined || req.reply === '') return;
      // Pulled before the reply FIFO is opened: a result that cannot be serialized is refused whole.
      const primed = await primeChunks(jsonLine(res));
      await writeReply(req.reply, primed);
      return;
    }
    const ctx: MiCallContext = { transport: 'fifo-text' };
    const out = await registry.call(req.command, req.params, ctx);
    await writeReply(
      req.reply,
      await primeChunks(textReplyChunks(req.command, registry.lookup(req.command), out)),
    );
  };

  const dispatch = (reqs: FifoRequest[]): void => {
    for (const r of reqs) {
      serve(r).catch((err: unknown) => log?.warn({ err }, 'MI FIFO request failed'));
    }
  };

  input.on('data', (chunk: Buffer) => {
    dispatch(framer.push(chunk));
    if (idle !== undefined) clearTimeout(idle);
    if (framer.pending > 0) {
      idle = setTimeout(() => dispatch(framer.flushIdle()), 250);
      idle.unref();
    }
  });
  input.on('error', (err) => log?.warn({ err }, 'MI FIFO read error'));

  return {
    path,
    stats,
    async close() {
      closed = true;
      if (idle !== undefined) clearTimeout(idle);
      input.destroy();
      for (const w of writers) w.destroy();
      const now = lstatOrUndefined(path);
      if (now !== undefined && now.ino === made.ino) unlinkSync(path);
    },
  };
}
