/**
 * Every way the SIP message layer refuses input, in one table (fastify-style coded errors).
 * `status` is the response a server sends when the message is a request it can answer
 * (RFC 3261 §21.4: 400 for syntax, 505 for version, 416 for scheme, 501 for unknown methods).
 * Nothing on the receive path throws: parsers return a ParseError instead of a value.
 */
export const SipErrors = {
  EMPTY: { code: 'SIP_EMPTY', status: 400, reason: 'Empty message' },
  START_LINE: { code: 'SIP_START_LINE', status: 400, reason: 'Malformed start line' },
  METHOD: { code: 'SIP_METHOD', status: 400, reason: 'Malformed method' },
  REQUEST_URI: { code: 'SIP_REQUEST_URI', status: 400, reason: 'Malformed Request-URI' },
  VERSION: { code: 'SIP_VERSION', status: 505, reason: 'Version Not Supported' },
  STATUS_CODE: { code: 'SIP_STATUS_CODE', status: 400, reason: 'Malformed status code' },
  HEADER_LINE: { code: 'SIP_HEADER_LINE', status: 400, reason: 'Malformed header line' },
  HEADER_SECTION: { code: 'SIP_HEADER_SECTION', status: 400, reason: 'Header section not terminated' },
  HEADER_TOO_LARGE: { code: 'SIP_HEADER_TOO_LARGE', status: 400, reason: 'Header section too large' },
  MISSING_HEADER: { code: 'SIP_MISSING_HEADER', status: 400, reason: 'Missing mandatory header' },
  DUPLICATE_HEADER: { code: 'SIP_DUPLICATE_HEADER', status: 400, reason: 'Duplicate single-value header' },
  CONTENT_LENGTH: { code: 'SIP_CONTENT_LENGTH', status: 400, reason: 'Invalid Content-Length' },
  BODY_TRUNCATED: { code: 'SIP_BODY_TRUNCATED', status: 400, reason: 'Content-Length larger than message' },
  BODY_TOO_LARGE: { code: 'SIP_BODY_TOO_LARGE', status: 413, reason: 'Body too large' },
  CSEQ: { code: 'SIP_CSEQ', status: 400, reason: 'Invalid CSeq' },
  CSEQ_METHOD: { code: 'SIP_CSEQ_METHOD', status: 400, reason: 'CSeq method does not match' },
  /** RFC 4475 §3.1.2.18: an unknown method whose CSeq disagrees is better answered 501. */
  CSEQ_METHOD_UNKNOWN: { code: 'SIP_CSEQ_METHOD_UNKNOWN', status: 501, reason: 'Not Implemented' },
  CALL_ID: { code: 'SIP_CALL_ID', status: 400, reason: 'Invalid Call-ID' },
  MAX_FORWARDS: { code: 'SIP_MAX_FORWARDS', status: 400, reason: 'Invalid Max-Forwards' },
  VIA: { code: 'SIP_VIA', status: 400, reason: 'Invalid Via' },
  FROM: { code: 'SIP_FROM', status: 400, reason: 'Invalid From' },
  TO: { code: 'SIP_TO', status: 400, reason: 'Invalid To' },
  CONTACT: { code: 'SIP_CONTACT', status: 400, reason: 'Invalid Contact' },
  ROUTE: { code: 'SIP_ROUTE', status: 400, reason: 'Invalid Route' },
  RECORD_ROUTE: { code: 'SIP_RECORD_ROUTE', status: 400, reason: 'Invalid Record-Route' },
  URI: { code: 'SIP_URI', status: 400, reason: 'Malformed URI' },
  URI_SCHEME: { code: 'SIP_URI_SCHEME', status: 416, reason: 'Unsupported URI Scheme' },
  NAME_ADDR: { code: 'SIP_NAME_ADDR', status: 400, reason: 'Malformed name-addr' },
  QUOTED_STRING: { code: 'SIP_QUOTED_STRING', status: 400, reason: 'Unterminated quoted string' },
  PARAM: { code: 'SIP_PARAM', status: 400, reason: 'Malformed parameter' },
  NUMBER: { code: 'SIP_NUMBER', status: 400, reason: 'Invalid number' },
  AUTH: { code: 'SIP_AUTH', status: 400, reason: 'Malformed credentials' },
  TOKEN_LIST: { code: 'SIP_TOKEN_LIST', status: 400, reason: 'Malformed token list' },
  CONTENT_TYPE: { code: 'SIP_CONTENT_TYPE', status: 400, reason: 'Malformed Content-Type' },
  HEADER_VALUE: { code: 'SIP_HEADER_VALUE', status: 400, reason: 'Malformed header value' },
} as const;

export type SipErrorKind = (typeof SipErrors)[keyof typeof SipErrors];
export type SipErrorCode = SipErrorKind['code'];

/** A refusal with a human reason suitable for `400 <reason>` (status from the error table). */
export class ParseError {
  readonly code: SipErrorCode;
  readonly status: number;
  /** Short reason phrase for the response line, e.g. "Invalid CSeq". */
  readonly reason: string;
  /** What exactly was wrong, for logs and for the response's Warning/Reason text. */
  readonly detail: string;
  constructor(kind: SipErrorKind, detail?: string) {
    this.code = kind.code;
    this.status = kind.status;
    this.reason = kind.reason;
    this.detail = detail === undefined ? kind.reason : sanitizeDetail(detail);
  }
  /** "Invalid CSeq: sequence number above 2**32-1" — the phrase a 400 carries. */
  get phrase(): string {
    return this.detail === this.reason ? this.reason : `${this.reason}: ${this.detail}`;
  }
  toString(): string {
    return `${this.code}: ${this.phrase}`;
  }
}

const MAX_DETAIL = 160;

/**
 * Details quote received bytes; they end up in a status line (`400 <reason>`) and in logs, so
 * control characters are escaped (a CR or DEL must never reach the wire) and the length is bounded.
 */
function sanitizeDetail(detail: string): string {
  let out = '';
  for (let i = 0; i < detail.length && out.length < MAX_DETAIL; i++) {
    const c = detail.charCodeAt(i);
    out += c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, '0')}` : detail[i];
  }
  return out.length < MAX_DETAIL || detail.length <= MAX_DETAIL ? out : `${out.slice(0, MAX_DETAIL - 3)}...`;
}

export function isParseError(v: unknown): v is ParseError {
  return v instanceof ParseError;
}

export function fail(kind: SipErrorKind, detail?: string): ParseError {
  return new ParseError(kind, detail);
}
