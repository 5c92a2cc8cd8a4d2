/**
 * What a TCP/TLS connection and a WebSocket connection share: identity and table keys, activity
 * and keep-alive marks, the send queue while an outbound connection is set up (capped at
 * maxBufferedBytesPerConnection), and the errors a send fails with. The subclasses own the
 * socket, its state and the write path.
 */
import type { ErrorCallback, StreamOwner } from './stream_transport_base.ts';
import { TransportError } from './transport_error.ts';
import type { Endpoint, ListenerInfo } from './types.ts';

export abstract class StreamConnectionBase<C> {
  readonly id: number;
  /** The peer; also `ReceiveInfo.source` for every message read from it. */
  readonly remote: Endpoint;
  /** Map key of `remote` in the owner's connection table. */
  readonly key: string;
  readonly listener: ListenerInfo;
  readonly inbound: boolean;
  /** Other table keys (RFC 5923 aliases) that point at this connection. */
  readonly aliases: string[] = [];
  /** performance.now() of the last traffic either way (keep-alive sweeps read it). */
  lastActivity = performance.now();
  /** When the unanswered keep-alive ping went out (0: none outstanding). */
  pingSentAt = 0;
  protected readonly owner: StreamOwner<C>;
  protected queue: Buffer[] = [];
  protected queueErrors: ErrorCallback[] = [];
  protected queuedBytes = 0;
  /** Why the connection failed, for the sends still queued when it closes. */
  protected failure: TransportError | undefined;

  constructor(
    owner: StreamOwner<C>,
    id: number,
    remote: Endpoint,
    key: string,
    listener: ListenerInfo,
    inbound: boolean,
  ) {
    this.owner = owner;
    this.id = id;
    this.remote = remote;
    this.key = key;
    this.listener = listener;
    this.inbound = inbound;
  }

  /** Queue a send while connecting (counted as sent); false (and failed) when the queue is full. */
  protected enqueue(data: Buffer, onError: ErrorCallback): boolean {
    if (this.queuedBytes + data.length > this.owner.limits.maxBufferedBytesPerConnection) {
      this.fail(
        new TransportError('BUFFER_OVERFLOW', `send queue of connection ${this.id} full`, this.remote),
        onError,
      );
      return false;
    }
    this.queue.push(data);
    this.queueErrors.push(onError);
    this.queuedBytes += data.length;
    this.owner.counters.messagesOut++;
    this.owner.counters.bytesOut += data.length;
    return true;
  }

  /** A send on a connection that is closing or closed. */
  protected failClosed(onError: ErrorCallback): void {
    this.fail(
      new TransportError('CONNECTION_CLOSED', `connection ${this.id} is closed`, this.remote),
      onError,
    );
  }

  /** The peer does not read: fail the send and close the connection now. */
  protected failOverflow(onError: ErrorCallback): void {
    this.fail(
      new TransportError('BUFFER_OVERFLOW', `peer of connection ${this.id} does not read`, this.remote),
      onError,
    );
    this.owner.connCounters.overflowClosed++;
    this.destroy();
  }

  /** Closed by a stop while still connecting: queued sends fail with STOPPED. */
  protected stoppedWhileConnecting(): void {
    this.failure ??= new TransportError(
      'STOPPED',
      'transport stopped before the connection was set up',
      this.remote,
    );
  }

  /** Take the sends queued while connecting (the queue is empty afterwards). */
  protected takeQueue(): { data: Buffer[]; errors: ErrorCallback[] } {
    const taken = { data: this.queue, errors: this.queueErrors };
    this.queue = [];
    this.queueErrors = [];
    this.queuedBytes = 0;
    return taken;
  }

  /** On close: fail every send still queued (with the failure, else CONNECTION_CLOSED). */
  protected failQueued(): void {
    if (this.queue.length === 0) return;
    const error =
      this.failure ??
      new TransportError(
        'CONNECTION_CLOSED',
        `connection ${this.id} closed before it was set up`,
        this.remote,
      );
    for (const onError of this.takeQueue().errors) this.fail(error, onError);
  }

  protected fail(error: TransportError, onError: ErrorCallback): void {
    this.owner.counters.sendErrors++;
    this.owner.reportError(error, onError);
  }

  abstract destroy(): void;
}
