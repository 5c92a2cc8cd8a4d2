/**
 * The M4 external script contract, field for field (../shared/seeds/m4-external-script.txt):
 * the request `{"cp_id","user_id","src","dst"}` and the optional reply fields `status_code`,
 * `message`, `reject_call`, `new_src`, `src_prefix`, `src_suffix`, `new_dst`, `dst_prefix`,
 * `dst_suffix`. Apply order: `new_*` replaces, then prefix and suffix are added.
 */

export interface HookRequest {
  readonly cp_id: number;
  readonly user_id: number;
  readonly src: string;
  readonly dst: string;
}

/** A reply as read: only the fields that were present with a usable value. */
export interface HookReply {
  status_code?: number;
  message?: string;
  reject_call?: boolean;
  new_src?: string;
  src_prefix?: string;
  src_suffix?: string;
  new_dst?: string;
  dst_prefix?: string;
  dst_suffix?: string;
}

/** Largest reply body accepted (HTTP body or a local script's output). */
export const MAX_REPLY_BYTES = 64 * 1024;

const NUMBER_FIELDS = ['new_src', 'src_prefix', 'src_suffix', 'new_dst', 'dst_prefix', 'dst_suffix'] as const;

/** One JSON line; the order of the keys is the seed's. */
export function encodeRequest(r: HookRequest): string {
  return JSON.stringify({ cp_id: r.cp_id, user_id: r.user_id, src: r.src, dst: r.dst });
}

/**
 * A plausible number (or part of one): digits, `+`, `*`, `#`, letters, `.`, `-`, `_`, at most 64
 * characters. Anything else from a script is ignored (and logged), so it never reaches a header.
 */
export function isPlausibleNumber(s: string): boolean {
  if (s.length > 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x2b || // +
      c === 0x2a || // *
      c === 0x23 || // #
      c === 0x2e || // .
      c === 0x2d || // -
      c === 0x5f; // _
    if (!ok) return false;
  }
  return true;
}

/** Reason phrase from `message`: CR/LF (and other controls) removed, at most 128 characters. */
export function reasonPhrase(message: string | undefined, fallback: string): string {
  if (message === undefined) return fallback;
  let out = '';
  for (const ch of message) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f) continue;
    out += ch;
    if (out.length >= 128) break;
  }
  out = out.slice(0, 128).trim();
  return out === '' ? fallback : out;
}

export type ParsedReply =
  | { readonly ok: true; readonly reply: HookReply; readonly ignored: readonly string[] }
  | { readonly ok: false; readonly error: string };

/**
 * Read a reply body. Not one JSON object → failure. Fields of the wrong type or implausible
 * numbers are dropped and listed in `ignored` (for the log); unknown fields are ignored silently.
 */
export function parseReply(text: string): ParsedReply {
  const body = text.trim();
  if (body === '') return { ok: false, error: 'empty reply' };
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return { ok: false, error: 'reply is not JSON' };
  }
  return readReply(v);
}

/** A reply already parsed from JSON (a persistent program's line, parsed once for its id). */
export function readReply(v: unknown): ParsedReply {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { ok: false, error: 'reply is not a JSON object' };
  }
  const o = v as Record<string, unknown>;
  const reply: HookReply = {};
  const ignored: string[] = [];
  if (o.status_code !== undefined) {
    if (typeof o.status_code === 'number' && Number.isFinite(o.status_code))
      reply.status_code = o.status_code;
    else ignored.push('status_code');
  }
  if (o.message !== undefined) {
    if (typeof o.message === 'string') reply.message = o.message;
    else ignored.push('message');
  }
  // M4: 1 rejects, any other value is ignored ("1" as a string is taken as 1 too).
  if (o.reject_call !== undefined) reply.reject_call = o.reject_call === 1 || o.reject_call === '1';
  for (const f of NUMBER_FIELDS) {
    const x = o[f];
    if (x === undefined || x === null) continue;
    const s = typeof x === 'number' && Number.isInteger(x) && x >= 0 ? String(x) : x;
    if (typeof s === 'string' && isPlausibleNumber(s)) reply[f] = s;
    else ignored.push(f);
  }
  return { ok: true, reply, ignored };
}

/** New src and dst from a reply: `new_*` replaces, then prefix and suffix are added. */
export function applyReply(reply: HookReply, src: string, dst: string): { src: string; dst: string } {
  const s = (reply.src_prefix ?? '') + (reply.new_src ?? src) + (reply.src_suffix ?? '');
  const d = (reply.dst_prefix ?? '') + (reply.new_dst ?? dst) + (reply.dst_suffix ?? '');
  return { src: s, dst: d };
}
