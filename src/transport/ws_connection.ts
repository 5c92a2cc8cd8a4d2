/**
 * One SIP-over-WebSocket connection (RFC 7118), accepted or opened by us. A WebSocket message
 * carries exactly one SIP message (§5.1), so no stream framing: each message is parsed whole.
 * Sent as text frames (SIP is UTF-8 text; JsSIP and SIP.js send text too).
 *
 * Policies (as TcpConnection): output the peer does not read past maxBufferedBytesPerConnection
 * closes the connection; sends while the handshake runs are queued (same cap); a message of only
 * CR/LF is a keep-alive (counted, not answered: WebSocket has its own ping/pong).
 */
import type { WebSocket } from 'ws';
import { StreamConnectionBase } from './stream_connection.ts';
import type { ErrorCallback, StreamOwner } from './stream_transport_base.ts';
import { TransportError } from './transport_error.ts';
import type { Endpoint, ListenerInfo } from './types.ts';

export type WsOwner = StreamOwner<WsConnection>;

const SEND_TEXT = { binary: false } as const;
const OPEN = 1; // WebSocket.OPEN
const CONNECTING = 0;

export class WsConnection extends StreamConnectionBase<WsConnection> {
  readonly ws: WebSocket;
  private closed = false;
  /** The handshake completed (always for accepted connections). */
  private opened: boolean;

  constructor(
    owner: WsOwner,
    id: number,
    ws: WebSocket,
    remote: Endpoint,
    key: string,
    listener: ListenerInfo,
    inbound: boolean,
  ) {
    super(owner, id, remote, key, listener, inbound);
    this.ws = ws;
    this.opened = inbound;
    ws.on('message', (data: Buffer) => this.onData(data));
    ws.on('error', (err: Error) => this.onError(err));
    ws.on('close', () => this.onClose());
    ws.on('pong', () => {
      this.pingSentAt = 0;
      this.owner.counters.keepAlives++;
    });
    if (!inbound) ws.once('open', () => this.onOpen());
  }

  get usable(): boolean {
    return !this.closed && (this.ws.readyState === OPEN || this.ws.readyState === CONNECTING);
  }

  write(data: Buffer, onError: ErrorCallback): void {
    const cap = this.owner.limits.maxBufferedBytesPerConnection;
    const state = this.ws.readyState;
    if (state === CONNECTING && !this.closed) {
      if (this.enqueue(data, onError)) this.lastActivity = performance.now();
      return;
    }
    if (state !== OPEN || this.closed) {
      this.failClosed(onError);
      return;
    }
    if (this.ws.bufferedAmount + data.length > cap) {
      this.failOverflow(onError);
      return;
    }
    this.count(data.length);
    this.send(data, onError);
  }

  /** A keep-alive WebSocket ping (answered by a pong frame). */
  ping(now: number): void {
    if (this.closed || this.ws.readyState !== OPEN) return;
    this.pingSentAt = now;
    this.lastActivity = now;
    this.ws.ping();
  }

  close(): void {
    if (this.closed) return;
    if (this.ws.readyState === CONNECTING) {
      this.stoppedWhileConnecting();
      this.ws.terminate();
      return;
    }
    this.ws.close(1001, 'going away');
  }

  destroy(): void {
    this.ws.terminate();
  }

  private count(n: number): void {
    this.owner.counters.messagesOut++;
    this.owner.counters.bytesOut += n;
    this.lastActivity = performance.now();
  }

  private send(data: Buffer, onError: ErrorCallback): void {
    if (onError === undefined) this.ws.send(data, SEND_TEXT);
    else
      this.ws.send(data, SEND_TEXT, (err) => {
        if (err)
          this.fail(
            new TransportError(
              'SEND_FAILED',
              `write on connection ${this.id} failed: ${err.message}`,
              this.remote,
              err,
            ),
            onError,
          );
      });
  }

  private onOpen(): void {
    this.opened = true;
    const { data: queue, errors } = this.takeQueue();
    for (let i = 0; i < queue.length; i++) this.send(queue[i], errors[i]);
  }

  private onData(data: Buffer): void {
    const c = this.owner.counters;
    c.bytesIn += data.length;
    this.lastActivity = performance.now();
    if (isCrlfOnly(data)) {
      c.keepAlives++;
      return;
    }
    this.owner.onMessage(data, this);
  }

  private onError(err: Error): void {
    if (!this.opened && this.failure === undefined) {
      const timeout = err.message.includes('handshake has timed out');
      this.failure = new TransportError(
        timeout ? 'CONNECT_TIMEOUT' : 'CONNECT_FAILED',
        `connect to ${this.remote.address}:${this.remote.port} failed: ${err.message}`,
        this.remote,
        err,
      );
    }
    this.owner.logger.debug({ err, connection: this.id, remote: this.remote }, 'websocket error');
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.queue.length > 0) {
      if (this.failure?.code !== 'STOPPED') this.owner.connCounters.connectFailures++;
      this.failQueued();
    }
    this.owner.onClosed(this);
  }
}

function isCrlfOnly(buf: Buffer): boolean {
  if (buf.length === 0) return true;
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0x0d && buf[i] !== 0x0a) return false;
  return true;
}
