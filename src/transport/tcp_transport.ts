/**
 * TCP and TLS listeners and the connection table (one instance per protocol; TLS is TCP with a
 * TLSSocket, same framing, same table). Connections are found by id (a response goes back on
 * the connection its request came on, RFC 3261 §18.2.2) and by remote address:port, whichever
 * side opened them (RFC 3261 §18: a request to an address with an open connection reuses it).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsCreateServer } from 'node:tls';
import type { ParseError } from '../sip/errors.ts';
import { ConnectionTable, keyOf } from './connection_table.ts';
import { canonicalAddress, isAnyAddress, normalizeAddress } from './ip.ts';
import { makeListenerInfo } from './listener_info.ts';
import type { ListenConfig, TransportLimits, TransportLogger } from './options.ts';
import type { ConnectionCounters, ProtocolCounters } from './stats.ts';
import { type ConnectionOwner, type ErrorCallback, TcpConnection } from './tcp_connection.ts';
import type { TlsContext } from './tls_context.ts';
import { TransportError } from './transport_error.ts';
import type { Endpoint, ListenerInfo, ReceiveInfo } from './types.ts';

/** Hands a framed message (datagram = false) or a framing error up to the layer. */
export interface StreamSink {
  message(data: Buffer, info: ReceiveInfo): void;
  framingError(error: ParseError, info: ReceiveInfo): void;
  reportError(error: TransportError, onError: ErrorCallback): void;
}

/** RFC 5626 §4.4.1: how long a CRLFCRLF ping may wait for its pong. */
const PONG_TIMEOUT_MS = 10_000;

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

export class TcpTransport implements ConnectionOwner, StreamTransport {
  readonly protocol: 'tcp' | 'tls';
  readonly connectEvent: 'connect' | 'secureConnect';
  readonly limits: TransportLimits;
  readonly logger: TransportLogger;
  readonly counters: ProtocolCounters;
  readonly connCounters: ConnectionCounters;
  private readonly sink: StreamSink;
  private readonly tls: TlsContext | undefined;
  private readonly table = new ConnectionTable<TcpConnection>();
  private readonly servers: Server[] = [];
  private nextId = 1;
  private stopping = false;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private drained: (() => void) | undefined;

  constructor(
    limits: TransportLimits,
    logger: TransportLogger,
    counters: ProtocolCounters,
    connCounters: ConnectionCounters,
    sink: StreamSink,
    tls?: TlsContext,
  ) {
    this.protocol = tls === undefined ? 'tcp' : 'tls';
    this.connectEvent = tls === undefined ? 'connect' : 'secureConnect';
    this.tls = tls;
    this.limits = limits;
    if (limits.keepAliveIntervalMs > 0) {
      this.keepAliveTimer = setInterval(
        () => this.keepAlive(),
        Math.max(100, Math.min(limits.keepAliveIntervalMs / 2, 5000)),
      );
      this.keepAliveTimer.unref();
    }
    this.logger = logger;
    this.counters = counters;
    this.connCounters = connCounters;
    this.sink = sink;
  }

  get openConnections(): number {
    return this.table.size;
  }

  listen(id: number, cfg: ListenConfig, address: string, family: 4 | 6): Promise<ListenerInfo> {
    let info: ListenerInfo | undefined;
    const onSocket = (socket: Socket): void => {
      if (info !== undefined) this.accept(socket, info);
      else socket.destroy();
    };
    let server: Server;
    const tls = this.tls;
    if (tls === undefined) {
      server = createServer({ noDelay: true, allowHalfOpen: false });
      server.on('connection', onSocket);
    } else {
      const s = tlsCreateServer({
        ...tls.serverOptions(this.limits.connectTimeoutMs),
        noDelay: true,
        allowHalfOpen: false,
      });
      tls.track(s);
      // A failed handshake (bad client certificate, plain TCP on a TLS port) never becomes a connection.
      s.on('tlsClientError', (err, socket) => {
        this.connCounters.handshakeFailures++;
        this.logger.debug(
          { err, remote: `${socket.remoteAddress}:${socket.remotePort}` },
          'tls handshake failed',
        );
      });
      s.on('secureConnection', onSocket);
      server = s;
    }
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
        const bound = server.address();
        const port = bound !== null && typeof bound === 'object' ? bound.port : cfg.port;
        info = makeListenerInfo(id, cfg, address, port, family);
        this.servers.push(server);
        resolve(info);
      });
    });
  }

  private accept(socket: Socket, listener: ListenerInfo): void {
    // Without a handler, an error on this socket would be thrown into the event loop.
    socket.on('error', () => undefined);
    if (this.stopping || this.table.size >= this.limits.maxConnections) {
      this.connCounters.refused++;
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (address === undefined || port === undefined) {
      socket.destroy(); // already gone
      return;
    }
    const remote: Endpoint = { protocol: this.protocol, address: normalizeAddress(address), port };
    const conn = new TcpConnection(this, this.nextId++, socket, remote, keyOf(remote), listener, true);
    this.connCounters.accepted++;
    this.register(conn);
  }

  /**
   * RFC 5626 §4.4.1: ping our outbound connections that were quiet for keepAliveIntervalMs; a
   * ping unanswered for 10 s means the flow is dead (the connection is closed).
   */
  private keepAlive(): void {
    const now = performance.now();
    const idle = this.limits.keepAliveIntervalMs;
    for (const c of this.table.values()) {
      if (c.inbound) continue;
      if (c.pingSentAt > 0) {
        if (now - c.pingSentAt > PONG_TIMEOUT_MS) {
          this.logger.info({ connection: c.id, remote: c.remote }, 'keep-alive pong missing, closing');
          this.connCounters.keepAliveClosed++;
          c.destroy();
        }
      } else if (now - c.lastActivity >= idle) c.ping(now);
    }
  }

  private register(conn: TcpConnection): void {
    this.table.add(conn);
  }

  /** An open (or connecting) connection: by id first, else to the remote endpoint. */
  find(dest: Endpoint, connectionId: number | undefined): TcpConnection | undefined {
    return this.table.find(dest, connectionId);
  }

  get(connectionId: number): TcpConnection | undefined {
    return this.table.get(connectionId);
  }

  alias(connectionId: number, address: string, port: number): void {
    this.table.alias(connectionId, { protocol: this.protocol, address, port });
  }

  /**
   * Send on an existing connection, else open one from `listener` (its address as the local
   * address unless it is a wildcard). Never throws; failures go to `onError`.
   */
  send(
    data: Buffer,
    dest: Endpoint,
    connectionId: number | undefined,
    listener: ListenerInfo | undefined,
    onError: ErrorCallback,
  ): void {
    let conn = this.find(dest, connectionId);
    if (conn === undefined) {
      if (listener === undefined) {
        this.fail(
          new TransportError('NO_LISTENER', `no ${this.protocol} listener for ${dest.address}`, dest),
          onError,
        );
        return;
      }
      const opened = this.open(dest, listener);
      if (opened instanceof TransportError) {
        this.fail(opened, onError);
        return;
      }
      conn = opened;
    }
    conn.write(data, onError);
  }

  private open(dest: Endpoint, listener: ListenerInfo): TcpConnection | TransportError {
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
    const base = {
      host: remote.address,
      port: remote.port,
      localAddress: isAnyAddress(listener.address) ? undefined : listener.address,
      family: listener.family,
      noDelay: true,
    };
    const socket =
      this.tls === undefined ? connect(base) : tlsConnect({ ...base, ...this.tls.clientOptions() });
    const conn = new TcpConnection(this, this.nextId++, socket, remote, keyOf(remote), listener, false);
    this.connCounters.connected++;
    this.register(conn);
    return conn;
  }

  private fail(error: TransportError, onError: ErrorCallback): void {
    this.counters.sendErrors++;
    this.sink.reportError(error, onError);
  }

  // ---------------------------------------------------------------- ConnectionOwner

  onMessage(data: Buffer, conn: TcpConnection): void {
    this.sink.message(data, this.receiveInfo(conn));
  }

  onFramingError(error: ParseError, conn: TcpConnection): void {
    this.counters.parseErrors++;
    this.logger.info(
      { connection: conn.id, remote: conn.remote, reason: error.phrase },
      'stream framing error, closing',
    );
    this.sink.framingError(error, this.receiveInfo(conn));
  }

  onClosed(conn: TcpConnection): void {
    this.table.remove(conn);
    if (this.table.size === 0 && this.drained !== undefined) this.drained();
  }

  reportError(error: TransportError, onError: ErrorCallback): void {
    this.sink.reportError(error, onError);
  }

  private receiveInfo(conn: TcpConnection): ReceiveInfo {
    return {
      source: conn.remote,
      listener: conn.listener,
      connectionId: conn.id,
      receivedAt: performance.now(),
    };
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Stop accepting, close every connection after flushing its output, and after `graceMs`
   * destroy what is still open. Resolves when every socket and server is closed.
   */
  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.keepAliveTimer !== undefined) clearInterval(this.keepAliveTimer);
    const servers = this.servers.splice(0);
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
    await serversClosed;
  }
}
