/**
 * Messages built from scratch: locally generated responses (RFC 3261 §8.2.6), the ACK for a
 * non-2xx final response (§17.1.1.3), CANCEL (§9.1) and new requests (§8.1.1).
 * Header lines copied from a received message are copied as bytes, not re-rendered.
 */
import { createHash, randomBytes } from 'node:crypto';
import { applyEdits, copyRange, utf8Length, writeString } from './edits.ts';
import { H } from './header_names.ts';
import { HS, type SipMessage } from './message.ts';

/** RFC 3261 §21 reason phrases for the codes a server generates. */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  199: 'Early Dialog Terminated',
  200: 'OK',
  202: 'Accepted',
  204: 'No Notification',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  412: 'Conditional Request Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  421: 'Extension Required',
  423: 'Interval Too Brief',
  428: 'Use Identity Header',
  429: 'Provide Referrer Identity',
  430: 'Flow Failed',
  433: 'Anonymity Disallowed',
  439: 'First Hop Lacks Outbound Support',
  440: 'Max-Breadth Exceeded',
  469: 'Bad Info Package',
  470: 'Consent Needed',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event',
  491: 'Request Pending',
  493: 'Undecipherable',
  494: 'Security Agreement Required',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  580: 'Precondition Failure',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
  607: 'Unwanted',
};

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? (status < 200 ? 'Trying' : status < 300 ? 'OK' : 'Unknown');
}

// ---------------------------------------------------------------- identifiers

/** RFC 3261 §8.1.1.7: branch IDs start with the magic cookie; ours are unique per process run. */
export const MAGIC_COOKIE = 'z9hG4bK';
const runId = randomBytes(6).toString('hex');
let counter = 0;

/** A new, globally unique Via branch (cookie + random run prefix + counter). */
export function newBranch(): string {
  counter = (counter + 1) % 0x7fffffff;
  return `${MAGIC_COOKIE}${runId}.${counter.toString(36)}`;
}

/** A new From/To tag (RFC 3261 §19.3: at least 32 bits of randomness). */
export function newTag(): string {
  return randomBytes(6).toString('hex');
}

/**
 * The To tag of replies generated locally for a request: the same for every retransmission of
 * that request (RFC 3261 §8.2.6.2), so a hash of what identifies it rather than random.
 */
export function localToTag(req: SipMessage): string {
  return createHash('sha1')
    .update(req.callId)
    .update(req.fromTag ?? '')
    .update(req.topVia.branch ?? '')
    .digest('hex')
    .slice(0, 16);
}

/** A new Call-ID (globally unique: random part plus host). */
export function newCallId(host?: string): string {
  const id = randomBytes(12).toString('hex');
  return host === undefined ? id : `${id}@${host}`;
}

// ---------------------------------------------------------------- responses

export interface ResponseOptions {
  /** Tag added to To when the request has none (ignored for 100, §8.2.6.2). */
  toTag?: string;
  /** Extra header lines, in order. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
  contentType?: string;
  /** Copy Record-Route (a UAS answering a dialog-creating request, §12.1.1). */
  copyRecordRoute?: boolean;
}

/**
 * Copy every header line with `id`. Edits the transport made inside them stay: a response's Via
 * must carry the `received`/`rport` the server stamped on the request (RFC 3581 §4, §8.2.6.2).
 */
function copyLines(req: SipMessage, id: number, parts: Array<Buffer | string>): void {
  const hdr = req.hdr;
  for (let o = 0; o < hdr.length; o += HS) {
    if (hdr[o] !== id) continue;
    parts.push(
      req.edits === null
        ? req.buf.subarray(hdr[o + 1], hdr[o + 5])
        : applyEdits(req.buf, hdr[o + 1], hdr[o + 5], [req.edits]),
    );
  }
}

/** Header line (folding normalised to the value only) of the first header with `id`. */
function copyFirstLine(req: SipMessage, id: number, parts: Array<Buffer | string>): boolean {
  const i = req.findHeader(id);
  if (i < 0) return false;
  const [s, e] = req.headerLineRange(i);
  parts.push(req.buf.subarray(s, e));
  return true;
}

/** Reused by joinParts: the UTF-8 length of each string part (not reentrant). */
const partLengths: number[] = [];

function joinParts(parts: Array<Buffer | string>): Buffer {
  let size = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const n = typeof p === 'string' ? utf8Length(p) : p.length;
    partLengths[i] = n;
    size += n;
  }
  const out = Buffer.allocUnsafe(size);
  let w = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    w = typeof p === 'string' ? writeString(out, w, p, partLengths[i]) : copyRange(p, 0, p.length, out, w);
  }
  partLengths.length = 0;
  return out;
}

function appendExtras(parts: Array<Buffer | string>, opts: ResponseOptions | RequestSpec | undefined): void {
  if (opts?.headers !== undefined) for (const [n, v] of opts.headers) parts.push(`${n}: ${v}\r\n`);
  const body =
    opts?.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
  if (body !== undefined && body.length > 0 && opts?.contentType !== undefined)
    parts.push(`Content-Type: ${opts.contentType}\r\n`);
  parts.push(`Content-Length: ${body?.length ?? 0}\r\n\r\n`);
  if (body !== undefined && body.length > 0) parts.push(body);
}

/**
 * A response to `req` (§8.2.6.2): Via lines, From, Call-ID and CSeq copied as received, To
 * copied with `toTag` added when the request had none.
 */
export function buildResponse(
  req: SipMessage,
  status: number,
  reason?: string,
  opts?: ResponseOptions,
): Buffer {
  const parts: Array<Buffer | string> = [`SIP/2.0 ${status} ${reason ?? reasonPhrase(status)}\r\n`];
  copyLines(req, H.VIA, parts);
  if (opts?.copyRecordRoute === true) copyLines(req, H.RECORD_ROUTE, parts);
  copyFirstLine(req, H.FROM, parts);
  const ti = req.findHeader(H.TO);
  if (ti >= 0) {
    if (req.toTag === undefined && status > 100 && opts?.toTag !== undefined) {
      parts.push(`To: ${req.headerValue(ti)};tag=${opts.toTag}\r\n`);
    } else {
      copyFirstLine(req, H.TO, parts);
    }
  }
  copyFirstLine(req, H.CALL_ID, parts);
  copyFirstLine(req, H.CSEQ, parts);
  appendExtras(parts, opts);
  return joinParts(parts);
}

// ---------------------------------------------------------------- ACK and CANCEL

/**
 * ACK for a non-2xx final response, built by the client transaction (§17.1.1.3): same
 * Request-URI, top Via, From, Call-ID and Route set as the INVITE it sent, To from the response.
 */
export function buildAck(invite: SipMessage, response: SipMessage): Buffer {
  const parts: Array<Buffer | string> = [`ACK ${invite.ruri} SIP/2.0\r\n`];
  parts.push(`Via: ${firstViaValue(invite)}\r\n`);
  copyLines(invite, H.ROUTE, parts);
  copyFirstLine(invite, H.FROM, parts);
  copyFirstLine(response, H.TO, parts);
  copyFirstLine(invite, H.CALL_ID, parts);
  parts.push(`CSeq: ${invite.cseq} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`);
  return joinParts(parts);
}

/** CANCEL for a pending INVITE (§9.1): same Request-URI, top Via, From, To, Call-ID, CSeq number, Route. */
export function buildCancel(invite: SipMessage, opts?: { reason?: string }): Buffer {
  const parts: Array<Buffer | string> = [`CANCEL ${invite.ruri} SIP/2.0\r\n`];
  parts.push(`Via: ${firstViaValue(invite)}\r\n`);
  copyLines(invite, H.ROUTE, parts);
  copyFirstLine(invite, H.FROM, parts);
  copyFirstLine(invite, H.TO, parts);
  copyFirstLine(invite, H.CALL_ID, parts);
  parts.push(`CSeq: ${invite.cseq} CANCEL\r\nMax-Forwards: 70\r\n`);
  if (opts?.reason !== undefined) parts.push(`Reason: ${opts.reason}\r\n`);
  parts.push('Content-Length: 0\r\n\r\n');
  return joinParts(parts);
}

function firstViaValue(msg: SipMessage): string {
  return msg.topVia.raw;
}

// ---------------------------------------------------------------- new requests

export interface RequestSpec {
  method: string;
  uri: string;
  /** Values of Via headers, top first (a UAC usually gives one: `SIP/2.0/UDP host:port;branch=…`). */
  via: readonly string[];
  from: string;
  to: string;
  callId: string;
  cseq: number;
  maxForwards?: number;
  contact?: string;
  route?: readonly string[];
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
  contentType?: string;
}

/** A new request (§8.1.1) with the mandatory headers in the customary order. */
export function buildRequest(spec: RequestSpec): Buffer {
  const parts: Array<Buffer | string> = [`${spec.method} ${spec.uri} SIP/2.0\r\n`];
  for (const v of spec.via) parts.push(`Via: ${v}\r\n`);
  parts.push(`Max-Forwards: ${spec.maxForwards ?? 70}\r\n`);
  if (spec.route !== undefined) for (const r of spec.route) parts.push(`Route: ${r}\r\n`);
  parts.push(
    `From: ${spec.from}\r\nTo: ${spec.to}\r\nCall-ID: ${spec.callId}\r\nCSeq: ${spec.cseq} ${spec.method}\r\n`,
  );
  if (spec.contact !== undefined) parts.push(`Contact: ${spec.contact}\r\n`);
  appendExtras(parts, spec);
  return joinParts(parts);
}
