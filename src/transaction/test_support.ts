/**
 * Test helpers for the transaction layer: a tiny SIP message factory, a recording fake transport
 * and transaction user, and fast timer values. Not a test file itself (no `.test.ts`).
 */
import { buildResponse } from '../sip/build.ts';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import { TransportError } from '../transport/transport_error.ts';
import type { Endpoint, ListenerInfo, Protocol, ReceiveInfo, SendOptions } from '../transport/types.ts';
import type { TimerOptions } from './timers.ts';
import type {
  ClientHandler,
  ClientTransaction,
  ServerTransaction,
  TransactionUser,
  TransportPort,
} from './transaction.ts';
import { TransactionLayer, type TransactionLayerOptions } from './transaction_layer.ts';

/** Timer values small enough for tests: T1 = 10 ms. */
export const FAST: Partial<TimerOptions> = {
  t1: 10,
  t2: 40,
  t4: 50,
  timerD: 60,
  timerC: 1000,
  tryingDelay: 20,
};

export function parse(text: string | Buffer): SipMessage {
  const m = parseMessage(typeof text === 'string' ? Buffer.from(text) : text);
  if (isParseError(m)) throw new Error(`test message does not parse: ${m.phrase}`);
  return m;
}

export interface RequestSpec {
  method?: string;
  ruri?: string;
  /** Top Via branch; `null` for none (RFC 2543). */
  branch?: string | null;
  /** Whole top Via value (overrides `branch`). */
  via?: string;
  fromTag?: string | null;
  toTag?: string;
  callId?: string;
  cseq?: number;
  /** CSeq method when it differs from the request method (never: ACK/CANCEL use their own). */
  extra?: string[];
}

/** A request as a UAC at 10.0.0.1 would send it. */
export function requestText(spec: RequestSpec = {}): string {
  const method = spec.method ?? 'INVITE';
  const ruri = spec.ruri ?? 'sip:bob@b.example';
  const branch = spec.branch === undefined ? 'z9hG4bK1' : spec.branch;
  const via = spec.via ?? `SIP/2.0/UDP 10.0.0.1:5060${branch === null ? '' : `;branch=${branch}`}`;
  const fromTag = spec.fromTag === undefined ? 'a1' : spec.fromTag;
  const lines = [
    `${method} ${ruri} SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    `From: <sip:alice@a.example>${fromTag === null ? '' : `;tag=${fromTag}`}`,
    `To: <sip:bob@b.example>${spec.toTag === undefined ? '' : `;tag=${spec.toTag}`}`,
    `Call-ID: ${spec.callId ?? 'call-1@10.0.0.1'}`,
    `CSeq: ${spec.cseq ?? 1} ${method}`,
    ...(spec.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  return lines.join('\r\n');
}

export function request(spec: RequestSpec = {}): SipMessage {
  return parse(requestText(spec));
}

/** A response to `req` (bytes and parsed), with a To tag for everything but 100. */
export function response(req: SipMessage, status: number, toTag = 'b1'): SipMessage {
  return parse(buildResponse(req, status, undefined, { toTag }));
}

export function listener(protocol: Protocol = 'udp'): ListenerInfo {
  return {
    id: 1,
    protocol,
    address: '192.0.2.10',
    port: 5060,
    family: 4,
    advertisedHost: '192.0.2.10',
    advertisedPort: 5060,
  };
}

export function recvInfo(protocol: Protocol = 'udp', address = '10.0.0.1', port = 5060): ReceiveInfo {
  return {
    source: { protocol, address, port },
    listener: listener(protocol),
    connectionId: protocol === 'udp' ? 0 : 7,
    receivedAt: 0,
  };
}

export function endpoint(protocol: Protocol = 'udp', address = '10.0.0.2', port = 5060): Endpoint {
  return { protocol, address, port };
}

export interface Sent {
  data: Buffer;
  dest: Endpoint;
  opts: SendOptions | undefined;
}

export interface SentResponse {
  data: Buffer;
  request: SipMessage;
  info: ReceiveInfo;
}

/**
 * Records what the layer sends. `failAsync` reports every send as failed through `onError` in a
 * microtask (the TransportLayer's way); `failSend` makes send() throw (a misbehaving transport).
 */
export class FakeTransport implements TransportPort {
  readonly sent: Sent[] = [];
  readonly responses: SentResponse[] = [];
  failSend = false;
  failAsync = false;
  /** When false, nothing is recorded (memory tests). */
  record = true;

  send(data: Buffer, dest: Endpoint, opts?: SendOptions): void {
    if (this.failSend) throw new Error('send failed');
    if (this.record) this.sent.push({ data, dest, opts });
    const onError = opts?.onError;
    if (this.failAsync && onError !== undefined) {
      queueMicrotask(() => onError(new TransportError('CONNECT_FAILED', 'connect refused', dest)));
    }
  }

  sendResponse(data: Buffer, request: SipMessage, info: ReceiveInfo, onError?: (error: Error) => void): void {
    if (this.record) this.responses.push({ data, request, info });
    if (this.failAsync && onError !== undefined)
      queueMicrotask(() => onError(new Error('connection closed')));
  }

  /** Status codes of the responses sent, in order. */
  statuses(): number[] {
    return this.responses.map((r) => parse(r.data).status);
  }

  /** Methods (requests) of what send() carried, in order. */
  methods(): string[] {
    return this.sent.map((s) => parse(s.data).method);
  }
}

/** Records TU upcalls; `onRequestHook` lets a test answer synchronously. */
export class FakeTU implements TransactionUser {
  readonly requests: Array<{ req: SipMessage; tx: ServerTransaction | undefined }> = [];
  readonly cancels: Array<{ cancel: SipMessage; invite: ServerTransaction }> = [];
  readonly stray: SipMessage[] = [];
  onRequestHook: ((req: SipMessage, tx: ServerTransaction | undefined) => void) | undefined = undefined;

  onRequest(req: SipMessage, _info: ReceiveInfo, tx: ServerTransaction | undefined): void {
    this.requests.push({ req, tx });
    this.onRequestHook?.(req, tx);
  }

  onCancel(cancel: SipMessage, _info: ReceiveInfo, invite: ServerTransaction): void {
    this.cancels.push({ cancel, invite });
  }

  onStrayResponse(res: SipMessage): void {
    this.stray.push(res);
  }
}

/** Records client transaction outcomes. */
export class RecordingHandler implements ClientHandler {
  readonly events: string[] = [];
  readonly finals: SipMessage[] = [];

  onProvisional(res: SipMessage, _tx: ClientTransaction): void {
    this.events.push(`provisional ${res.status}`);
  }

  onFinal(res: SipMessage, _tx: ClientTransaction): void {
    this.events.push(`final ${res.status}`);
    this.finals.push(res);
  }

  onTimeout(_tx: ClientTransaction): void {
    this.events.push('timeout');
  }

  onTransportError(_tx: ClientTransaction, err: Error): void {
    this.events.push(`transport-error ${err.message}`);
  }
}

/** A request as it leaves the proxy: our Via (with `branch`) on top of the UAC's. */
export function outgoing(
  method: string,
  branch: string,
  extra: string[] = [],
): { data: Buffer; msg: SipMessage } {
  const text = requestText({
    method,
    via: `SIP/2.0/UDP 192.0.2.10:5060;branch=${branch}`,
    extra: ['Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKup', 'Route: <sip:p2.example;lr>', ...extra],
  });
  const data = Buffer.from(text);
  return { data, msg: parse(data) };
}

/** A response to a request we sent (its top Via is ours). */
export function responseTo(sent: SipMessage, status: number, toTag = 'b1'): SipMessage {
  return response(sent, status, toTag);
}

/** A layer over a fake transport and TU with FAST timers; caught errors are collected. */
export function setup(options?: Partial<TransactionLayerOptions>): {
  transport: FakeTransport;
  tu: FakeTU;
  layer: TransactionLayer;
  errors: unknown[];
} {
  const transport = new FakeTransport();
  const tu = new FakeTU();
  const errors: unknown[] = [];
  const layer = new TransactionLayer(transport, tu, { ...FAST, onError: (e) => errors.push(e), ...options });
  return { transport, tu, layer, errors };
}
