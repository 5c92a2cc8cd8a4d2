/**
 * Fake ports for running the real proxy (ProxyCore + ScriptContext) without a network: what the
 * script test harness (testing.ts) plugs into ProxyCore. Each port records what the core asked of
 * it; the client transactions let a test deliver responses, timeouts and transport errors.
 */
import type {
  ClientHandlerPort,
  ClientTxPort,
  ServerTxPort,
  TransactionPort,
  TransportPort,
} from '../proxy/core.ts';
import { type NextHop, Resolver } from '../proxy/target.ts';
import { buildResponse } from '../sip/build.ts';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import { familyOf } from '../transport/ip.ts';
import type { Endpoint, ListenerInfo, ReceiveInfo, SendOptions } from '../transport/types.ts';

/** No DNS in tests: the endpoint of a next hop is the URI's host as written. */
export class LiteralResolver extends Resolver {
  override resolve(hop: NextHop): Endpoint {
    return { protocol: hop.protocol, address: hop.host, port: hop.port };
  }
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === 'localhost';
}

/** A message sent to an endpoint (stateless forwards of requests, responses routed by Via). */
export interface SentMessage {
  readonly data: Buffer;
  readonly dest: Endpoint;
  readonly opts: SendOptions | undefined;
}

/** A response sent without a server transaction (the request had none). */
export interface SentResponse {
  readonly data: Buffer;
  readonly request: SipMessage;
  readonly info: ReceiveInfo;
}

/** The TransportPort: the configured listeners; records what would go on the wire. */
export class FakeTransport implements TransportPort {
  readonly listeners: readonly ListenerInfo[];
  readonly sent: SentMessage[] = [];
  readonly responses: SentResponse[] = [];
  /** Called for every send / sendResponse, after it was recorded. */
  onSend: ((m: SentMessage) => void) | undefined;
  onResponse: ((r: SentResponse) => void) | undefined;

  constructor(listeners: readonly ListenerInfo[]) {
    this.listeners = listeners;
  }

  send(data: Buffer, dest: Endpoint, opts?: SendOptions): void {
    const m = { data, dest, opts };
    this.sent.push(m);
    this.onSend?.(m);
  }

  sendResponse(data: Buffer, request: SipMessage, info: ReceiveInfo): void {
    const r = { data, request, info };
    this.responses.push(r);
    this.onResponse?.(r);
  }

  /** As the transport layer: a listener of the protocol and address family, loopback to loopback. */
  selectListener(dest: Endpoint): ListenerInfo | undefined {
    const fam = familyOf(dest.address);
    const family = fam === 0 ? 4 : fam;
    const list = this.listeners.filter((l) => l.protocol === dest.protocol && l.family === family);
    if (list.length <= 1) return list[0];
    const loop = isLoopback(dest.address);
    return list.find((l) => isLoopback(l.address) === loop) ?? list[0];
  }
}

/** A server transaction: records the responses the core sends upstream through it. */
export class FakeServerTx implements ServerTxPort {
  readonly key: string;
  readonly request: SipMessage;
  readonly isInvite: boolean;
  lastStatus = 0;
  readonly responses: Array<{ status: number; data: Buffer }> = [];
  /** Set by the core once a proxy transaction exists. */
  onTerminated: (() => void) | undefined;
  private readonly sink: ((tx: FakeServerTx, data: Buffer, status: number) => void) | undefined;

  constructor(
    key: string,
    request: SipMessage,
    sink?: (tx: FakeServerTx, data: Buffer, status: number) => void,
  ) {
    this.key = key;
    this.request = request;
    this.isInvite = request.method === 'INVITE';
    this.sink = sink;
  }

  respond(data: Buffer, status: number): void {
    this.lastStatus = status;
    this.responses.push({ status, data });
    this.sink?.(this, data, status);
  }

  /** The transaction ended (timer J/H): the core forgets the proxy transaction. */
  terminate(): void {
    this.onTerminated?.();
  }
}

export interface ReplyOptions {
  toTag?: string;
  reason?: string;
  headers?: Array<[string, string]>;
}

/** What the core passes to sendRequest for a branch (listener, timer C, fr timer). */
export type ClientTxOptions = Parameters<TransactionPort['sendRequest']>[4];

/** A client transaction the core started for one branch. */
export class FakeClientTx implements ClientTxPort {
  /** The branch as serialized by the core, and parsed. */
  readonly data: Buffer;
  readonly msg: SipMessage;
  readonly dest: Endpoint;
  readonly opts: ClientTxOptions;
  readonly handler: ClientHandlerPort;
  /** Reasons of the CANCELs the core asked for (undefined: no Reason header). */
  readonly cancels: Array<string | undefined> = [];

  constructor(
    data: Buffer,
    msg: SipMessage,
    dest: Endpoint,
    handler: ClientHandlerPort,
    opts: ClientTxOptions,
  ) {
    this.data = data;
    this.msg = msg;
    this.dest = dest;
    this.handler = handler;
    this.opts = opts;
  }

  /** The Via branch the core put on this request. */
  get branch(): string | undefined {
    return this.msg.topVia.branch;
  }

  cancel(reason?: string): void {
    this.cancels.push(reason);
  }

  /** Deliver a response received for this branch (provisional or final). */
  receive(res: SipMessage): void {
    if (res.status < 200) this.handler.onProvisional(res, this);
    else this.handler.onFinal(res, this);
  }

  /** A response from downstream to the request this branch sent (To tag `uas<status>` by default). */
  response(status: number, o: ReplyOptions = {}): SipMessage {
    const opts: { toTag?: string; headers?: Array<[string, string]> } = {};
    if (status > 100) opts.toTag = o.toTag ?? `uas${status}`;
    if (o.headers !== undefined) opts.headers = o.headers;
    const res = parseMessage(buildResponse(this.msg, status, o.reason, opts));
    if (isParseError(res)) throw new Error(res.toString());
    return res;
  }

  /** Build a response to this branch and deliver it, as the client transaction would. */
  reply(status: number, o: ReplyOptions = {}): SipMessage {
    const res = this.response(status, o);
    this.receive(res);
    return res;
  }

  /** Timer B/F fired: the branch failed without an answer (408). */
  timeout(): void {
    this.handler.onTimeout(this);
  }

  transportError(err = new Error('transport error')): void {
    this.handler.onTransportError(this, err);
  }
}

/** The TransactionPort: records client transactions and the server transactions released. */
export class FakeTransactions implements TransactionPort {
  readonly clients: FakeClientTx[] = [];
  /** Per sendRequestBytes: whether the core handed over the request already parsed. */
  readonly preParsed: boolean[] = [];
  readonly released: ServerTxPort[] = [];

  sendRequest(
    data: Buffer,
    msg: SipMessage,
    dest: Endpoint,
    handler: ClientHandlerPort,
    opts?: ClientTxOptions,
  ): FakeClientTx {
    const tx = new FakeClientTx(data, msg, dest, handler, opts);
    this.clients.push(tx);
    return tx;
  }

  /** Like the real layer's; the fake parses the bytes so tests can read what was relayed. */
  sendRequestBytes(
    data: Buffer,
    _method: string,
    _branch: string,
    dest: Endpoint,
    handler: ClientHandlerPort,
    opts?: ClientTxOptions,
    request?: SipMessage,
  ): FakeClientTx {
    this.preParsed.push(request !== undefined);
    const msg = request ?? parseMessage(data);
    if (isParseError(msg)) throw new Error(`relayed request does not parse: ${msg.phrase}`);
    return this.sendRequest(data, msg, dest, handler, opts);
  }

  release(tx: ServerTxPort): void {
    this.released.push(tx);
  }
}
