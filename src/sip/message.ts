/**
 * A SIP message kept as the bytes it was received in, with an offset table of its header lines.
 * Only what transaction matching needs is decoded by the parser (top Via, CSeq, Call-ID, From/To
 * tags, Max-Forwards, Content-Length); everything else is decoded on first access and memoized.
 *
 * Reads reflect the message as received, except the Request-URI (reads see `setRuri`), like
 * Kamailio's `$ru` versus `$hdr()`. Writes are edits spliced onto the received bytes by
 * `serialize()`; untouched bytes go out byte-identical.
 */
import { isAsciiRange } from './eager_bytes.ts';
import { applyEdits, EditList } from './edits.ts';
import { fail, isParseError, type ParseError, type SipErrorKind, SipErrors } from './errors.ts';
import { H, HEADER_NAMES, headerIdFromName } from './header_names.ts';
import {
  parseChallenge,
  parseContactList,
  parseContentType,
  parseCredentials,
  parseEvent,
  parseExpires,
  parseTokenList,
} from './header_values.ts';
import { parseNameAddrAt, parseNameAddrList } from './name_addr.ts';
import type { ContactList, ContentType, Credentials, EventValue, NameAddr, Uri, Via } from './types.ts';
import { parseUri } from './uri.ts';
import { appendViaList, parseViaList, parseViaListAfter } from './via.ts';

/** Stride of the header table: id, nameStart, nameEnd, valueStart, valueEnd, lineEnd, folded. */
export const HS = 7;
const F_ID = 0;
const F_NAME_START = 1;
const F_NAME_END = 2;
const F_VALUE_START = 3;
const F_VALUE_END = 4;
const F_LINE_END = 5;
const F_FOLDED = 6;

const NO_HEADERS: number[] = [];

/** Memo keys per header id, built once (a key built per call costs a string and its hash each time). */
const KEY_NA = HEADER_NAMES.map((_, id) => `na${id}`);
const KEY_NAL = HEADER_NAMES.map((_, id) => `nal${id}`);
const KEY_CRED = HEADER_NAMES.map((_, id) => `cred${id}`);
const KEY_TOK = HEADER_NAMES.map((_, id) => `tok${id}`);

/** Edit keys of header line i (`h${i}`, the whole line; `v${i}`, its value), built once for the usual counts. */
const KEY_LINE = Array.from({ length: 64 }, (_, i) => `h${i}`);
const KEY_VALUE = Array.from({ length: 64 }, (_, i) => `v${i}`);

function lineKey(i: number): string {
  return i < KEY_LINE.length ? KEY_LINE[i] : `h${i}`;
}

function valueKey(i: number): string {
  return i < KEY_VALUE.length ? KEY_VALUE[i] : `v${i}`;
}

/** What validate() decodes, in order: one shared list instead of closures made per call. */
const VALIDATE_CHECKS: ReadonlyArray<(m: SipMessage) => unknown> = [
  (m) => m.vias(),
  (m) => m.from(),
  (m) => m.to(),
  (m) => m.contacts(),
  (m) => m.routes(),
  (m) => m.recordRoutes(),
  (m) => m.expires(),
  (m) => m.minExpires(),
  (m) => m.authorization(),
  (m) => m.proxyAuthorization(),
  (m) => m.wwwAuthenticate(),
  (m) => m.proxyAuthenticate(),
  (m) => m.allow(),
  (m) => m.supported(),
  (m) => m.require(),
  (m) => m.proxyRequire(),
  (m) => m.event(),
  (m) => m.contentType(),
  (m) => m.referTo(),
  (m) => m.referredBy(),
  (m) => m.pAssertedIdentities(),
  (m) => m.paths(),
];

export class SipMessage {
  /** The buffer the message was parsed from (a datagram may hold trailing octets past `end`). */
  readonly buf: Buffer;
  /** Offset of the first byte of the start line. */
  start = 0;
  /** Offset one past the last body byte. */
  end = 0;
  isRequest = false;
  /** Request method, or for a response the CSeq method. */
  method = '';
  /** Response status code; 0 for requests. */
  status = 0;
  /** Offsets of the Request-URI (requests) or the reason phrase (responses) in `buf`. */
  lineA = 0;
  lineB = 0;
  /** Offset of the first header line, and of the empty line that ends the header section. */
  headersStart = 0;
  headersEnd = 0;
  bodyStart = 0;
  /**
   * Flat header table, HS numbers per header line (see HS). The parser fills a scratch table and
   * stores an exact-size copy here (no growth steps per message); not to be modified afterwards.
   */
  hdr: number[] = NO_HEADERS;

  // Decoded eagerly by the parser.
  callId = '';
  cseq = 0;
  cseqMethod = '';
  fromTag: string | undefined = undefined;
  toTag: string | undefined = undefined;
  /** -1 when the header is absent. */
  maxForwards = -1;
  /** -1 when the header is absent (the body then runs to the end of the datagram). */
  contentLength = -1;
  topVia!: Via;
  /** Where the top via-parm ends in the first Via header value (see parseViaListAfter). */
  topViaEnd = -1;
  /** The first Via header value as the parser decoded it (Latin-1, unfolded), '' until parsed. */
  topViaText = '';

  /**
   * Opaque slot for the transaction user: the proxy core keeps the server transaction of a request
   * it routes here. A field rather than a WeakMap keyed by the message: WeakMap entries are
   * ephemerons, whose write barrier and garbage-collector processing are a measurable share of the
   * CPU of a relayed call.
   */
  tuSlot: object | undefined = undefined;
  /**
   * Per-message state of KSR modules, as fields for the same reason as `tuSlot`: the value
   * maxfwd.process_maxfwd wrote (-1: none), and rr's record_route request and pending add_rr_param
   * parameters.
   */
  maxfwdWritten = -1;
  rrRequested = false;
  rrPending = '';

  /** Edits made by routing logic; serialize() splices them in. */
  edits: EditList | null = null;
  private newRuri: string | undefined = undefined;
  private memo: Map<string, unknown> | null = null;
  // The hottest decoded values, as fields rather than memo entries (no closure nor key per read).
  private receivedRuri: string | undefined = undefined;
  private parsedRuri: Uri | ParseError | undefined = undefined;
  private parsedRuriText: string | undefined = undefined;
  private viaList: Via[] | ParseError | undefined = undefined;
  private fromValue: NameAddr | ParseError | undefined = undefined;
  private toValue: NameAddr | ParseError | undefined = undefined;
  // Read by the routing of most requests (loose_route, NAT tests): fields too, not memo entries.
  private routeList: NameAddr[] | ParseError | undefined = undefined;
  private recordRouteList: NameAddr[] | ParseError | undefined = undefined;
  /** null until decoded (undefined is the answer for a message without Contact). */
  private contactValue: ContactList | ParseError | undefined | null = null;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  get headerCount(): number {
    return this.hdr.length / HS;
  }

  // ---------------------------------------------------------------- start line

  /** The Request-URI as it will be sent (reflects setRuri), '' for responses. */
  get ruri(): string {
    if (!this.isRequest) return '';
    return this.newRuri ?? this.originalRuri;
  }

  /** The Request-URI as received. */
  get originalRuri(): string {
    if (!this.isRequest) return '';
    // Read many times per request (routing, loop detection, branches): decoded once, in a field.
    let r = this.receivedRuri;
    if (r === undefined) {
      r = this.buf.latin1Slice(this.lineA, this.lineB);
      this.receivedRuri = r;
    }
    return r;
  }

  /** The parsed Request-URI (reflects setRuri). */
  requestUri(): Uri | ParseError {
    // One slot, for the Request-URI as it is now (parsing is pure: a slot per text is not needed).
    const text = this.ruri;
    if (this.parsedRuriText !== text || this.parsedRuri === undefined) {
      this.parsedRuri = parseUri(text);
      this.parsedRuriText = text;
    }
    return this.parsedRuri;
  }

  /** Reason phrase of a response (UTF-8 allowed, RFC 4475 unreason). */
  get reason(): string {
    return this.isRequest ? '' : this.memoize('reason', () => this.buf.utf8Slice(this.lineA, this.lineB));
  }

  get body(): Buffer {
    return this.buf.subarray(this.bodyStart, this.end);
  }

  get bodyLength(): number {
    return this.end - this.bodyStart;
  }

  /** The whole message as received (trailing datagram octets excluded). */
  get raw(): Buffer {
    return this.start === 0 && this.end === this.buf.length
      ? this.buf
      : this.buf.subarray(this.start, this.end);
  }

  // ---------------------------------------------------------------- header table

  headerId(i: number): number {
    return this.hdr[i * HS + F_ID];
  }

  /** Header name as written in the message. */
  headerName(i: number): string {
    const o = i * HS;
    return this.buf.latin1Slice(this.hdr[o + F_NAME_START], this.hdr[o + F_NAME_END]);
  }

  /** Canonical header name (compact forms expanded, known headers in standard case). */
  headerCanonicalName(i: number): string {
    const id = this.hdr[i * HS + F_ID];
    return id === H.OTHER ? this.headerName(i) : HEADER_NAMES[id];
  }

  /** Header value with folding replaced by single spaces (UTF-8 decoded). */
  headerValue(i: number): string {
    const o = i * HS;
    const v = this.buf.utf8Slice(this.hdr[o + F_VALUE_START], this.hdr[o + F_VALUE_END]);
    return this.hdr[o + F_FOLDED] === 0 ? v : unfold(v);
  }

  /** Byte range of the whole header line including continuation lines and its CRLF. */
  headerLineRange(i: number): [number, number] {
    const o = i * HS;
    return [this.hdr[o + F_NAME_START], this.hdr[o + F_LINE_END]];
  }

  headerValueRange(i: number): [number, number] {
    const o = i * HS;
    return [this.hdr[o + F_VALUE_START], this.hdr[o + F_VALUE_END]];
  }

  /** Index of the first header with this id at or after `from`, -1 when none. */
  findHeader(id: number, from = 0): number {
    const hdr = this.hdr;
    for (let o = from * HS; o < hdr.length; o += HS) if (hdr[o] === id) return o / HS;
    return -1;
  }

  /** Indexes of the headers called `name` (any case; compact forms match their full names). */
  headerIndexes(name: string): number[] {
    const id = headerIdFromName(name);
    const out: number[] = [];
    const n = this.headerCount;
    if (id !== H.OTHER) {
      for (let i = 0; i < n; i++) if (this.hdr[i * HS] === id) out.push(i);
      return out;
    }
    const lower = name.toLowerCase();
    for (let i = 0; i < n; i++) {
      if (this.hdr[i * HS] === H.OTHER && this.headerName(i).toLowerCase() === lower) out.push(i);
    }
    return out;
  }

  /** Value of the first header called `name`, undefined when absent. */
  getHeader(name: string): string | undefined {
    const id = headerIdFromName(name);
    if (id !== H.OTHER) {
      const i = this.findHeader(id);
      return i < 0 ? undefined : this.headerValue(i);
    }
    const idx = this.headerIndexes(name);
    return idx.length === 0 ? undefined : this.headerValue(idx[0]);
  }

  /** Values of every header line called `name`, in order. */
  getHeaders(name: string): string[] {
    return this.headerIndexes(name).map((i) => this.headerValue(i));
  }

  hasHeader(name: string): boolean {
    const id = headerIdFromName(name);
    return id !== H.OTHER ? this.findHeader(id) >= 0 : this.headerIndexes(name).length > 0;
  }

  /** All values of a known header joined as one comma list (RFC 3261 §7.3.1), undefined when absent. */
  private joinedValue(id: number): string | undefined {
    let out: string | undefined;
    for (let i = this.findHeader(id); i >= 0; i = this.findHeader(id, i + 1)) {
      const v = this.headerValue(i);
      out = out === undefined ? v : `${out}, ${v}`;
    }
    return out;
  }

  // ---------------------------------------------------------------- typed access (lazy, memoized)

  /**
   * Forget the decoded header values (they are decoded again if read). A transaction that only
   * absorbs retransmissions for its last seconds keeps the bytes and the header table, not the
   * objects decoded while the request was routed: less for the garbage collector to walk.
   */
  releaseDecoded(): void {
    this.memo = null;
    this.parsedRuri = undefined;
    this.parsedRuriText = undefined;
    this.viaList = undefined;
    this.fromValue = undefined;
    this.toValue = undefined;
    this.routeList = undefined;
    this.recordRouteList = undefined;
    this.contactValue = null;
  }

  private memoize<T>(key: string, compute: () => T): T {
    this.memo ??= new Map();
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const v = compute();
    this.memo.set(key, v);
    return v;
  }

  /** Every Via value, top first (all Via header lines, comma lists split). */
  vias(): Via[] | ParseError {
    this.viaList ??= this.decodeVias();
    return this.viaList;
  }

  /**
   * Each Via line parsed on its own (no joined copy of the values); the top via-parm was decoded
   * by the parser and is reused when the first line is ASCII (its Latin-1 text, which the parser
   * read, is then the UTF-8 one). Any error: the joined value is parsed, for the same error.
   */
  private decodeVias(): Via[] | ParseError {
    const hdr = this.hdr;
    let out: Via[] | undefined;
    for (let o = 0; o < hdr.length; o += HS) {
      if (hdr[o] !== H.VIA) continue;
      let r: Via[] | ParseError;
      if (out === undefined) {
        out = [];
        const top = this.topVia;
        r =
          top !== undefined &&
          this.topViaEnd >= 0 &&
          this.topViaText !== '' &&
          isAsciiRange(this.buf, hdr[o + F_VALUE_START], hdr[o + F_VALUE_END])
            ? appendViaList(this.topViaText, out, top, this.topViaEnd)
            : appendViaList(this.headerValue(o / HS), out);
      } else {
        r = appendViaList(this.headerValue(o / HS), out);
      }
      if (isParseError(r)) return this.decodeJoinedVias();
    }
    return out ?? fail(SipErrors.MISSING_HEADER, 'no Via header');
  }

  /** The Via list of all Via values joined as one comma list. */
  private decodeJoinedVias(): Via[] | ParseError {
    const v = this.joinedValue(H.VIA);
    if (v === undefined) return fail(SipErrors.MISSING_HEADER, 'no Via header');
    // The top Via was decoded by the parser (from the same text unless the first value has
    // non-ASCII octets, decoded as Latin-1 there and UTF-8 here): only the rest is parsed.
    const top = this.topVia;
    const end = this.topViaEnd;
    return top !== undefined &&
      end >= 0 &&
      end <= v.length &&
      v.startsWith(top.raw) &&
      (end === v.length || v.charCodeAt(end) === 0x2c)
      ? parseViaListAfter(v, top, end)
      : parseViaList(v);
  }

  private single(id: number, kind: SipErrorKind): NameAddr | ParseError {
    return this.memoize(KEY_NA[id], () => this.decodeSingle(id, kind));
  }

  private decodeSingle(id: number, kind: SipErrorKind): NameAddr | ParseError {
    const i = this.findHeader(id);
    if (i < 0) return fail(SipErrors.MISSING_HEADER, `no ${HEADER_NAMES[id]} header`);
    const r = parseNameAddrAt(this.headerValue(i), 0, false);
    return isParseError(r) ? fail(kind, r.detail) : r;
  }

  from(): NameAddr | ParseError {
    this.fromValue ??= this.decodeSingle(H.FROM, SipErrors.FROM);
    return this.fromValue;
  }

  to(): NameAddr | ParseError {
    this.toValue ??= this.decodeSingle(H.TO, SipErrors.TO);
    return this.toValue;
  }

  private optionalNameAddr(id: number): NameAddr | undefined | ParseError {
    if (this.findHeader(id) < 0) return undefined;
    return this.single(id, SipErrors.HEADER_VALUE);
  }

  referTo(): NameAddr | undefined | ParseError {
    return this.optionalNameAddr(H.REFER_TO);
  }

  referredBy(): NameAddr | undefined | ParseError {
    return this.optionalNameAddr(H.REFERRED_BY);
  }

  private nameAddrList(id: number, kind: SipErrorKind): NameAddr[] | ParseError {
    return this.memoize(KEY_NAL[id], () => this.decodeNameAddrList(id, kind));
  }

  private decodeNameAddrList(id: number, kind: SipErrorKind): NameAddr[] | ParseError {
    const v = this.joinedValue(id);
    if (v === undefined) return [];
    const r = parseNameAddrList(v);
    return isParseError(r) ? fail(kind, r.detail) : r;
  }

  /** Route values in order (all Route lines, comma lists split); [] when absent. */
  routes(): NameAddr[] | ParseError {
    this.routeList ??= this.decodeNameAddrList(H.ROUTE, SipErrors.ROUTE);
    return this.routeList;
  }

  recordRoutes(): NameAddr[] | ParseError {
    this.recordRouteList ??= this.decodeNameAddrList(H.RECORD_ROUTE, SipErrors.RECORD_ROUTE);
    return this.recordRouteList;
  }

  paths(): NameAddr[] | ParseError {
    return this.nameAddrList(H.PATH, SipErrors.HEADER_VALUE);
  }

  pAssertedIdentities(): NameAddr[] | ParseError {
    return this.nameAddrList(H.P_ASSERTED_IDENTITY, SipErrors.HEADER_VALUE);
  }

  /** Contact values, `{star: true}` for `Contact: *`, undefined when absent. */
  contacts(): ContactList | undefined | ParseError {
    if (this.contactValue === null) {
      const v = this.joinedValue(H.CONTACT);
      this.contactValue = v === undefined ? undefined : parseContactList(v);
    }
    return this.contactValue;
  }

  /** Expires header as a number of seconds, undefined when absent. */
  expires(): number | undefined | ParseError {
    return this.memoize('expires', () => {
      const i = this.findHeader(H.EXPIRES);
      return i < 0 ? undefined : parseExpires(this.headerValue(i));
    });
  }

  minExpires(): number | undefined | ParseError {
    return this.memoize('minexpires', () => {
      const i = this.findHeader(H.MIN_EXPIRES);
      return i < 0 ? undefined : parseExpires(this.headerValue(i));
    });
  }

  private credentialList(id: number, challenge: boolean): Credentials[] | ParseError {
    return this.memoize(KEY_CRED[id], () => {
      const out: Credentials[] = [];
      for (let i = this.findHeader(id); i >= 0; i = this.findHeader(id, i + 1)) {
        const c = challenge ? parseChallenge(this.headerValue(i)) : parseCredentials(this.headerValue(i));
        if (isParseError(c)) return c;
        out.push(c);
      }
      return out;
    });
  }

  authorization(): Credentials[] | ParseError {
    return this.credentialList(H.AUTHORIZATION, false);
  }

  proxyAuthorization(): Credentials[] | ParseError {
    return this.credentialList(H.PROXY_AUTHORIZATION, false);
  }

  wwwAuthenticate(): Credentials[] | ParseError {
    return this.credentialList(H.WWW_AUTHENTICATE, true);
  }

  proxyAuthenticate(): Credentials[] | ParseError {
    return this.credentialList(H.PROXY_AUTHENTICATE, true);
  }

  private tokens(id: number): string[] | undefined | ParseError {
    return this.memoize(KEY_TOK[id], () => {
      const v = this.joinedValue(id);
      return v === undefined ? undefined : parseTokenList(v);
    });
  }

  allow(): string[] | undefined | ParseError {
    return this.tokens(H.ALLOW);
  }

  supported(): string[] | undefined | ParseError {
    return this.tokens(H.SUPPORTED);
  }

  require(): string[] | undefined | ParseError {
    return this.tokens(H.REQUIRE);
  }

  proxyRequire(): string[] | undefined | ParseError {
    return this.tokens(H.PROXY_REQUIRE);
  }

  event(): EventValue | undefined | ParseError {
    return this.memoize('event', () => {
      const i = this.findHeader(H.EVENT);
      return i < 0 ? undefined : parseEvent(this.headerValue(i));
    });
  }

  contentType(): ContentType | undefined | ParseError {
    return this.memoize('ctype', () => {
      const i = this.findHeader(H.CONTENT_TYPE);
      return i < 0 ? undefined : parseContentType(this.headerValue(i));
    });
  }

  get userAgent(): string | undefined {
    const i = this.findHeader(H.USER_AGENT);
    return i < 0 ? undefined : this.headerValue(i);
  }

  /**
   * Full decode of the Request-URI and every structured header this layer knows; the first
   * problem found, or undefined when the whole message is well formed (the sanity check).
   */
  validate(): ParseError | undefined {
    if (this.isRequest) {
      const u = this.requestUri();
      if (isParseError(u)) return fail(SipErrors.REQUEST_URI, u.detail);
      if ((u.scheme === 'sip' || u.scheme === 'sips') && 'headers' in u && u.headers !== undefined) {
        return fail(SipErrors.REQUEST_URI, 'headers are not allowed in a Request-URI');
      }
    }
    for (let k = 0; k < VALIDATE_CHECKS.length; k++) {
      const r = VALIDATE_CHECKS[k](this);
      if (isParseError(r)) return r;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- edits

  /**
   * Where edits go when no list is named: the message's own list, or the list a branch route
   * set as `editTarget` while it runs (its edits then apply to that branch only).
   */
  baseEdits(): EditList {
    if (this.editTarget !== null) return this.editTarget;
    this.edits ??= new EditList();
    return this.edits;
  }

  /** See baseEdits(). */
  editTarget: EditList | null = null;
  /** Set once routing logic has processed Max-Forwards (the proxy then leaves it alone). */
  maxForwardsProcessed = false;

  get hasEdits(): boolean {
    return this.edits !== null && this.edits.size > 0;
  }

  /** Set the Request-URI. With a list, the edit goes there (a per-branch edit) and reads are unchanged. */
  setRuri(uri: string, list?: EditList): void {
    if (list === undefined) {
      this.newRuri = uri === this.originalRuri ? undefined : uri;
      this.baseEdits().replace(this.lineA, this.lineB, uri, 'ruri', true);
    } else {
      list.replace(this.lineA, this.lineB, uri, 'ruri', true);
    }
  }

  /** Insert a header line above every other header (where a new Via or Record-Route goes). */
  prependHeader(name: string, value: string, list: EditList = this.baseEdits()): void {
    list.insert(this.headersStart, `${name}: ${value}\r\n`, true);
  }

  /** Insert a header line after the last header. */
  appendHeader(name: string, value: string, list: EditList = this.baseEdits()): void {
    list.insert(this.headersEnd, `${name}: ${value}\r\n`);
  }

  insertHeaderBefore(i: number, name: string, value: string, list: EditList = this.baseEdits()): void {
    list.insert(this.hdr[i * HS + F_NAME_START], `${name}: ${value}\r\n`);
  }

  insertHeaderAfter(i: number, name: string, value: string, list: EditList = this.baseEdits()): void {
    list.insert(this.hdr[i * HS + F_LINE_END], `${name}: ${value}\r\n`, true);
  }

  removeHeader(i: number, list: EditList = this.baseEdits()): void {
    const o = i * HS;
    list.replace(this.hdr[o + F_NAME_START], this.hdr[o + F_LINE_END], '', lineKey(i));
  }

  /** Remove every header called `name`; returns how many lines were removed. */
  removeHeaders(name: string, list: EditList = this.baseEdits()): number {
    const idx = this.headerIndexes(name);
    for (const i of idx) this.removeHeader(i, list);
    return idx.length;
  }

  replaceHeaderValue(i: number, value: string, list: EditList = this.baseEdits()): void {
    const o = i * HS;
    list.replace(this.hdr[o + F_VALUE_START], this.hdr[o + F_VALUE_END], value, valueKey(i));
  }

  /**
   * Remove the first value of the first header with this id: the whole line when it holds one
   * value, else the first comma element (a proxy pops a Route, a response loses its top Via).
   * Returns false when there is no such header.
   */
  removeFirstValue(id: number, list: EditList = this.baseEdits()): boolean {
    const i = this.findHeader(id);
    if (i < 0) return false;
    const o = i * HS;
    const vs = this.hdr[o + F_VALUE_START];
    const ve = this.hdr[o + F_VALUE_END];
    const comma = findTopLevelComma(this.buf, vs, ve);
    // Popping a Route leaves a message that parses (a proxy relays it unchecked).
    const sound = id === H.ROUTE;
    if (comma < 0) {
      list.replace(this.hdr[o + F_NAME_START], this.hdr[o + F_LINE_END], '', lineKey(i), sound);
      return true;
    }
    let next = comma + 1;
    while (next < ve && isLwsByte(this.buf[next])) next++;
    list.replace(vs, next, '', valueKey(i), sound);
    return true;
  }

  /** Whether a Via value follows the top one (a response has somewhere to go, §16.7 step 3); nothing parsed. */
  hasViaAfterTop(): boolean {
    const i = this.findHeader(H.VIA);
    if (i < 0) return false;
    const o = i * HS;
    if (findTopLevelComma(this.buf, this.hdr[o + F_VALUE_START], this.hdr[o + F_VALUE_END]) >= 0) return true;
    return this.findHeader(H.VIA, i + 1) >= 0;
  }

  removeTopVia(list: EditList = this.baseEdits()): boolean {
    return this.removeFirstValue(H.VIA, list);
  }

  removeFirstRoute(list: EditList = this.baseEdits()): boolean {
    return this.removeFirstValue(H.ROUTE, list);
  }

  /** Set Max-Forwards, adding the header when absent (RFC 3261 §16.6 step 3). */
  setMaxForwards(n: number, list: EditList = this.baseEdits()): void {
    const i = this.findHeader(H.MAX_FORWARDS);
    if (i < 0) list.replace(this.headersEnd, this.headersEnd, `Max-Forwards: ${n}\r\n`, 'mf', true);
    else
      list.replace(
        this.hdr[i * HS + F_VALUE_START],
        this.hdr[i * HS + F_VALUE_END],
        String(n),
        valueKey(i),
        true,
      );
    this.maxForwardsProcessed = true;
  }

  /** Rewrite a response's status line (a proxy turns a selected 503 into 500, RFC 3261 §16.7). */
  setStatus(code: number, reason: string, list: EditList = this.baseEdits()): void {
    list.replace(this.start, this.lineB, `SIP/2.0 ${code} ${reason}`, 'status');
  }

  /** Replace the body; Content-Length follows, Content-Type is set when given. */
  setBody(body: Buffer | string, contentType?: string, list: EditList = this.baseEdits()): void {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    list.replace(this.bodyStart, this.end, data, 'body');
    const cl = this.findHeader(H.CONTENT_LENGTH);
    if (cl < 0) list.insert(this.headersEnd, `Content-Length: ${data.length}\r\n`);
    else this.replaceHeaderValue(cl, String(data.length), list);
    if (contentType !== undefined) {
      const ct = this.findHeader(H.CONTENT_TYPE);
      if (ct < 0) list.insert(this.headersEnd, `Content-Type: ${contentType}\r\n`);
      else this.replaceHeaderValue(ct, contentType, list);
    }
  }

  /** A stream transport needs Content-Length (RFC 3261 §18.3): add it when the message has none. */
  ensureContentLength(list: EditList = this.baseEdits()): void {
    if (this.contentLength < 0 && !list.has('body') && !list.has('cl')) {
      list.replace(
        this.headersEnd,
        this.headersEnd,
        `Content-Length: ${this.end - this.bodyStart}\r\n`,
        'cl',
        true,
      );
    }
  }

  /** The message with its edits (and a per-branch list) applied; the received bytes when unedited. */
  serialize(extra?: EditList): Buffer {
    return applyEdits(
      this.buf,
      this.start,
      this.end,
      extra === undefined ? [this.edits] : [this.edits, extra],
    );
  }

  toString(): string {
    return this.serialize().toString('utf8');
  }
}

function isLwsByte(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** First comma outside quoted strings and `<...>` in buf[start, end), -1 when none. */
export function findTopLevelComma(buf: Uint8Array, start: number, end: number): number {
  let inQuote = false;
  let inAngle = false;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (inQuote) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) return i;
  }
  return -1;
}

/** Replace each CRLF/LF followed by white space with one space (RFC 3261 §7.3.1). */
export function unfold(v: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c !== 0x0d && c !== 0x0a) continue;
    let j = i;
    while (j < v.length && (v.charCodeAt(j) === 0x0d || v.charCodeAt(j) === 0x0a)) j++;
    let k = j;
    while (k < v.length && (v.charCodeAt(k) === 0x20 || v.charCodeAt(k) === 0x09)) k++;
    let s = i;
    while (s > last && (v.charCodeAt(s - 1) === 0x20 || v.charCodeAt(s - 1) === 0x09)) s--;
    out += `${v.slice(last, s)} `;
    last = k;
    i = k - 1;
  }
  return last === 0 ? v : out + v.slice(last);
}
