/**
 * One TCP connection, accepted or opened by us: framing (RFC 3261 §18.3), RFC 5626 §3.5.1 CRLF
 * keep-alive answers, the idle timeout, the per-connection buffer cap, and a send queue while an
 * outbound connection is still being set up.
 *
 * Policies:
 * - Unframed input above maxBufferedBytesPerConnection closes the connection (a peer that never
 *   finishes its message cannot hold memory).
 * - Output the peer does not read: past the same cap, the connection is closed and the send fails
 *   (the peer is stuck; SIP timers then treat it like loss). While connecting, an over-cap send
 *   just fails and the queue is kept.
 * - A framing error (no/invalid Content-Length, header section too large) is unrecoverable on a
 *   stream: it is reported, then the connection is closed after pending output is flushed. No
 *   `400` is written: a bare status line without Via/From/To/Call-ID/CSeq is not a response the
 *   peer could match, and the bytes that would carry them were discarded by the framer.
 */
import type { Socket } from 'node:net';
import type { ParseError } from '../sip/errors.ts';
import { StreamFramer } from '../sip/stream_framer.ts';
import { StreamConnectionBase } from './stream_connection.ts';
import type { ErrorCallback, StreamOwner } from './stream_transport_base.ts';
import { TransportError } from './transport_error.ts';
import type { Endpoint, ListenerInfo } from './types.ts';

/** What a connection needs from the transport that owns it. */
export interface ConnectionOwner extends StreamOwner<TcpConnection> {
  /** The socket event that says an outbound connection is ready ('secureConnect' for TLS). */
  readonly connectEvent: string;
  onFramingError(error: ParseError, conn: TcpConnection): void;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** RFC 5626 §3.5.1: the answer to a CRLFCRLF ping is a single CRLF pong. */
const PONG = Buffer.from('\r\n');
const PING = Buffer.from('\r\n\r\n');

export class TcpConnection extends StreamConnectionBase<TcpConnection> {
  readonly socket: Socket;
  protected override readonly owner: ConnectionOwner;
  private readonly framer: StreamFramer;
  private state: number;

  constructor(
    owner: ConnectionOwner,
    id: number,
    socket: Socket,
    remote: Endpoint,
    key: string,
    listener: ListenerInfo,
    inbound: boolean,
  ) {
    super(owner, id, remote, key, listener, inbound);
    this.owner = owner;
    this.socket = socket;
    this.state = inbound ? OPEN : CONNECTING;
    this.framer = new StreamFramer({
      maxHeaderBytes: owner.limits.maxHeaderBytes,
      maxBodyBytes: owner.limits.maxBodyBytes,
    });
    const limits = owner.limits;
    socket.setNoDelay(true);
    if (limits.tcpKeepAliveMs > 0) socket.setKeepAlive(true, limits.tcpKeepAliveMs);
    // One timer covers both phases: connect timeout first, then the idle timeout (Node resets it
    // on every read and write, so any traffic either way keeps the connection).
    if (inbound) {
      if (limits.idleTimeoutMs > 0) socket.setTimeout(limits.idleTimeoutMs);
    } else {
      socket.setTimeout(limits.connectTimeoutMs);
      socket.once(owner.connectEvent, () => this.onConnect());
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('timeout', () => this.onTimeout());
    socket.on('error', (err: Error) => this.onError(err));
    socket.on('close', () => this.onClose());
  }

  /** Usable for sending (open, or still connecting). */
  get usable(): boolean {
    return this.state === OPEN || this.state === CONNECTING;
  }

  /** Queue or write one message. Failures go to `onError` (asynchronously). */
  write(data: Buffer, onError: ErrorCallback): void {
    const cap = this.owner.limits.maxBufferedBytesPerConnection;
    if (this.state === CONNECTING) {
      this.enqueue(data, onError);
      return;
    }
    if (this.state !== OPEN) {
      this.failClosed(onError);
      return;
    }
    if (this.socket.writableLength + data.length > cap) {
      this.failOverflow(onError);
      return;
    }
    this.owner.counters.messagesOut++;
    this.owner.counters.bytesOut += data.length;
    this.lastActivity = performance.now();
    if (onError === undefined) {
      this.socket.write(data);
    } else {
      this.socket.write(data, (err) => {
        if (err) this.fail(this.sendFailed(err), onError);
      });
    }
  }

  /** RFC 5626 §4.4.1 keep-alive: a CRLFCRLF ping; the pong clears `pingSentAt`. */
  ping(now: number): void {
    if (this.state !== OPEN) return;
    this.pingSentAt = now;
    this.lastActivity = now;
    this.socket.write(PING);
  }

  /** Close after flushing pending output (stop, framing error). */
  close(): void {
    if (this.state === CLOSED || this.state === CLOSING) return;
    if (this.state === CONNECTING) {
      this.stoppedWhileConnecting();
      this.destroy();
      return;
    }
    this.state = CLOSING;
    this.socket.destroySoon();
  }

  /** Close now, dropping pending output. */
  destroy(): void {
    if (this.state === CLOSED) return;
    if (this.state !== CONNECTING) this.state = CLOSING;
    this.socket.destroy();
  }

  private sendFailed(err: Error): TransportError {
    // Writes still buffered when the connection is closed (overflow, idle, stop) are lost.
    if (this.state !== OPEN) {
      return new TransportError(
        'CONNECTION_CLOSED',
        `connection ${this.id} closed before the data was written`,
        this.remote,
        err,
      );
    }
    return new TransportError(
      'SEND_FAILED',
      `write on connection ${this.id} failed: ${err.message}`,
      this.remote,
      err,
    );
  }

  private onConnect(): void {
    if (this.state !== CONNECTING) return;
    this.state = OPEN;
    const idle = this.owner.limits.idleTimeoutMs;
    this.socket.setTimeout(idle);
    const { data: queue, errors } = this.takeQueue();
    // One segment for a burst queued while connecting.
    this.socket.cork();
    for (let i = 0; i < queue.length; i++) {
      const onError = errors[i];
      if (onError === undefined) this.socket.write(queue[i]);
      else {
        this.socket.write(queue[i], (err) => {
          if (err) this.fail(this.sendFailed(err), onError);
        });
      }
    }
    this.socket.uncork();
  }

  private onData(chunk: Buffer): void {
    const counters = this.owner.counters;
    counters.bytesIn += chunk.length;
    this.lastActivity = performance.now();
    // Node hands every 'data' event a fresh Buffer, so the framer may keep it without a copy.
    const events = this.framer.push(chunk);
    for (let i = 0; i < events.length; i++) {
      if (this.state !== OPEN) return; // a handler closed the connection: stop delivering
      const ev = events[i];
      switch (ev.kind) {
        case 'message':
          this.owner.onMessage(ev.data, this);
          break;
        case 'ping':
          counters.keepAlives++;
          this.socket.write(PONG);
          break;
        case 'pong':
          counters.keepAlives++;
          this.pingSentAt = 0;
          break;
        case 'error':
          this.owner.connCounters.framingClosed++;
          this.owner.onFramingError(ev.error, this);
          this.close();
          return;
      }
    }
    if (this.framer.pendingBytes > this.owner.limits.maxBufferedBytesPerConnection) {
      this.owner.logger.info(
        { connection: this.id, remote: this.remote, pending: this.framer.pendingBytes },
        'closing connection: unframed input above maxBufferedBytesPerConnection',
      );
      this.owner.connCounters.overflowClosed++;
      this.destroy();
    }
  }

  private onTimeout(): void {
    if (this.state === CONNECTING) {
      this.failure = new TransportError(
        'CONNECT_TIMEOUT',
        `connect to ${this.remote.address}:${this.remote.port} timed out after ${this.owner.limits.connectTimeoutMs} ms`,
        this.remote,
      );
      this.destroy();
      return;
    }
    this.owner.connCounters.idleClosed++;
    this.owner.logger.debug({ connection: this.id, remote: this.remote }, 'closing idle connection');
    this.destroy();
  }

  private onError(err: Error): void {
    if (this.state === CONNECTING && this.failure === undefined) {
      this.failure = new TransportError(
        'CONNECT_FAILED',
        `connect to ${this.remote.address}:${this.remote.port} failed: ${err.message}`,
        this.remote,
        err,
      );
    }
    this.owner.logger.debug({ err, connection: this.id, remote: this.remote }, 'tcp connection error');
  }

  private onClose(): void {
    const wasConnecting = this.state === CONNECTING;
    this.state = CLOSED;
    if (wasConnecting && this.failure?.code !== 'STOPPED') this.owner.connCounters.connectFailures++;
    this.failQueued();
    this.owner.onClosed(this);
  }
}
