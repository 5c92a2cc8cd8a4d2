/**
 * HTTP external scripts: POST the request JSON (`Content-Type: application/json`) over an undici
 * keep-alive connection pool (one Pool per origin; requests made on the pool directly, so no URL
 * is parsed per call), read at most 64 KiB of reply, all within the timeout. A non-2xx status, a
 * connection error or a body that is not one JSON object is a failure.
 *
 * The timeout is a timer raced against the request: the call is answered when it fires. The
 * request itself is bounded by undici's headers/body timeouts (the same value), which close a
 * connection that stays silent, so nothing lingers for long.
 */
import { Pool } from 'undici';
import { MAX_REPLY_BYTES } from './contract.ts';
import { failure, fromBody, type HookOutcome, timeout } from './outcome.ts';

interface Target {
  readonly pool: Pool;
  readonly path: string;
}

const HEADERS = { 'content-type': 'application/json' };

export class HttpHook {
  readonly #pools = new Map<string, Pool>();
  readonly #targets = new Map<string, Target>();

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
      let done = false;
      const finish = (o: HookOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(o);
      };
      const timer = setTimeout(() => finish(timeout(started)), timeoutMs);
      target.pool
        .request({
          path: target.path,
          method: 'POST',
          body,
          headers: HEADERS,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        })
        .then(
          (res) => {
            const stream = res.body;
            // A body given up on is destroyed; its stream then reports an error nobody needs.
            stream.on('error', () => undefined);
            if (done) {
              stream.destroy();
              return;
            }
            if (res.statusCode < 200 || res.statusCode > 299) {
              stream.destroy();
              finish(failure(`HTTP status ${res.statusCode}`, started));
              return;
            }
            let text = '';
            let size = 0;
            stream.setEncoding('utf8');
            stream.on('data', (chunk: string) => {
              size += Buffer.byteLength(chunk);
              if (size > MAX_REPLY_BYTES) {
                stream.destroy();
                finish(failure(`reply over ${MAX_REPLY_BYTES} bytes`, started));
                return;
              }
              text += chunk;
            });
            stream.on('end', () => finish(fromBody(text, started)));
            stream.on('close', () => finish(failure('connection closed before the reply ended', started)));
          },
          (e: Error & { code?: string }) =>
            finish(failure(`connection error: ${e.code ?? e.message}`, started)),
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
