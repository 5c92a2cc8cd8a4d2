/**
 * Message framing for SIP over byte streams (TCP, TLS) and for message-oriented transports
 * (WebSocket, where every WS message carries exactly one SIP message).
 *
 * On a stream, RFC 3261 §18.3 makes Content-Length mandatory: the header section ends at the first
 * empty line and the body is exactly Content-Length octets. Anything that makes the length
 * unknowable (missing, negative, non-numeric, two differing values — RFC 4475 ncl / mcl01) breaks the
 * framing for good: the framer reports one 'error' and the transport answers 400 if it can and closes.
 *
 * CRLFs before a start line are RFC 5626 §3.5.1 keep-alives (RFC 3261 §7.5 says to ignore them):
 * a double CRLF is a "ping" (answer with a single CRLF), a single CRLF is a "pong".
 *
 * The framer never throws on wire input and never parses more than it needs: it finds the end of
 * the header section and the Content-Length value, nothing else.
 */

import { ParseError, SipErrors } from './errors.ts';
import { H, headerIdFromBytes } from './header_names.ts';

export interface FramerLimits {
  /** Start line + header lines + the empty line; default 64 KiB. */
  maxHeaderBytes: number;
  /** Largest Content-Length accepted; default 1 MiB. */
  maxBodyBytes: number;
}

export const DEFAULT_FRAMER_LIMITS: Readonly<FramerLimits> = Object.freeze({
  maxHeaderBytes: 65536,
  maxBodyBytes: 1024 * 1024,
});

export type FrameEvent =
  | { kind: 'message'; data: Buffer }
  | { kind: 'ping' }
  | { kind: 'pong' }
  | { kind: 'error'; error: ParseError };

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Content-Length values at or above this are all "too large" (keeps arithmetic exact). */
const CL_SATURATED = 1e15;

const PING: FrameEvent = Object.freeze({ kind: 'ping' });
const PONG: FrameEvent = Object.freeze({ kind: 'pong' });

function resolveLimits(limits: Partial<FramerLimits> | undefined): FramerLimits {
  const maxHeaderBytes = limits?.maxHeaderBytes ?? DEFAULT_FRAMER_LIMITS.maxHeaderBytes;
  const maxBodyBytes = limits?.maxBodyBytes ?? DEFAULT_FRAMER_LIMITS.maxBodyBytes;
  // Configuration errors are programming errors, not wire input: fail loudly.
  if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 1) {
    throw new RangeError(`maxHeaderBytes must be a positive integer, got ${maxHeaderBytes}`);
  }
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw new RangeError(`maxBodyBytes must be a non-negative integer, got ${maxBodyBytes}`);
  }
  return { maxHeaderBytes, maxBodyBytes };
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Content-Length scanner: a byte-at-a-time state machine over the header section, so that it can
// be fed the section in as many pieces as the chunk list holds (no concatenation needed).
// Lines end in CRLF or bare LF; a line starting with SP/HT continues the previous one (folding).

const S_SKIP = 0; // skipping to the end of the current line (start line, uninteresting header)
const S_LINE_START = 1;
const S_NAME = 2;
const S_NAME_WS = 3; // LWS between the header name and the colon
const S_VALUE = 4;
const S_FAILED = 5;

/** Longest header name worth classifying ("Content-Length" is 14 bytes). */
const NAME_MAX = 32;

/** Result of a scan: the Content-Length, MISSING, or a ParseError. */
const MISSING = -1;

class ContentLengthScanner {
  private state = S_SKIP;
  private readonly name = new Uint8Array(NAME_MAX);
  private nameLen = 0;
  /** The logical header line being read is a Content-Length (a folded line continues its value). */
  private inValue = false;
  private cur = 0;
  private curDigits = 0;
  /** LWS seen after the digits of the current value: another digit is an error. */
  private curClosed = false;
  private found = MISSING;
  private error: ParseError | null = null;

  reset(): void {
    this.state = S_SKIP;
    this.nameLen = 0;
    this.inValue = false;
    this.cur = 0;
    this.curDigits = 0;
    this.curClosed = false;
    this.found = MISSING;
    this.error = null;
  }

  /** Feed buf[start, end) — the next bytes of the header section (start line first). */
  feed(buf: Uint8Array, start: number, end: number): void {
    let i = start;
    while (i < end) {
      switch (this.state) {
        case S_SKIP: {
          const nl = buf.indexOf(LF, i);
          if (nl === -1 || nl >= end) return;
          i = nl + 1;
          this.state = S_LINE_START;
          break;
        }
        case S_LINE_START: {
          const b = buf[i];
          if (b === SP || b === HT) {
            // Line folding: the line continues the previous header (its value, if Content-Length).
            this.state = this.inValue ? S_VALUE : S_SKIP;
            i++;
            break;
          }
          if (this.inValue) {
            this.inValue = false;
            if (!this.endValue()) return;
          }
          const lower = b | 0x20;
          if (lower === 0x63 /* c */ || lower === 0x6c /* l */) {
            this.nameLen = 0;
            this.state = S_NAME;
          } else {
            // Any other header, or CR / LF of the empty line that closes the section.
            this.state = S_SKIP;
          }
          break;
        }
        case S_NAME: {
          const b = buf[i];
          if (b === COLON) {
            this.endName();
            i++;
          } else if (b === SP || b === HT) {
            this.state = S_NAME_WS;
            i++;
          } else if (b === CR || b === LF) {
            this.state = S_SKIP; // no colon: not a header line the framer cares about
          } else {
            if (this.nameLen < NAME_MAX) this.name[this.nameLen] = b;
            this.nameLen++;
            i++;
          }
          break;
        }
        case S_NAME_WS: {
          const b = buf[i];
          if (b === COLON) {
            this.endName();
            i++;
          } else if (b === SP || b === HT) {
            i++;
          } else {
            this.state = S_SKIP; // "Content Length: 5" is some other (malformed) line
          }
          break;
        }
        case S_VALUE: {
          const b = buf[i];
          if (b >= DIGIT_0 && b <= DIGIT_9) {
            if (this.curClosed) {
              this.fail('non-numeric Content-Length');
              return;
            }
            this.cur = this.cur >= CL_SATURATED / 10 ? CL_SATURATED : this.cur * 10 + (b - DIGIT_0);
            this.curDigits++;
          } else if (b === SP || b === HT || b === CR) {
            if (this.curDigits > 0) this.curClosed = true;
          } else if (b === LF) {
            this.state = S_LINE_START; // inValue stays set: a folded line may continue the value
          } else if (b === COMMA) {
            // Not a list header, but "5, 5" is one value written twice; differing values fail below.
            if (!this.endValue()) return;
          } else if (b === MINUS && this.curDigits === 0) {
            this.fail('negative Content-Length');
            return;
          } else {
            this.fail('non-numeric Content-Length');
            return;
          }
          i++;
          break;
        }
        default:
          return; // S_FAILED
      }
    }
  }

  /** Content-Length, MISSING, or the reason it is unusable. Call after the whole section was fed. */
  finish(): number | ParseError {
    if (this.error === null && this.inValue) {
      this.inValue = false;
      this.endValue();
    }
    return this.error ?? this.found;
  }

  private endName(): void {
    const id = this.nameLen <= NAME_MAX ? headerIdFromBytes(this.name, 0, this.nameLen) : 0;
    if (id === H.CONTENT_LENGTH) {
      this.state = S_VALUE;
      this.inValue = true;
      this.cur = 0;
      this.curDigits = 0;
      this.curClosed = false;
    } else {
      this.state = S_SKIP;
    }
  }

  /** Close the value being read; false (and failed) when it is empty or contradicts an earlier one. */
  private endValue(): boolean {
    if (this.curDigits === 0) {
      this.fail('empty Content-Length');
      return false;
    }
    const v = this.cur;
    this.cur = 0;
    this.curDigits = 0;
    this.curClosed = false;
    if (this.found === MISSING) {
      this.found = v;
    } else if (this.found !== v) {
      this.fail(`conflicting Content-Length values ${this.found} and ${v}`);
      return false;
    }
    return true;
  }

  private fail(detail: string): void {
    this.error ??= new ParseError(SipErrors.CONTENT_LENGTH, detail);
    this.state = S_FAILED;
  }
}

// ---------------------------------------------------------------------------------------------
// End-of-header-section search. States: 0 = inside a line, 1 = just after an LF, 2 = after LF CR.
// The section ends at LF LF or LF CR LF (so CRLFCRLF, bare LFLF and LF CRLF all count).

const E_IN_LINE = 0;
const E_AFTER_LF = 1;
const E_AFTER_LF_CR = 2;

/** Keep-alive unit at a position: CRLF (2), bare LF (1), not a line end (0), lone CR at the end (NEED). */
const UNIT_NONE = 0;
const UNIT_NEED_MORE = -1;
const UNIT_END = -2;

const PHASE_IDLE = 0; // between messages: consuming keep-alives
const PHASE_HEADER = 1; // looking for the end of the header section
const PHASE_BODY = 2; // waiting for `need` bytes
const PHASE_FAILED = 3;

/**
 * Incremental framer for one connection. push() takes ownership of each chunk: the framer may keep
 * it (or return `subarray`s of it) after push() returns, so the caller must not reuse the memory
 * (e.g. a socket `onread` buffer) — copy first in that case.
 */
export class StreamFramer {
  private readonly limits: FramerLimits;
  /** Unconsumed input; chunks[0] starts at `head`. */
  private chunks: Buffer[] = [];
  private head = 0;
  private pending = 0;
  private phase = PHASE_IDLE;
  /** Resume point of the header-end search: chunk index, position in it, state, and the
   *  message-relative offset of that chunk's byte 0. */
  private scanChunk = 0;
  private scanPos = 0;
  private scanState = E_IN_LINE;
  private scanBase = 0;
  /** Total length of the message being waited for (PHASE_BODY). */
  private need = 0;
  private readonly scanner = new ContentLengthScanner();

  constructor(limits?: Partial<FramerLimits>) {
    this.limits = resolveLimits(limits);
  }

  /** Bytes buffered but not yet framed (for the transport's memory caps). */
  get pendingBytes(): number {
    return this.pending;
  }

  get failed(): boolean {
    return this.phase === PHASE_FAILED;
  }

  /** Feed a chunk; returns the events it completes, in order. After an 'error' the framer stays
   *  failed and returns nothing more. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.phase === PHASE_FAILED || chunk.length === 0) return [];
    this.chunks.push(asBuffer(chunk));
    this.pending += chunk.length;
    const events: FrameEvent[] = [];
    for (;;) {
      if (this.phase === PHASE_IDLE) {
        if (!this.skipKeepAlives(events)) break;
        this.startMessage();
      }
      if (this.phase === PHASE_HEADER) {
        const headerLen = this.findHeaderEnd();
        if (headerLen === -1) {
          if (this.pending >= this.limits.maxHeaderBytes) this.headerTooLarge(events);
          break;
        }
        if (headerLen > this.limits.maxHeaderBytes) {
          this.headerTooLarge(events);
          break;
        }
        const bodyLen = this.contentLength(headerLen);
        if (bodyLen instanceof ParseError) {
          this.fail(events, bodyLen);
          break;
        }
        if (bodyLen === MISSING) {
          this.fail(
            events,
            new ParseError(SipErrors.CONTENT_LENGTH, 'missing Content-Length on a stream transport'),
          );
          break;
        }
        if (bodyLen > this.limits.maxBodyBytes) {
          this.fail(events, bodyTooLarge(bodyLen, this.limits.maxBodyBytes));
          break;
        }
        this.need = headerLen + bodyLen;
        this.phase = PHASE_BODY;
      }
      // PHASE_BODY
      if (this.pending < this.need) break;
      events.push({ kind: 'message', data: this.take(this.need) });
      this.phase = PHASE_IDLE;
    }
    return events;
  }

  /**
   * Consume CRLFs before a start line, emitting ping / pong. Returns true when a message starts at
   * the head of the buffer, false when more input is needed. A CRLF followed by the end of the
   * input is reported as a pong at once (a client waiting for its pong must not be kept waiting);
   * a ping split exactly between its two CRLFs is therefore seen as two pongs, which costs one
   * keep-alive round at worst. "CRLF CR" at the end waits for the LF (a ping in progress).
   */
  private skipKeepAlives(events: FrameEvent[]): boolean {
    while (this.pending > 0) {
      const u1 = this.unitAt(0);
      if (u1 === UNIT_NEED_MORE) return false;
      if (u1 === UNIT_NONE) return true;
      const u2 = this.unitAt(u1);
      if (u2 === UNIT_NEED_MORE) return false;
      if (u2 > 0) {
        this.discard(u1 + u2);
        events.push(PING);
      } else {
        this.discard(u1);
        events.push(PONG);
      }
    }
    return false;
  }

  private unitAt(off: number): number {
    if (off >= this.pending) return UNIT_END;
    const b = this.byteAt(off);
    if (b === LF) return 1;
    if (b !== CR) return UNIT_NONE;
    if (off + 1 >= this.pending) return UNIT_NEED_MORE;
    // A CR not followed by LF is not a keep-alive: it starts the (malformed) message.
    return this.byteAt(off + 1) === LF ? 2 : UNIT_NONE;
  }

  /** Byte at a small offset from the head (off < pending). */
  private byteAt(off: number): number {
    let p = this.head + off;
    let ci = 0;
    while (p >= this.chunks[ci].length) {
      p -= this.chunks[ci].length;
      ci++;
    }
    return this.chunks[ci][p];
  }

  private startMessage(): void {
    this.phase = PHASE_HEADER;
    this.scanChunk = 0;
    this.scanPos = this.head;
    this.scanState = E_IN_LINE;
    this.scanBase = -this.head;
  }

  /** Length of the header section (through the empty line) or -1; resumes where it stopped. */
  private findHeaderEnd(): number {
    const chunks = this.chunks;
    let ci = this.scanChunk;
    let pos = this.scanPos;
    let st = this.scanState;
    let base = this.scanBase;
    while (ci < chunks.length) {
      const c = chunks[ci];
      const len = c.length;
      while (pos < len) {
        if (st === E_IN_LINE) {
          const nl = c.indexOf(LF, pos);
          if (nl === -1) {
            pos = len;
            break;
          }
          st = E_AFTER_LF;
          pos = nl + 1;
        } else {
          const b = c[pos];
          if (b === LF) return base + pos + 1;
          if (b === CR && st === E_AFTER_LF) {
            st = E_AFTER_LF_CR;
            pos++;
          } else {
            st = E_IN_LINE; // b is not LF: the indexOf above steps over it
          }
        }
      }
      base += len;
      ci++;
      pos = 0;
    }
    this.scanChunk = ci;
    this.scanPos = pos;
    this.scanState = st;
    this.scanBase = base;
    return -1;
  }

  /** Run the Content-Length scanner over the first headerLen buffered bytes, chunk by chunk. */
  private contentLength(headerLen: number): number | ParseError {
    const scanner = this.scanner;
    scanner.reset();
    let remaining = headerLen;
    let start = this.head;
    for (let ci = 0; remaining > 0; ci++) {
      const c = this.chunks[ci];
      const end = Math.min(c.length, start + remaining);
      scanner.feed(c, start, end);
      remaining -= end - start;
      start = 0;
    }
    return scanner.finish();
  }

  /** Remove n bytes from the head and return them: a zero-copy view when they lie in one chunk. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (this.head + n <= first.length) {
      const data = first.subarray(this.head, this.head + n);
      this.discard(n);
      return data;
    }
    const data = Buffer.allocUnsafe(n);
    let copied = 0;
    let ci = 0;
    let start = this.head;
    while (copied < n) {
      const c = this.chunks[ci];
      const end = Math.min(c.length, start + (n - copied));
      copied += c.copy(data, copied, start, end);
      if (end === c.length) {
        ci++;
        start = 0;
      } else {
        start = end;
      }
    }
    this.chunks.splice(0, ci);
    this.head = start;
    this.pending -= n;
    return data;
  }

  /** Drop n bytes from the head. */
  private discard(n: number): void {
    this.pending -= n;
    let head = this.head + n;
    let drop = 0;
    while (drop < this.chunks.length && head >= this.chunks[drop].length) {
      head -= this.chunks[drop].length;
      drop++;
    }
    if (drop > 0) this.chunks.splice(0, drop);
    this.head = this.chunks.length === 0 ? 0 : head;
  }

  private headerTooLarge(events: FrameEvent[]): void {
    this.fail(
      events,
      new ParseError(
        SipErrors.HEADER_TOO_LARGE,
        `header section not terminated within ${this.limits.maxHeaderBytes} bytes`,
      ),
    );
  }

  private fail(events: FrameEvent[], error: ParseError): void {
    events.push({ kind: 'error', error });
    this.phase = PHASE_FAILED;
    this.chunks = [];
    this.head = 0;
    this.pending = 0;
  }
}

function bodyTooLarge(length: number, max: number): ParseError {
  const shown = length >= CL_SATURATED ? `${CL_SATURATED}+` : String(length);
  return new ParseError(SipErrors.BODY_TOO_LARGE, `Content-Length ${shown} above the ${max}-byte limit`);
}

/**
 * Frame one complete buffer that is known to hold exactly one SIP message — a WebSocket message
 * (RFC 7118 §5: one SIP message per WS message, so Content-Length is optional) or any other
 * message-oriented transport. Same rules as the stream framer except:
 * - a buffer of CRLFs only is a keep-alive: one CRLF is a pong, two or more a ping (SIP.js and
 *   others send CRLF keep-alives inside WS messages);
 * - without Content-Length the body is the rest of the buffer;
 * - Content-Length larger than what follows the header section is BODY_TRUNCATED; octets beyond
 *   it are ignored (as RFC 3261 §18.3 does for datagrams) and not part of `data`;
 * - an empty buffer is EMPTY and an unterminated header section is HEADER_SECTION.
 * An 'error' here concerns only this message: the framing of later messages is not affected.
 * `data` is a zero-copy view of `buf`.
 */
export function frameCompleteMessage(buf: Buffer, limits?: Partial<FramerLimits>): FrameEvent {
  const lim = resolveLimits(limits);
  const b = asBuffer(buf);
  const len = b.length;
  if (len === 0) return { kind: 'error', error: new ParseError(SipErrors.EMPTY, 'empty message') };

  // Leading keep-alive CRLFs (bare LFs tolerated).
  let start = 0;
  let units = 0;
  while (start < len) {
    if (b[start] === LF) start += 1;
    else if (b[start] === CR && start + 1 < len && b[start + 1] === LF) start += 2;
    else break;
    units++;
  }
  if (start === len) return units >= 2 ? PING : PONG;

  // End of the header section.
  let headerEnd = -1;
  let st = E_IN_LINE;
  let pos = start;
  while (pos < len) {
    if (st === E_IN_LINE) {
      const nl = b.indexOf(LF, pos);
      if (nl === -1) break;
      st = E_AFTER_LF;
      pos = nl + 1;
    } else {
      const c = b[pos];
      if (c === LF) {
        headerEnd = pos + 1;
        break;
      }
      if (c === CR && st === E_AFTER_LF) {
        st = E_AFTER_LF_CR;
        pos++;
      } else {
        st = E_IN_LINE;
      }
    }
  }
  if (headerEnd === -1 || headerEnd - start > lim.maxHeaderBytes) {
    if (len - start > lim.maxHeaderBytes) {
      return {
        kind: 'error',
        error: new ParseError(
          SipErrors.HEADER_TOO_LARGE,
          `header section not terminated within ${lim.maxHeaderBytes} bytes`,
        ),
      };
    }
    return {
      kind: 'error',
      error: new ParseError(SipErrors.HEADER_SECTION, 'no empty line after the header section'),
    };
  }

  const scanner = new ContentLengthScanner();
  scanner.feed(b, start, headerEnd);
  const cl = scanner.finish();
  if (cl instanceof ParseError) return { kind: 'error', error: cl };
  const available = len - headerEnd;
  const bodyLen = cl === MISSING ? available : cl;
  if (bodyLen > lim.maxBodyBytes) return { kind: 'error', error: bodyTooLarge(bodyLen, lim.maxBodyBytes) };
  if (bodyLen > available) {
    return {
      kind: 'error',
      error: new ParseError(
        SipErrors.BODY_TRUNCATED,
        `Content-Length ${bodyLen} but only ${available} body bytes received`,
      ),
    };
  }
  return { kind: 'message', data: b.subarray(start, headerEnd + bodyLen) };
}
