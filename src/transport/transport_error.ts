/**
 * Why a send did not reach the network. Reported through `SendOptions.onError` (or the layer's
 * `sendError` event), never thrown: a transaction turns it into a transport error (RFC 3261 §17.1.4,
 * §17.2.4) and the proxy into a 503 for that branch.
 */
import type { Endpoint } from './types.ts';

export type TransportErrorCode =
  /** No listener of the destination's protocol and address family. */
  | 'NO_LISTENER'
  /** The transport layer is stopped or stopping. */
  | 'STOPPED'
  /** maxConnections reached: no new outbound connection. */
  | 'TOO_MANY_CONNECTIONS'
  | 'CONNECT_TIMEOUT'
  | 'CONNECT_FAILED'
  /** The connection closed before the data could be written. */
  | 'CONNECTION_CLOSED'
  /** The peer does not read: queued output above maxBufferedBytesPerConnection. */
  | 'BUFFER_OVERFLOW'
  /** Datagram above maxDatagramBytes. */
  | 'MESSAGE_TOO_LARGE'
  /** A maddr host name that did not resolve. */
  | 'DNS_FAILED'
  /** The socket reported an error on send. */
  | 'SEND_FAILED';

export class TransportError extends Error {
  readonly code: TransportErrorCode;
  readonly dest: Endpoint | undefined;
  constructor(code: TransportErrorCode, message: string, dest?: Endpoint, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransportError';
    this.code = code;
    this.dest = dest;
  }
}
