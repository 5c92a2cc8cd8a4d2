/**
 * A RouteContext without a network, for the modules' unit tests: a real SipMessage (parseMessage),
 * the real "is this us?" and loose-route logic of the proxy, and every action (reply, relay,
 * forward, handler, record-route, log) recorded instead of performed.
 */
import type { BranchTarget, RouteContext, RouteHandler, RouteKind } from '../../proxy/context.ts';
import { LocalAddresses } from '../../proxy/myself.ts';
import { looseRoute } from '../../proxy/routing.ts';
import { isParseError } from '../../sip/errors.ts';
import type { SipMessage } from '../../sip/message.ts';
import { parseMessage } from '../../sip/parse_message.ts';
import type { Uri } from '../../sip/types.ts';
import type { ListenerInfo, Protocol, ReceiveInfo } from '../../transport/types.ts';
import type { HandlerKind } from '../shared/context_extras.ts';

/** Parse SIP text (LF or CRLF line ends); throws on a parse error, with its reason. */

/** The listener tests run on: UDP 127.0.0.1:5060, id 1. */
export const TEST_LISTENER: ListenerInfo = {
  id: 1,
  protocol: 'udp',
  address: '127.0.0.1',
  port: 5060,
  family: 4,
  advertisedHost: '127.0.0.1',
  advertisedPort: 5060,
};

export function parse(text: string | Buffer): SipMessage {
  const buf = typeof text === 'string' ? Buffer.from(crlf(text)) : text;
  const m = parseMessage(buf);
  if (isParseError(m)) throw new Error(`test message does not parse: ${m.phrase}`);
  return m;
}

/** Normalise line ends to CRLF so tests can be written with template strings. */
export function crlf(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n' && (i === 0 || text[i - 1] !== '\r')) out += '\r\n';
    else out += c;
  }
  return out;
}

export interface RequestSpec {
  method?: string;
  ruri?: string;
  from?: string;
  to?: string;
  callId?: string;
  cseq?: number;
  via?: string;
  /** Extra header lines, `Name: value` (inserted before Content-Length). */
  headers?: string[];
  body?: string;
  /** Leave out Max-Forwards. */
  noMaxForwards?: boolean;
}

/** A well-formed request; every field has a default (INVITE sip:bob@example.com from alice). */
export function request(spec: RequestSpec = {}): string {
  const method = spec.method ?? 'INVITE';
  const body = spec.body ?? '';
  const lines = [
    `${method} ${spec.ruri ?? 'sip:bob@example.com'} SIP/2.0`,
    `Via: ${spec.via ?? 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds'}`,
  ];
  if (spec.noMaxForwards !== true) lines.push('Max-Forwards: 70');
  lines.push(
    `To: ${spec.to ?? 'Bob <sip:bob@example.com>'}`,
    `From: ${spec.from ?? 'Alice <sip:alice@atlanta.example.com>;tag=1928301774'}`,
    `Call-ID: ${spec.callId ?? 'a84b4c76e66710@pc33.atlanta.example.com'}`,
    `CSeq: ${spec.cseq ?? 314159} ${method}`,
  );
  for (const h of spec.headers ?? []) lines.push(h);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
  return lines.join('\r\n');
}

/** A response to the default request (`status` and extra header lines). */
export function response(status: number, reason: string, headers: string[] = [], method = 'INVITE'): string {
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKproxy1',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds',
    'To: Bob <sip:bob@example.com>;tag=a6c85cf',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    `CSeq: 314159 ${method}`,
    ...headers,
    'Content-Length: 0',
    '',
    '',
  ];
  return lines.join('\r\n');
}

export interface FakeContextOptions {
  kind?: RouteKind;
  /** The transaction's request when `msg` is a response (reply/onreply routes). */
  request?: SipMessage | string;
  source?: { address?: string; port?: number; protocol?: Protocol };
  listener?: Partial<ListenerInfo>;
  /** Extra names that are "us" (Kamailio's alias=). */
  aliases?: string[];
  hasTransaction?: boolean;
  canceled?: boolean;
  branchIndex?: number;
  replyCode?: number;
  /** What relay() / forwardStateless() / reply() report. */
  relayResult?: number;
  forwardResult?: number;
  replyResult?: number;
  /** Provide getHandler/removeRecordRoute (the optional extras); default true. */
  extras?: boolean;
}

export interface RecordedReply {
  code: number;
  reason: string;
  /** ctx.replyHeaders at the time of the reply. */
  headers: string[];
}

export interface RecordedRelay {
  ruri: string;
  dstUri: string | undefined;
  branches: BranchTarget[];
}

export class FakeContext implements RouteContext {
  readonly kind: RouteKind;
  readonly msg: SipMessage;
  readonly request: SipMessage;
  readonly info: ReceiveInfo;
  dstUri: string | undefined = undefined;
  readonly branches: BranchTarget[] = [];
  flags = 0;
  bflags = 0;
  dropped = false;
  forceRport = false;
  readonly vars = new Map<string, string | number>();
  readonly avps = new Map<string, Array<string | number>>();
  readonly replyHeaders: string[] = [];
  readonly branchIndex: number;
  readonly replyCode: number;

  readonly replies: RecordedReply[] = [];
  /** Replies asked to be stateful (t_reply), and whether t_newtran kept the transaction. */
  statefulReplies = 0;
  keptTransaction = false;
  readonly relays: RecordedRelay[] = [];
  readonly forwards: Array<{ uri: string | undefined; dstUri: string | undefined }> = [];
  readonly handlers = new Map<HandlerKind, RouteHandler | undefined>();
  readonly recordRoutes: Array<{ params: string | undefined; preset: string | undefined }> = [];
  readonly logs: Array<{ level: string; text: string }> = [];
  timers: { frInvMs: number; frMs: number } | undefined = undefined;
  getHandler: ((kind: HandlerKind) => RouteHandler | undefined) | undefined;
  removeRecordRoute: (() => boolean) | undefined;

  private readonly local: LocalAddresses;
  private readonly opts: FakeContextOptions;

  constructor(message: SipMessage | string, opts: FakeContextOptions = {}) {
    this.opts = opts;
    this.msg = typeof message === 'string' ? parse(message) : message;
    const req = opts.request;
    this.request = req === undefined ? this.msg : typeof req === 'string' ? parse(req) : req;
    this.kind = opts.kind ?? (this.msg.isRequest ? 'request' : 'onreply');
    const listener: ListenerInfo = { ...TEST_LISTENER, ...opts.listener };
    this.info = {
      source: {
        protocol: opts.source?.protocol ?? listener.protocol,
        address: opts.source?.address ?? '192.0.2.10',
        port: opts.source?.port ?? 5060,
      },
      listener,
      connectionId: 0,
      receivedAt: 0,
    };
    this.local = new LocalAddresses([listener], opts.aliases ?? []);
    this.branchIndex = opts.branchIndex ?? -1;
    this.replyCode = opts.replyCode ?? (this.msg.isRequest ? 0 : this.msg.status);
    if (opts.extras !== false) {
      this.getHandler = (kind) => this.handlers.get(kind);
      this.removeRecordRoute = () => this.recordRoutes.splice(0).length > 0;
    }
  }

  reply(code: number, reason: string, stateful?: boolean): number {
    this.replies.push({ code, reason, headers: this.replyHeaders.slice() });
    if (stateful === true) this.statefulReplies++;
    return this.opts.replyResult ?? 1;
  }

  keepTransaction(): boolean {
    if (!this.hasTransaction()) return false;
    this.keptTransaction = true;
    return true;
  }

  relay(opts?: { dstUri?: string }): Promise<number> {
    if (opts?.dstUri !== undefined) this.dstUri = opts.dstUri;
    this.relays.push({ ruri: this.request.ruri, dstUri: this.dstUri, branches: this.branches.slice() });
    return Promise.resolve(this.opts.relayResult ?? 1);
  }

  forwardStateless(uri?: string): Promise<number> {
    this.forwards.push({ uri, dstUri: this.dstUri });
    return Promise.resolve(this.opts.forwardResult ?? 1);
  }

  setHandler(kind: HandlerKind, handler: RouteHandler | undefined): void {
    this.handlers.set(kind, handler);
  }

  recordRoute(params?: string, preset?: string): number {
    this.recordRoutes.push({ params, preset });
    return 1;
  }

  looseRoute(): number {
    const r = looseRoute(this.request, this.local);
    if (r.code > 0 && r.dstUri !== undefined) this.dstUri = r.dstUri;
    return r.code;
  }

  isMyself(uri: string): boolean {
    return this.local.isMyselfUri(uri);
  }

  isMyselfParsed(uri: Uri): boolean {
    return this.local.isMyselfParsed(uri);
  }

  hasTransaction(): boolean {
    return this.opts.hasTransaction ?? true;
  }

  isCanceled(): boolean {
    return this.opts.canceled ?? false;
  }

  setFinalResponseTimers(frInvMs: number, frMs: number): void {
    this.timers = { frInvMs, frMs };
  }

  log(level: 'dbg' | 'info' | 'notice' | 'warn' | 'err' | 'crit' | 'alert', text: string): void {
    this.logs.push({ level, text });
  }
}

/** A FakeContext for SIP text (a request by default). */
export function fakeContext(
  message: SipMessage | string = request(),
  opts?: FakeContextOptions,
): FakeContext {
  return new FakeContext(message, opts);
}
