/** Shared helpers for the transport tests (not part of the runtime). */
import { createSocket, type Socket as DgramSocket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import type { ParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import type { TransportError } from './transport_error.ts';
import type { Endpoint, ReceiveInfo, TransportEvents } from './types.ts';

export interface RequestSpec {
  method?: string;
  /** Full Via value(s), one header line each. */
  via: string | string[];
  callId?: string;
  body?: string;
  /** Extra header lines without CRLF. */
  headers?: string[];
  /** Leave Content-Length out (UDP only). */
  noContentLength?: boolean;
}

export function request(spec: RequestSpec): string {
  const method = spec.method ?? 'OPTIONS';
  const vias = typeof spec.via === 'string' ? [spec.via] : spec.via;
  const body = spec.body ?? '';
  const lines = [
    `${method} sip:bob@example.com SIP/2.0`,
    ...vias.map((v) => `Via: ${v}`),
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:bob@example.com>',
    `Call-ID: ${spec.callId ?? 'call-1'}`,
    `CSeq: 1 ${method}`,
    ...(spec.headers ?? []),
  ];
  if (spec.noContentLength !== true) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export function response(via: string, status = 200, callId = 'call-1'): string {
  return [
    `SIP/2.0 ${status} OK`,
    `Via: ${via}`,
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:bob@example.com>;tag=b1',
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export interface Received {
  msg: SipMessage;
  info: ReceiveInfo;
}

export interface BadInput {
  error: ParseError;
  raw: Buffer;
  info: ReceiveInfo;
}

/** A FIFO of whatever a TransportLayer delivered, awaitable with a timeout. */
class Queue<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<(v: T) => void> = [];
  push(v: T): void {
    const w = this.waiters.shift();
    if (w !== undefined) w(v);
    else this.items.push(v);
  }
  get length(): number {
    return this.items.length;
  }
  next(what: string, timeoutMs = 2000): Promise<T> {
    const v = this.items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const done = (x: T): void => {
        clearTimeout(timer);
        resolve(x);
      };
      this.waiters.push(done);
    });
  }
}

export class Inbox implements TransportEvents {
  readonly messages = new Queue<Received>();
  readonly errors = new Queue<BadInput>();
  readonly sendErrors = new Queue<{ error: TransportError; dest: Endpoint }>();
  message(msg: SipMessage, info: ReceiveInfo): void {
    this.messages.push({ msg, info });
  }
  parseError(error: ParseError, raw: Buffer, info: ReceiveInfo): void {
    this.errors.push({ error, raw, info });
  }
  sendError(error: TransportError, dest: Endpoint): void {
    this.sendErrors.push({ error, dest });
  }
  nextMessage(timeoutMs?: number): Promise<Received> {
    return this.messages.next('a message', timeoutMs);
  }
  nextError(timeoutMs?: number): Promise<BadInput> {
    return this.errors.next('a parse error', timeoutMs);
  }
}

/** A plain UDP socket playing a SIP peer. */
export class UdpPeer {
  readonly socket: DgramSocket;
  private readonly queue = new Queue<{ data: Buffer; rinfo: RemoteInfo }>();
  private constructor(socket: DgramSocket) {
    this.socket = socket;
    socket.on('message', (data, rinfo) => this.queue.push({ data, rinfo }));
  }
  static async open(address: string): Promise<UdpPeer> {
    const s = createSocket({
      type: address.includes(':') ? 'udp6' : 'udp4',
      ipv6Only: address.includes(':'),
    });
    s.bind(0, address);
    await once(s, 'listening');
    return new UdpPeer(s);
  }
  get port(): number {
    return this.socket.address().port;
  }
  send(data: string | Buffer, port: number, address: string): void {
    this.socket.send(data, port, address);
  }
  next(timeoutMs?: number): Promise<{ data: Buffer; rinfo: RemoteInfo }> {
    return this.queue.next('a datagram', timeoutMs);
  }
  /** Resolves true when nothing arrives within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch {
      return true;
    }
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll until `cond` holds (for counters and socket states that change asynchronously). */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await delay(5);
  }
}
