/**
 * Streaming JSON: a result is serialized as a sequence of string chunks of about `chunkChars`
 * (64 Ki characters) instead of one string, so a 200,000-element `ul_dump` never exists as one
 * JSON text in memory. For plain data the concatenated chunks equal `JSON.stringify(value)`
 * (toJSON, boxed primitives, `undefined` / functions / symbols dropped in objects and `null` in
 * arrays, BigInt refused, cycles refused); there is no replacer and no indentation.
 *
 * One extension: an object with `Symbol.asyncIterator` (an async generator, a cursor — and not an
 * array) is written as a JSON array of the items it yields, pulled one at a time (a handler can
 * return one for a list result; see MiCommand.handler). JSON.stringify would write `{}` for it.
 * If the serializer stops early (the consumer gives up or an error is thrown), every iterator it
 * had open is closed with `return()`.
 *
 * The walk is a synchronous generator (cheap per container); the async driver only awaits when an
 * async iterable is asked for its next item and hands back chunks as they fill up.
 */

/** Default chunk size in UTF-16 code units (~64 KiB of ASCII). */
export const CHUNK_CHARS = 64 * 1024;

export interface JsonChunkOptions {
  readonly chunkChars?: number;
}

type Pull = { readonly pull: Promise<IteratorResult<unknown>> };
type Step = string | Pull;

interface State {
  parts: string[];
  size: number;
  readonly limit: number;
  readonly stack: Set<object>;
  /** Async iterators being read, innermost last (closed when the walk stops early). */
  readonly open: AsyncIterator<unknown>[];
}

export function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/** SerializeJSONProperty's first steps: toJSON (objects and BigInts). */
function prepare(value: unknown, key: string): unknown {
  if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return (toJSON as (k: string) => unknown).call(value, key);
  }
  return value;
}

/** Values JSON.stringify leaves out of objects (and writes as null in arrays). */
function skipped(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** Primitives and boxed primitives: JSON.stringify writes them itself. */
function isLeaf(v: unknown): boolean {
  return (
    v === null ||
    typeof v !== 'object' ||
    v instanceof String ||
    v instanceof Number ||
    v instanceof Boolean ||
    v instanceof BigInt
  );
}

function push(st: State, s: string): void {
  st.parts.push(s);
  st.size += s.length;
}

/**
 * `text` cut into pieces of at most `limit` characters, never splitting a surrogate pair (with a
 * limit of 1, a pair is one piece of 2).
 */
export function cutText(text: string, limit = CHUNK_CHARS): string[] {
  if (text.length <= limit) return text === '' ? [] : [text];
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(at + limit, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end = end - 1 > at ? end - 1 : end + 1;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

/** Take what is buffered, cut into pieces of at most `limit`. */
function take(st: State): string[] {
  const text = st.parts.join('');
  st.parts = [];
  st.size = 0;
  return cutText(text, st.limit);
}

function* item(st: State, v: unknown): Generator<Step, void, IteratorResult<unknown>> {
  if (skipped(v)) push(st, 'null');
  else if (isLeaf(v)) push(st, JSON.stringify(v));
  else yield* walk(st, v as object);
  if (st.size >= st.limit) for (const c of take(st)) yield c;
}

function* walk(st: State, v: object): Generator<Step, void, IteratorResult<unknown>> {
  if (st.stack.has(v)) throw new TypeError('Converting circular structure to JSON');
  st.stack.add(v);
  try {
    if (Array.isArray(v)) {
      push(st, '[');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) push(st, ',');
        yield* item(st, prepare(v[i], String(i)));
      }
      push(st, ']');
    } else if (isAsyncIterable(v)) {
      push(st, '[');
      const it = v[Symbol.asyncIterator]();
      st.open.push(it);
      for (let i = 0; ; i++) {
        const r = yield { pull: Promise.resolve(it.next()) };
        if (r.done === true) break;
        if (i > 0) push(st, ',');
        yield* item(st, prepare(r.value, String(i)));
      }
      st.open.pop();
      push(st, ']');
    } else {
      push(st, '{');
      let first = true;
      const rec = v as Record<string, unknown>;
      for (const k of Object.keys(rec)) {
        const val = prepare(rec[k], k);
        if (skipped(val)) continue;
        push(st, first ? `${JSON.stringify(k)}:` : `,${JSON.stringify(k)}:`);
        first = false;
        if (isLeaf(val)) push(st, JSON.stringify(val));
        else yield* walk(st, val as object);
        if (st.size >= st.limit) for (const c of take(st)) yield c;
      }
      push(st, '}');
    }
  } finally {
    st.stack.delete(v);
  }
}

function* top(st: State, value: unknown): Generator<Step, void, IteratorResult<unknown>> {
  const v = prepare(value, '');
  if (skipped(v)) return; // JSON.stringify(undefined) === undefined: nothing at all
  if (isLeaf(v)) push(st, JSON.stringify(v));
  else yield* walk(st, v as object);
  for (const c of take(st)) yield c;
}

/**
 * The JSON text of `value` as chunks of at most `chunkChars` characters (a leaf longer than that
 * is cut). Yields nothing when JSON.stringify would return undefined.
 */
export async function* jsonChunks(
  value: unknown,
  opts: JsonChunkOptions = {},
): AsyncGenerator<string, void, undefined> {
  const st: State = {
    parts: [],
    size: 0,
    limit: Math.max(1, opts.chunkChars ?? CHUNK_CHARS),
    stack: new Set(),
    open: [],
  };
  const gen = top(st, value);
  let input: IteratorResult<unknown> | undefined;
  let finished = false;
  try {
    for (;;) {
      const r = input === undefined ? gen.next() : gen.next(input);
      input = undefined;
      if (r.done === true) break;
      if (typeof r.value === 'string') yield r.value;
      else input = await r.value.pull;
    }
    finished = true;
  } finally {
    if (!finished) {
      gen.return(undefined);
      for (let i = st.open.length - 1; i >= 0; i--) {
        try {
          await st.open[i].return?.();
        } catch {
          // closing is best effort
        }
      }
    }
  }
}

/** The whole JSON text (async iterables read to the end); undefined as JSON.stringify would. */
export async function jsonText(value: unknown): Promise<string | undefined> {
  let text: string | undefined;
  for await (const c of jsonChunks(value)) text = text === undefined ? c : text + c;
  return text;
}

/**
 * The first chunk pulled ahead (so an error thrown before any output — a BigInt, a cycle, a
 * failing cursor — surfaces before a transport commits to a reply), and whether it was the last.
 */
export interface PrimedChunks {
  /** Chunks already pulled (0, 1 or 2). */
  readonly head: readonly string[];
  /** True when `head` is the whole text. */
  readonly complete: boolean;
  /** The rest (after `head`); call `return()` on it to give up. */
  readonly rest: AsyncGenerator<string, void, undefined>;
}

export async function primeChunks(chunks: AsyncGenerator<string, void, undefined>): Promise<PrimedChunks> {
  const head: string[] = [];
  for (let i = 0; i < 2; i++) {
    let r: IteratorResult<string, void>;
    try {
      r = await chunks.next();
    } catch (e) {
      await chunks.return(undefined);
      throw e;
    }
    if (r.done === true) return { head, complete: true, rest: chunks };
    head.push(r.value);
  }
  return { head, complete: false, rest: chunks };
}

/** What writeChunks needs of a stream (a net.Socket, an http.ServerResponse). */
export interface ChunkSink {
  readonly destroyed: boolean;
  write(chunk: string): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/** Waits for 'drain'; false when the stream closed instead. */
export function drained(w: ChunkSink): Promise<boolean> {
  if (w.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onDrain = (): void => {
      w.off('close', onClose);
      resolve(true);
    };
    const onClose = (): void => {
      w.off('drain', onDrain);
      resolve(false);
    };
    w.once('drain', onDrain);
    w.once('close', onClose);
  });
}

/**
 * Writes every chunk, waiting for 'drain' whenever `write` says the buffer is full (and giving the
 * event loop a turn every ~1 MiB written without waiting, so other requests are served meanwhile).
 * `stalled(true)` / `stalled(false)` bracket each wait (abandon timers). Resolves false when the
 * stream closed first; the chunk source is then closed (its iterators returned).
 */
export async function writeChunks(
  w: ChunkSink,
  chunks: AsyncIterable<string> | Iterable<string>,
  stalled?: (waiting: boolean) => void,
): Promise<boolean> {
  let since = 0;
  for await (const c of chunks) {
    if (w.destroyed) return false;
    if (!w.write(c)) {
      since = 0;
      stalled?.(true);
      const ok = await drained(w);
      stalled?.(false);
      if (!ok) return false;
    } else {
      since += c.length;
      if (since >= 1024 * 1024) {
        since = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  }
  return !w.destroyed;
}
