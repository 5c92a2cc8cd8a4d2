/**
 * One pass over the received bytes: start line, an offset table of header lines, the body range,
 * and the fields transaction matching needs. No regular expressions; strings are made only for
 * the eager fields. Never throws: a malformed message yields a ParseError with a reason.
 */
import { cseqMethodFromBytes, cseqSeqFromBytes, tagFromBytes } from './eager_bytes.ts';
import { fail, isParseError, type ParseError, SipErrors } from './errors.ts';
import { H, HEADER_NAMES, headerIdFromBytes } from './header_names.ts';
import { parseCSeq } from './header_values.ts';
import { HS, SipMessage, unfold } from './message.ts';
import { isKnownMethod, methodFromBytes } from './methods.ts';
import { findTagParam } from './name_addr.ts';
import { lastViaEnd, parseTopViaParm } from './via.ts';

export interface ParseOptions {
  /**
   * Datagram (UDP): a missing Content-Length means the body runs to the end of the datagram and
   * octets past Content-Length are ignored (RFC 3261 §18.3). Stream: the framer already cut the
   * message to its Content-Length. Default true.
   */
  datagram?: boolean;
  /** Refuse bodies larger than this many bytes. Default 1 MiB. */
  maxBodyBytes?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/** RFC 3261 token characters (§25.1), for method and header names. */
const TOKEN = new Uint8Array(256);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") {
  TOKEN[c.charCodeAt(0)] = 1;
}

const SIP_VERSION = [0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30]; // "SIP/2.0"
const MAX_UINT32 = 4294967295;

/** Bit per single-value header: seen once already. */
const SINGLE = new Uint8Array(HEADER_NAMES.length);
SINGLE[H.CALL_ID] = 1;
SINGLE[H.CSEQ] = 2;
SINGLE[H.FROM] = 4;
SINGLE[H.TO] = 8;
SINGLE[H.MAX_FORWARDS] = 16;
SINGLE[H.CONTENT_LENGTH] = 32;

function startsWithVersion(buf: Buffer, at: number, end: number): boolean {
  if (end - at < 4) return false;
  for (let i = 0; i < 4; i++) if (buf[at + i] !== SIP_VERSION[i]) return false;
  return true;
}

function isVersion20(buf: Buffer, at: number, end: number): boolean {
  if (end - at !== 7) return false;
  for (let i = 4; i < 7; i++) if (buf[at + i] !== SIP_VERSION[i]) return false;
  return true;
}

/** The header table under construction (reused: a message keeps an exact-size copy). */
const SCRATCH: number[] = [];

/** Parse a SIP message from `buf` (a UDP datagram, or one message framed from a stream). */
export function parseMessage(buf: Buffer, options?: ParseOptions): SipMessage | ParseError {
  const datagram = options?.datagram ?? true;
  const maxBody = options?.maxBodyBytes ?? 1048576;
  const len = buf.length;
  let pos = 0;
  // RFC 3261 §7.5: CRLFs before the start line are ignored.
  while (pos < len && (buf[pos] === CR || buf[pos] === LF)) pos++;
  if (pos >= len) return fail(SipErrors.EMPTY);
  const msg = new SipMessage(buf);
  msg.start = pos;

  // ---- start line
  let eol = buf.indexOf(LF, pos);
  if (eol < 0) return fail(SipErrors.HEADER_SECTION, 'no line end after the start line');
  const lineEnd = eol > pos && buf[eol - 1] === CR ? eol - 1 : eol;
  const err = parseStartLine(buf, pos, lineEnd, msg);
  if (err !== undefined) return err;
  pos = eol + 1;
  msg.headersStart = pos;

  // ---- header lines (into the scratch table; the message gets an exact-size copy)
  // (`length = 0` would give the scratch array's storage back; a count keeps it.)
  const hdr = SCRATCH;
  let hl = 0;
  let seen = 0;
  let clStart = -1;
  let clEnd = -1;
  let mfIdx = -1;
  for (;;) {
    if (pos >= len) return fail(SipErrors.HEADER_SECTION, 'no empty line after the headers');
    const c0 = buf[pos];
    if (c0 === CR && pos + 1 < len && buf[pos + 1] === LF) {
      msg.headersEnd = pos;
      pos += 2;
      break;
    }
    if (c0 === LF) {
      msg.headersEnd = pos;
      pos += 1;
      break;
    }
    eol = buf.indexOf(LF, pos);
    if (eol < 0) return fail(SipErrors.HEADER_SECTION, 'no empty line after the headers');
    let ve = eol > pos && buf[eol - 1] === CR ? eol - 1 : eol;
    if (c0 === SP || c0 === HT) {
      // Continuation of the previous header line (§7.3.1 folding).
      if (hl === 0) return fail(SipErrors.HEADER_LINE, 'continuation line before any header');
      while (ve > pos && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
      const o = hl - HS;
      if (ve > pos) {
        let k = pos;
        while (k < ve && (buf[k] === SP || buf[k] === HT)) k++;
        if (k < ve) {
          if (hdr[o + 3] === hdr[o + 4]) hdr[o + 3] = k; // value was empty so far
          hdr[o + 4] = ve;
          hdr[o + 6] = 1;
        }
      }
      hdr[o + 5] = eol + 1;
      pos = eol + 1;
      continue;
    }
    let n = pos;
    while (n < ve && TOKEN[buf[n]] === 1) n++;
    const nameEnd = n;
    while (n < ve && (buf[n] === SP || buf[n] === HT)) n++;
    if (nameEnd === pos || n >= ve || buf[n] !== COLON) {
      return fail(
        SipErrors.HEADER_LINE,
        `no colon after header name in line ${JSON.stringify(buf.latin1Slice(pos, Math.min(ve, pos + 40)))}`,
      );
    }
    n++;
    while (n < ve && (buf[n] === SP || buf[n] === HT)) n++;
    let te = ve;
    while (te > n && (buf[te - 1] === SP || buf[te - 1] === HT)) te--;
    const id = headerIdFromBytes(buf, pos, nameEnd);
    const bit = SINGLE[id];
    if (bit !== 0) {
      if ((seen & bit) !== 0)
        return fail(SipErrors.DUPLICATE_HEADER, `more than one ${HEADER_NAMES[id]} header`);
      seen |= bit;
      if (id === H.CONTENT_LENGTH) {
        clStart = hl;
      } else if (id === H.MAX_FORWARDS) mfIdx = hl;
    }
    hdr[hl] = id;
    hdr[hl + 1] = pos;
    hdr[hl + 2] = nameEnd;
    hdr[hl + 3] = n;
    hdr[hl + 4] = te;
    hdr[hl + 5] = eol + 1;
    hdr[hl + 6] = 0;
    hl += HS;
    pos = eol + 1;
  }
  msg.bodyStart = pos;
  msg.hdr = hdr.slice(0, hl);

  // ---- body range
  if (clStart >= 0) {
    const vs = hdr[clStart + 3];
    clEnd = hdr[clStart + 4];
    const cl = parseDecimal(buf, vs, clEnd);
    if (cl < 0) {
      return fail(
        SipErrors.CONTENT_LENGTH,
        `Content-Length ${JSON.stringify(buf.latin1Slice(vs, clEnd))} is not a number`,
      );
    }
    if (cl > maxBody)
      return fail(SipErrors.BODY_TOO_LARGE, `Content-Length ${cl} above the limit of ${maxBody}`);
    if (pos + cl > len) {
      return fail(SipErrors.BODY_TRUNCATED, `Content-Length ${cl} but only ${len - pos} body bytes`);
    }
    msg.contentLength = cl;
    // Octets past Content-Length in a datagram are ignored (RFC 3261 §18.3, RFC 4475 dblreq).
    msg.end = pos + cl;
  } else {
    if (!datagram && len > pos)
      return fail(SipErrors.CONTENT_LENGTH, 'missing Content-Length on a stream transport');
    if (len - pos > maxBody)
      return fail(SipErrors.BODY_TOO_LARGE, `body of ${len - pos} bytes above the limit`);
    msg.end = len;
  }

  // ---- eager fields
  if (mfIdx >= 0) {
    const mf = parseDecimal(buf, hdr[mfIdx + 3], hdr[mfIdx + 4]);
    if (mf < 0 || mf > 255) return fail(SipErrors.MAX_FORWARDS, 'Max-Forwards is not a number from 0 to 255');
    msg.maxForwards = mf;
  }
  return decodeEager(msg);
}

function parseStartLine(buf: Buffer, start: number, end: number, msg: SipMessage): ParseError | undefined {
  if (startsWithVersion(buf, start, end)) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    const sp = buf.indexOf(SP, start);
    if (sp < 0 || sp > end) return fail(SipErrors.START_LINE, 'status line without a status code');
    if (!isVersion20(buf, start, sp))
      return fail(SipErrors.VERSION, `unsupported version ${JSON.stringify(buf.latin1Slice(start, sp))}`);
    let code = 0;
    let i = sp + 1;
    const digitsStart = i;
    while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39 && i - digitsStart < 4)
      code = code * 10 + buf[i++] - 0x30;
    if (i - digitsStart !== 3 || (i < end && buf[i] !== SP)) {
      return fail(SipErrors.STATUS_CODE, 'status code is not three digits');
    }
    if (code < 100 || code > 699)
      return fail(SipErrors.STATUS_CODE, `status code ${code} out of range 100-699`);
    msg.status = code;
    msg.lineA = i < end ? i + 1 : end;
    msg.lineB = end;
    return undefined;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version
  let i = start;
  while (i < end && TOKEN[buf[i]] === 1) i++;
  if (i === start) return fail(SipErrors.METHOD, 'request line does not start with a method');
  if (i >= end || buf[i] !== SP) return fail(SipErrors.START_LINE, 'method not followed by a single space');
  msg.isRequest = true;
  msg.method = methodFromBytes(buf, start, i) ?? buf.latin1Slice(start, i);
  const uriStart = i + 1;
  if (uriStart >= end || buf[uriStart] === SP) {
    return fail(SipErrors.START_LINE, 'more than one space between method and Request-URI');
  }
  const uriEnd = buf.indexOf(SP, uriStart);
  if (uriEnd < 0 || uriEnd >= end) return fail(SipErrors.START_LINE, 'request line without a SIP version');
  if (buf[uriStart] === 0x3c) return fail(SipErrors.REQUEST_URI, 'Request-URI must not be enclosed in <>');
  const verStart = uriEnd + 1;
  if (!startsWithVersion(buf, verStart, end)) {
    if (buf[verStart] === SP) return fail(SipErrors.START_LINE, 'more than one space before the SIP version');
    return fail(SipErrors.REQUEST_URI, 'white space inside the Request-URI or no SIP version');
  }
  if (!isVersion20(buf, verStart, end)) {
    const sp = buf.indexOf(SP, verStart);
    if (sp >= 0 && sp < end && isVersion20(buf, verStart, sp)) {
      return fail(SipErrors.START_LINE, 'white space after the SIP version');
    }
    return fail(SipErrors.VERSION, `unsupported version ${JSON.stringify(buf.latin1Slice(verStart, end))}`);
  }
  if (!hasScheme(buf, uriStart, uriEnd)) return fail(SipErrors.REQUEST_URI, 'Request-URI has no scheme');
  msg.lineA = uriStart;
  msg.lineB = uriEnd;
  return undefined;
}

/** RFC 3986 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) followed by ':'. */
function hasScheme(buf: Buffer, start: number, end: number): boolean {
  const c0 = buf[start] | 0x20;
  if (c0 < 0x61 || c0 > 0x7a) return false;
  for (let i = start + 1; i < end; i++) {
    const c = buf[i];
    if (c === COLON) return true;
    const l = c | 0x20;
    if (!((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e))
      return false;
  }
  return false;
}

/** Digits with optional surrounding white space; -1 when not a number or above 2**32-1. */
function parseDecimal(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && (buf[i] === SP || buf[i] === HT)) i++;
  let e = end;
  while (e > i && (buf[e - 1] === SP || buf[e - 1] === HT)) e--;
  if (i === e) return -1;
  let n = 0;
  for (; i < e; i++) {
    const c = buf[i];
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + c - 0x30;
    if (n > MAX_UINT32) return -1;
  }
  return n;
}

/** Offset in the header table of the first header with `id`, -1 when none. */
function firstIndexOf(hdr: number[], id: number): number {
  for (let o = 0; o < hdr.length; o += HS) if (hdr[o] === id) return o;
  return -1;
}

function valueAt(msg: SipMessage, o: number): string {
  const hdr = msg.hdr;
  const v = msg.buf.latin1Slice(hdr[o + 3], hdr[o + 4]);
  return hdr[o + 6] === 0 ? v : unfold(v);
}

/**
 * The tag of the first From/To header at table offset `o`: read from the bytes when the value is
 * on one line and of the common shape (no string for the whole value), else by findTagParam.
 */
function tagAt(msg: SipMessage, o: number): string | undefined | ParseError {
  const hdr = msg.hdr;
  if (hdr[o + 6] === 0) {
    const t = tagFromBytes(msg.buf, hdr[o + 3], hdr[o + 4]);
    if (t !== null) return t;
  }
  return findTagParam(valueAt(msg, o));
}

function decodeEager(msg: SipMessage): SipMessage | ParseError {
  const hdr = msg.hdr;
  const buf = msg.buf;
  const callIdAt = firstIndexOf(hdr, H.CALL_ID);
  if (callIdAt < 0) return fail(SipErrors.MISSING_HEADER, 'no Call-ID header');
  const callId = valueAt(msg, callIdAt);
  if (callId.length === 0) return fail(SipErrors.CALL_ID, 'empty Call-ID');
  for (let i = 0; i < callId.length; i++) {
    const c = callId.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f)
      return fail(SipErrors.CALL_ID, 'Call-ID contains white space or non-ASCII octets');
  }
  msg.callId = callId;

  const cseqAt = firstIndexOf(hdr, H.CSEQ);
  if (cseqAt < 0) return fail(SipErrors.MISSING_HEADER, 'no CSeq header');
  const seq = hdr[cseqAt + 6] === 0 ? cseqSeqFromBytes(buf, hdr[cseqAt + 3], hdr[cseqAt + 4]) : -1;
  let cseqMethod: string;
  if (seq >= 0) {
    msg.cseq = seq;
    cseqMethod = cseqMethodFromBytes(buf, hdr[cseqAt + 3], hdr[cseqAt + 4]);
  } else {
    const cseq = parseCSeq(valueAt(msg, cseqAt));
    if (isParseError(cseq)) return cseq;
    msg.cseq = cseq.seq;
    cseqMethod = cseq.method;
  }
  msg.cseqMethod = cseqMethod;
  if (msg.isRequest) {
    if (cseqMethod !== msg.method) {
      const detail = `CSeq method ${cseqMethod} differs from request method ${msg.method}`;
      return !isKnownMethod(msg.method)
        ? fail(SipErrors.CSEQ_METHOD_UNKNOWN, detail)
        : fail(SipErrors.CSEQ_METHOD, detail);
    }
  } else {
    msg.method = cseqMethod;
  }

  const fromAt = firstIndexOf(hdr, H.FROM);
  if (fromAt < 0) return fail(SipErrors.MISSING_HEADER, 'no From header');
  const fromTag = tagAt(msg, fromAt);
  if (isParseError(fromTag)) return fail(SipErrors.FROM, fromTag.detail);
  msg.fromTag = fromTag;

  const toAt = firstIndexOf(hdr, H.TO);
  if (toAt < 0) return fail(SipErrors.MISSING_HEADER, 'no To header');
  const toTag = tagAt(msg, toAt);
  if (isParseError(toTag)) return fail(SipErrors.TO, toTag.detail);
  msg.toTag = toTag;

  const viaAt = firstIndexOf(hdr, H.VIA);
  if (viaAt < 0) return fail(SipErrors.MISSING_HEADER, 'no Via header');
  const via = valueAt(msg, viaAt);
  const top = parseTopViaParm(via);
  if (isParseError(top)) return fail(SipErrors.VIA, top.detail);
  msg.topVia = top;
  msg.topViaEnd = lastViaEnd();
  msg.topViaText = via;
  return msg;
}
