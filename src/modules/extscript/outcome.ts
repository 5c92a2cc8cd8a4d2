/** What one hook call came to: a reply, a timeout or a failure (every kind the issue names). */
import { type HookReply, type ParsedReply, parseReply, readReply } from './contract.ts';

export type HookOutcome =
  | {
      readonly kind: 'ok';
      readonly reply: HookReply;
      /** Reply fields dropped as implausible. */
      readonly ignored: readonly string[];
      /** The reply as received (for the debug log). */
      readonly raw: string;
      readonly durationMs: number;
    }
  | { readonly kind: 'timeout'; readonly durationMs: number }
  | { readonly kind: 'failure'; readonly error: string; readonly durationMs: number };

export function failure(error: string, started: number): HookOutcome {
  return { kind: 'failure', error, durationMs: performance.now() - started };
}

export function timeout(started: number): HookOutcome {
  return { kind: 'timeout', durationMs: performance.now() - started };
}

/** A received body: one JSON object, or a failure saying why not. */
export function fromBody(raw: string, started: number): HookOutcome {
  return fromParsed(parseReply(raw), raw, started);
}

/** A reply line already parsed from JSON (`value`), as received (`raw`). */
export function fromValue(value: unknown, raw: string, started: number): HookOutcome {
  return fromParsed(readReply(value), raw, started);
}

function fromParsed(p: ParsedReply, raw: string, started: number): HookOutcome {
  if (!p.ok) return failure(p.error, started);
  return { kind: 'ok', reply: p.reply, ignored: p.ignored, raw, durationMs: performance.now() - started };
}
