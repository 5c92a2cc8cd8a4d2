/**
 * HTTP external scripts: POST the request JSON (`Content-Type: application/json`) over an undici
 * keep-alive connection pool (one Pool per origin; requests dispatched on the pool directly, so no
 * URL is parsed per call), read at most 64 KiB of reply, all within the timeout. A non-2xx
 * status, a connection error or a body that is not one JSON object is a failure.
 *
 * Cost per call matters (one hook call per INVITE): the request goes through undici's
 * `dispatch` with one handler object per call (no promise-returning `request`, no async
 * resource, no body stream), the reply bytes are kept as received (one chunk, usually) and
 * decoded once, and the timeout is an entry in a shared deadline list (deadlines.ts) instead of
 * a timer per call. When the timeout fires the call is answered at once and the request is
 * aborted (its connection closed: an HTTP/1.1 reply still owed cannot be skipped). undici's
 * headers/body timeouts (the same value, one re-armed parser timer per connection) stay as a
 * backstop. A non-2xx reply is answered as a failure at once but its body is drained (up to 64
 * KiB), so the connection stays reusable. No pipelining: POST is not idempotent (undici would
 * not pipeline it anyway) and one slow reply would hold up the calls queued behind it.
 */
import { type Dispatcher, Pool } from 'undici';
import { MAX_REPLY_BYTES } from './contract.ts';
import { Deadlines, Expiring } from './deadlines.ts';
import { failure, fromBody, type HookOutcome, timeout } from './outcome.ts';

interface Target {
  readonly pool: Pool;
  readonly path: string;
}

const HEADERS = { 'content-type': 'application/json' };
const TIMED_OUT = new Error('external script timeout');
const TOO_BIG = new Error(`reply over ${MAX_REPLY_BYTES} bytes`);

/** One call in flight: undici's handler and a deadline entry; settled exactly once. */
class HttpCall extends Expiring implements Dispatcher.DispatchHandler {
  readonly #started: number;
  readonly #deadlines: Deadlines;
  #resolve: ((o: HookOutcome) => void) | undefined;
  #controller: Dispatcher.DispatchController | undefined = undefined;
  #chunk: Buffer | undefined = undefined;
  #more: Buffer[] | undefined = undefined;
  #size = 0;

  constructor(started: number, deadlines: Deadlines, resolve: (o: HookOutcome) => void) {
    super();
    this.#started = started;
    this.#deadlines = deadlines;
    this.#resolve = resolve;
  }

  #finish(o: HookOutcome): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#resolve = undefined;
    this.#deadlines.remove(this);
    resolve(o);
  }

  expire(): void {
    this.#finish(timeout(this.#started));
    this.#controller?.abort(TIMED_OUT);
  }

  fail(error: string): void {
    this.#finish(failure(error, this.#started));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // Timed out while queued for a connection: never sent.
    if (this.#resolve === undefined) controller.abort(TIMED_OUT);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number): void {
    if (this.#resolve === undefined) controller.abort(TIMED_OUT);
    else if (statusCode < 200 || statusCode > 299) this.fail(`HTTP status ${statusCode}`);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#size > MAX_REPLY_BYTES) {
      this.fail(TOO_BIG.message);
      controller.abort(TOO_BIG);
      return;
    }
    // Settled (a non-2xx reply): the body is drained, not kept.
    if (this.#resolve === undefined) return;
    if (this.#chunk === undefined) this.#chunk = chunk;
    else if (this.#more === undefined) this.#more = [this.#chunk, chunk];
    else this.#more.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#resolve === undefined) return;
    const body = this.#more !== undefined ? Buffer.concat(this.#more) : this.#chunk;
    this.#finish(fromBody(body === undefined ? '' : body.toString('utf8'), this.#started));
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, e: Error & { code?: string }): void {
    this.fail(`connection error: ${e.code ?? e.message}`);
  }
}

export class HttpHook {
  readonly #pools = new Map<string, Pool>();
  readonly #targets = new Map<string, Target>();
  readonly #deadlines = new Deadlines();

  #target(url: string): Target {
    let t = this.#targets.get(url);
    if (t !== undefined) return t;
    const u = new URL(url);
    let pool = this.#pools.get(u.origin);
    if (pool === undefined) {
      pool = new Pool(u.origin, {
        connections: 128,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        connect: { timeout: 5_000 },
      });
      this.#pools.set(u.origin, pool);
    }
    t = { pool, path: `${u.pathname}${u.search}` };
    this.#targets.set(url, t);
    return t;
  }

  call(url: string, body: string, timeoutMs: number): Promise<HookOutcome> {
    const started = performance.now();
    let target: Target;
    try {
      target = this.#target(url);
    } catch {
      return Promise.resolve(failure(`bad URL ${url}`, started));
    }
    return new Promise<HookOutcome>((resolve) => {
      const c = new HttpCall(started, this.#deadlines, resolve);
      this.#deadlines.add(c, started, timeoutMs);
      target.pool.dispatch(
        {
          path: target.path,
          method: 'POST',
          body,
          headers: HEADERS,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        c,
      );
    });
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    this.#targets.clear();
    await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
  }
}
