/**
 * SER text protocol replies: a status line like a SIP reply's (`200 OK`, `500 command 'x' not
 * available`, `404 AOR not found`), then the result as lines.
 */
import type { MiCommand } from './command.ts';
import { CHUNK_CHARS, cutText, isAsyncIterable, jsonText } from './json_stream.ts';
import {
  INVALID_PARAMS,
  INVALID_REQUEST,
  METHOD_NOT_FOUND,
  type MiOutcome,
  PARSE_ERROR,
} from './registry.ts';

function scalar(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** A result as text lines: strings as they are, arrays one item a line, objects `key: value`. */
export function resultLines(result: unknown): string[] {
  if (result === null || result === undefined) return [];
  if (typeof result === 'string') return result === '' ? [] : result.replace(/\n$/, '').split('\n');
  if (Array.isArray(result)) return result.map(scalar);
  if (typeof result === 'object') return Object.entries(result).map(([k, v]) => `${k}: ${scalar(v)}`);
  return [scalar(result)];
}

/** SIP-like status code of an outcome: JSON-RPC protocol codes become 400 / 500. */
export function textCode(code: number): number {
  if (code >= 100 && code <= 699) return code;
  return code === INVALID_PARAMS || code === INVALID_REQUEST || code === PARSE_ERROR ? 400 : 500;
}

/** The whole reply text, ending with a newline. */
export function formatTextReply(command: string, cmd: MiCommand | undefined, out: MiOutcome): string {
  if (!out.ok) {
    if (out.code === METHOD_NOT_FOUND) return `500 command '${command}' not available\n`;
    return `${textCode(out.code)} ${out.message.replace(/\s*\n\s*/g, ' ')}\n`;
  }
  const custom = cmd?.text?.reply?.(out.result);
  const head = custom === undefined ? '200 OK' : `${custom.code} ${custom.reason}`;
  const lines = custom === undefined ? resultLines(out.result) : custom.lines;
  return `${[head, ...lines].join('\n')}\n`;
}

/** Async iterables (streamed lists) inside arrays and plain objects, read into arrays. */
export async function materialize(v: unknown): Promise<unknown> {
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const m = v[i] !== null && typeof v[i] === 'object' ? await materialize(v[i]) : v[i];
      if (m !== v[i]) {
        out ??= v.slice();
        out[i] = m;
      }
    }
    return out ?? v;
  }
  if (isAsyncIterable(v)) {
    const out: unknown[] = [];
    for await (const x of v) out.push(await materialize(x));
    return out;
  }
  if (v !== null && typeof v === 'object') {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return v;
    let out: Record<string, unknown> | undefined;
    for (const [k, x] of Object.entries(v)) {
      const m = await materialize(x);
      if (m !== x) {
        out ??= { ...(v as Record<string, unknown>) };
        out[k] = m;
      }
    }
    return out ?? v;
  }
  return v;
}

async function lineOf(v: unknown): Promise<string> {
  if (v !== null && typeof v === 'object') return (await jsonText(v)) ?? '';
  return scalar(v) ?? '';
}

/**
 * The same reply as formatTextReply, as chunks of about 64 KiB: a list result (an array or an
 * async iterable) is read and written one item a line without building the whole text.
 */
export async function* textReplyChunks(
  command: string,
  cmd: MiCommand | undefined,
  out: MiOutcome,
): AsyncGenerator<string, void, undefined> {
  if (!out.ok || cmd?.text?.reply !== undefined) {
    const result = out.ok ? await materialize(out.result) : undefined;
    const text = formatTextReply(command, cmd, out.ok ? { ok: true, result } : out);
    yield* cutText(text);
    return;
  }
  const result = out.result;
  let buf = '200 OK\n';
  if (Array.isArray(result) || isAsyncIterable(result)) {
    for await (const item of result as AsyncIterable<unknown>) {
      buf += `${await lineOf(item)}\n`;
      if (buf.length >= CHUNK_CHARS) {
        yield* cutText(buf);
        buf = '';
      }
    }
  } else if (result !== null && typeof result === 'object') {
    for (const [k, v] of Object.entries(result)) {
      buf += `${k}: ${v !== null && typeof v === 'object' ? await lineOf(v) : scalar(v)}\n`;
      if (buf.length >= CHUNK_CHARS) {
        yield* cutText(buf);
        buf = '';
      }
    }
  } else {
    for (const l of resultLines(result)) buf += `${l}\n`;
  }
  yield* cutText(buf);
}
