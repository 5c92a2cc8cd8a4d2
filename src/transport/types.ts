/**
 * The transport contract the layers above program against. UDP and TCP implement it now;
 * TLS and WebSocket plug in later without touching transactions, proxy or scripts.
 */

import type { ParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import type { TransportError } from './transport_error.ts';

export type Protocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** An address on the network: IP literal (IPv6 without brackets) and port. */
export interface Endpoint {
  readonly protocol: Protocol;
  readonly address: string;
  readonly port: number;
}

/** One configured `proto:host:port` listener. */
export interface ListenerInfo {
  readonly id: number;
  readonly protocol: Protocol;
  /** Bound IP literal (IPv6 without brackets). */
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** Host and port written in Via / Record-Route (advertised address when configured). */
  readonly advertisedHost: string;
  readonly advertisedPort: number;
}

/** Where a message came from and on which listener/connection. */
export interface ReceiveInfo {
  readonly source: Endpoint;
  readonly listener: ListenerInfo;
  /** Stream connection id (0 for UDP): responses and in-dialog requests reuse it. */
  readonly connectionId: number;
  /** Monotonic receive time, ms (performance.now()). */
  readonly receivedAt: number;
  /** Set by force_rport (forceRport in via_stamp.ts): responses go to the source port as with rport. */
  forceRport?: boolean;
}

export interface SendOptions {
  /** Prefer this open connection (stream transports). */
  connectionId?: number;
  /** Send from this listener (UDP source socket, or local address for new TCP connections). */
  listenerId?: number;
  /**
   * Called at most once, asynchronously (never from inside `send`), when the data could not be
   * handed to the network: no listener, connect failure/timeout, connection closed, overflow.
   * Without it the failure goes to `TransportEvents.sendError`.
   */
  onError?: (error: TransportError) => void;
}

export interface TransportEvents {
  /** A parsed message. Requests already carry `received`/`rport` edits on their top Via (RFC 3261 §18.2.1, RFC 3581). */
  message(msg: SipMessage, info: ReceiveInfo): void;
  /** A message that did not parse: raw bytes and the reason (the caller may answer 400 / drop). */
  parseError(error: ParseError, raw: Buffer, info: ReceiveInfo): void;
  /** A send without its own `onError` failed (optional; logged at debug level either way). */
  sendError?(error: TransportError, dest: Endpoint): void;
}
