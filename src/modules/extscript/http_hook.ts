/**
 * HTTP external scripts: POST the request JSON (`Content-Type: application/json`) over undici's
 * keep-alive pool, read at most 64 KiB of reply, all within the timeout (the request is aborted
 * when it fires). A non-2xx status, a connection error or a body that is not one JSON object is
 * a failure.
 */
import { Agent, request } from 'undici';
import { MAX_REPLY_BYTES } from './contract.ts';
import { failure, fromBody, type HookOutcome, timeout } from './outcome.ts';

export class HttpHook {
  readonly #agent = new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connections: 128,
    pipelining: 1,
    connect: { timeout: 5_000 },
  });

  async call(url: string, body: string, timeoutMs: number): Promise<HookOutcome> {
    const started = performance.now();
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, timeoutMs);
    try {
      const res = await request(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        dispatcher: this.#agent,
        signal: ac.signal,
      });
      // A body given up on is destroyed; its stream then reports an abort nobody needs.
      res.body.on('error', () => undefined);
      if (res.statusCode < 200 || res.statusCode > 299) {
        res.body.destroy();
        return failure(`HTTP status ${res.statusCode}`, started);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) {
          res.body.destroy();
          return failure(`reply over ${MAX_REPLY_BYTES} bytes`, started);
        }
        chunks.push(chunk);
      }
      return fromBody(Buffer.concat(chunks).toString('utf8'), started);
    } catch (e) {
      if (timedOut) return timeout(started);
      const err = e as Error & { code?: string };
      return failure(`connection error: ${err.code ?? err.message}`, started);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}
