/**
 * What TCP/TLS and WS/WSS transports share: the connection table, the limits on opening and
 * accepting, send (reuse or open), the owner callbacks connections call, the listening socket
 * set-up, the idle/keep-alive sweep and the graceful close. Subclasses make the servers and the
 * connections (TcpConnection over a Socket, WsConnection over a WebSocket).
 */
import type { Server } from 'node:net';
import type { ParseError } from '../sip/errors.ts';
import { ConnectionTable, type TableConnection } from './connection_table.ts';
import { canonicalAddress } from './ip.ts';
import { makeListenerInfo } from './listener_info.ts';
import type { ListenConfig, TransportLimits, TransportLogger } from './options.ts';
import type { ConnectionCounters, ProtocolCounters } from './stats.ts';
import type { TlsContext } from './tls_context.ts';
import { TransportError } from './transport_error.ts';
import type { Endpoint, ListenerInfo, ReceiveInfo } from './types.ts';

export type ErrorCallback = ((error: TransportError) => void) | undefined;

/** Hands a framed message (datagram = false) or a framing error up to the layer. */
export interface StreamSink {
  message(data: Buffer, info: ReceiveInfo): void;
  framingError(error: ParseError, info: ReceiveInfo): void;
  reportError(error: TransportError, onError: ErrorCallback): void;
}

/** What the transport layer needs from each stream transport (TCP, TLS, WS, WSS). */
export interface StreamTransport {
  readonly openConnections: number;
  listen(id: number, cfg: ListenConfig, address: string, family: 4 | 6): Promise<ListenerInfo>;
  send(
    data: Buffer,
    dest: Endpoint,
    connectionId: number | undefined,
    listener: ListenerInfo | undefined,
    onError: ErrorCallback,
  ): void;
  /** RFC 5923: requests to `address:port` may reuse this (inbound) connection. */
  alias(connectionId: number, address: string, port: number): void;
  close(graceMs: number): Promise<void>;
}

/** What a connection needs from the transport that owns it. */
export interface StreamOwner<C> {
  readonly limits: TransportLimits;
  readonly logger: TransportLogger;
  readonly counters: ProtocolCounters;
  readonly connCounters: ConnectionCounters;
  onMessage(data: Buffer, conn: C): void;
  onClosed(conn: C): void;
  /** Report a failed send (asynchronously) to its callback or the layer's sendError event. */
  reportError(error: TransportError, onError: ErrorCallback): void;
}

/** What the base needs from a connection beyond the table's view. */
export interface StreamConnection extends TableConnection {
  readonly remote: Endpoint;
  readonly listener: ListenerInfo;
  readonly inbound: boolean;
  lastActivity: number;
  pingSentAt: number;
  write(data: Buffer, onError: ErrorCallback): void;
  ping(now: number): void;
  close(): void;
  destroy(): void;
}

/** The constructor arguments of every stream transport (no TlsContext: plain TCP or WS). */
export type StreamTransportArgs = [
  limits: TransportLimits,
  logger: TransportLogger,
  counters: ProtocolCounters,
  connCounters: ConnectionCounters,
  sink: StreamSink,
  tls?: TlsContext,
];

/** RFC 5626 §4.4.1: how long a keep-alive ping may wait for its pong. */
const PONG_TIMEOUT_MS = 10_000;

export abstract class StreamTransportBase<C extends StreamConnection>
  implements StreamOwner<C>, StreamTransport
{
  abstract readonly protocol: Endpoint['protocol'];
  readonly limits: TransportLimits;
  readonly logger: TransportLogger;
  readonly counters: ProtocolCounters;
  readonly connCounters: ConnectionCounters;
  protected readonly sink: StreamSink;
  protected readonly tls: TlsContext | undefined;
  protected readonly table = new ConnectionTable<C>();
  protected readonly servers: Server[] = [];
  protected nextId = 1;
  protected stopping = false;
  private sweep: NodeJS.Timeout | undefined;
  private drained: (() => void) | undefined;

  constructor(...[limits, logger, counters, connCounters, sink, tls]: StreamTransportArgs) {
    this.limits = limits;
    this.logger = logger;
    this.counters = counters;
    this.connCounters = connCounters;
    this.sink = sink;
    this.tls = tls;
  }

  get openConnections(): number {
    return this.table.size;
  }

  abstract listen(id: number, cfg: ListenConfig, address: string, family: 4 | 6): Promise<ListenerInfo>;

  /** A new outbound connection to `remote` (canonical address) from `listener` (limits checked). */
  protected abstract dial(remote: Endpoint, listener: ListenerInfo): C;

  /** Accepting or opening one more connection is refused (stopping, or maxConnections reached). */
  protected get full(): boolean {
    return this.stopping || this.table.size >= this.limits.maxConnections;
  }

  /** Listen on `server`; `bound` gets the listener before the promise resolves. */
  protected bind(
    server: Server,
    id: number,
    cfg: ListenConfig,
    address: string,
    family: 4 | 6,
    bound: (info: ListenerInfo) => void,
  ): Promise<ListenerInfo> {
    const proto = this.protocol;
    return new Promise((resolve, reject) => {
      const onListenError = (err: Error): void => {
        server.close();
        reject(new Error(`listen ${proto}:${cfg.address}:${cfg.port}: ${err.message}`, { cause: err }));
      };
      server.once('error', onListenError);
      server.listen({ host: address, port: cfg.port, ipv6Only: family === 6, exclusive: true }, () => {
        server.off('error', onListenError);
        server.on('error', (err) => this.logger.warn({ err, listener: id }, `${proto} server error`));
        const addr = server.address();
        const port = addr !== null && typeof addr === 'object' ? addr.port : cfg.port;
        const info = makeListenerInfo(id, cfg, address, port, family);
        this.servers.push(server);
        bound(info);
        resolve(info);
      });
    });
  }

  /** Put a new connection (accepted or opened) in the table. */
  protected register(conn: C): void {
    this.table.add(conn);
  }

  /** An open (or connecting) connection: by id first, else to the remote endpoint. */
  find(dest: Endpoint, connectionId: number | undefined): C | undefined {
    return this.table.find(dest, connectionId);
  }

  get(connectionId: number): C | undefined {
    return this.table.get(connectionId);
  }

  alias(connectionId: number, address: string, port: number): void {
    this.table.alias(connectionId, { protocol: this.protocol, address, port });
  }

  /**
   * Send on an existing connection, else open one from `listener`. Never throws; failures go to
   * `onError`.
   */
  send(
    data: Buffer,
    dest: Endpoint,
    connectionId: number | undefined,
    listener: ListenerInfo | undefined,
    onError: ErrorCallback,
  ): void {
    let conn = this.table.find(dest, connectionId);
    if (conn === undefined) {
      const opened =
        listener === undefined
          ? new TransportError('NO_LISTENER', `no ${this.protocol} listener for ${dest.address}`, dest)
          : this.open(dest, listener);
      if (opened instanceof TransportError) {
        this.counters.sendErrors++;
        this.sink.reportError(opened, onError);
        return;
      }
      conn = opened;
    }
    conn.write(data, onError);
  }

  private open(dest: Endpoint, listener: ListenerInfo): C | TransportError {
    if (this.stopping) return new TransportError('STOPPED', 'transport is stopping', dest);
    if (this.table.size >= this.limits.maxConnections) {
      return new TransportError(
        'TOO_MANY_CONNECTIONS',
        `maxConnections (${this.limits.maxConnections}) reached`,
        dest,
      );
    }
    const remote: Endpoint = {
      protocol: this.protocol,
      address: canonicalAddress(dest.address),
      port: dest.port,
    };
    const conn = this.dial(remote, listener);
    this.connCounters.connected++;
    this.register(conn);
    return conn;
  }

  /**
   * One timer for every connection: the idle timeout when `idleMs` > 0 (for transports without
   * a per-socket timeout), and RFC 5626 §4.4.1 keep-alive pings on connections we opened that
   * were quiet for keepAliveIntervalMs (a ping unanswered for 10 s closes the connection).
   */
  protected startSweep(idleMs: number): void {
    const idle = idleMs;
    const ka = this.limits.keepAliveIntervalMs;
    if ((idle <= 0 && ka <= 0) || this.sweep !== undefined) return;
    const periods = [idle, ka].filter((x) => x > 0).map((x) => x / 2);
    this.sweep = setInterval(
      () => {
        const now = performance.now();
        for (const c of this.table.values()) {
          if (idle > 0 && c.lastActivity < now - idle) {
            this.connCounters.idleClosed++;
            c.destroy();
          } else if (ka > 0 && !c.inbound) {
            if (c.pingSentAt > 0) {
              if (now - c.pingSentAt > PONG_TIMEOUT_MS) {
                this.logger.info({ connection: c.id, remote: c.remote }, 'keep-alive pong missing, closing');
                this.connCounters.keepAliveClosed++;
                c.destroy();
              }
            } else if (now - c.lastActivity >= ka) c.ping(now);
          }
        }
      },
      Math.max(100, Math.min(...periods, 5000)),
    );
    this.sweep.unref();
  }

  // ---------------------------------------------------------------- owner callbacks

  onMessage(data: Buffer, conn: C): void {
    this.sink.message(data, this.receiveInfo(conn));
  }

  onClosed(conn: C): void {
    this.table.remove(conn);
    if (this.table.size === 0 && this.drained !== undefined) this.drained();
  }

  reportError(error: TransportError, onError: ErrorCallback): void {
    this.sink.reportError(error, onError);
  }

  protected receiveInfo(conn: C): ReceiveInfo {
    return {
      source: conn.remote,
      listener: conn.listener,
      connectionId: conn.id,
      receivedAt: performance.now(),
      forceRport: false,
    };
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Stop accepting, close every connection after flushing its output, and after `graceMs`
   * destroy what is still open. Resolves when every socket and server is closed.
   */
  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.sweep !== undefined) clearInterval(this.sweep);
    const servers = this.servers.splice(0);
    // http(s) servers (WebSocket): idle keep-alive HTTP sockets would hold close() open.
    for (const s of servers) {
      if ('closeIdleConnections' in s && typeof s.closeIdleConnections === 'function') {
        s.closeIdleConnections();
      }
    }
    const serversClosed = Promise.all(
      servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
    if (this.table.size > 0) {
      const drained = new Promise<void>((resolve) => {
        this.drained = resolve;
      });
      for (const c of this.table.all()) c.close();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([drained, grace]);
      clearTimeout(timer);
      if (this.table.size > 0) {
        for (const c of this.table.all()) c.destroy();
        await drained;
      }
      this.drained = undefined;
    }
    this.closed();
    await serversClosed;
  }

  /** After every connection is closed, before the servers are awaited. */
  protected closed(): void {}
}
