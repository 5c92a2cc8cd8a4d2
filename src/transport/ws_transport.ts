/**
 * `ws:` and `wss:` listeners (RFC 7118) and their connection table. The HTTP upgrade must offer
 * the `sip` subprotocol (§4: a SIP WebSocket server rejects handshakes without it, answered here
 * with 400); the handshake answers `Sec-WebSocket-Protocol: sip`. Any other HTTP request gets 426.
 * One connection per phone: requests to a WebSocket client (its registered received address)
 * find the connection by remote address:port and go back over it. Outbound WebSocket connections
 * (to another server's ws: URI) are opened with the same subprotocol.
 */
import { createServer as httpCreateServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as httpsCreateServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { ConnectionTable, keyOf } from './connection_table.ts';
import { canonicalAddress, isAnyAddress, normalizeAddress } from './ip.ts';
import { makeListenerInfo } from './listener_info.ts';
import type { ListenConfig, TransportLimits, TransportLogger } from './options.ts';
import type { ConnectionCounters, ProtocolCounters } from './stats.ts';
import type { ErrorCallback } from './tcp_connection.ts';
import type { StreamSink, StreamTransport } from './tcp_transport.ts';
import type { TlsContext } from './tls_context.ts';
import { TransportError } from './transport_error.ts';
import type { Endpoint, ListenerInfo, ReceiveInfo } from './types.ts';
import { WsConnection, type WsOwner } from './ws_connection.ts';

const SUBPROTOCOL = 'sip';
/** How long a keep-alive ping may wait for its pong. */
const PONG_TIMEOUT_MS = 10_000;

export class WsTransport implements WsOwner, StreamTransport {
  readonly protocol: 'ws' | 'wss';
  readonly limits: TransportLimits;
  readonly logger: TransportLogger;
  readonly counters: ProtocolCounters;
  readonly connCounters: ConnectionCounters;
  private readonly sink: StreamSink;
  private readonly tls: TlsContext | undefined;
  private readonly wss: WebSocketServer;
  private readonly table = new ConnectionTable<WsConnection>();
  private readonly servers: Server[] = [];
  private sweep: NodeJS.Timeout | undefined;
  private nextId = 1;
  private stopping = false;
  private drained: (() => void) | undefined;

  constructor(
    limits: TransportLimits,
    logger: TransportLogger,
    counters: ProtocolCounters,
    connCounters: ConnectionCounters,
    sink: StreamSink,
    tls?: TlsContext,
  ) {
    this.protocol = tls === undefined ? 'ws' : 'wss';
    this.limits = limits;
    this.logger = logger;
    this.counters = counters;
    this.connCounters = connCounters;
    this.sink = sink;
    this.tls = tls;
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: limits.maxHeaderBytes + limits.maxBodyBytes,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
  }

  get openConnections(): number {
    return this.table.size;
  }

  listen(id: number, cfg: ListenConfig, address: string, family: 4 | 6): Promise<ListenerInfo> {
    const tls = this.tls;
    let server: Server;
    if (tls === undefined) server = httpCreateServer();
    else {
      const s = httpsCreateServer(tls.serverOptions(this.limits.connectTimeoutMs));
      tls.track(s);
      s.on('tlsClientError', () => {
        this.connCounters.handshakeFailures++;
      });
      server = s;
    }
    let info: ListenerInfo | undefined;
    server.on('request', (_req, res) => {
      res.writeHead(426, { Upgrade: 'websocket', Connection: 'close' }).end();
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (info === undefined) socket.destroy();
      else this.upgrade(req, socket, head, info);
    });
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
        this.startSweep();
        resolve(info);
      });
    });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, listener: ListenerInfo): void {
    socket.on('error', () => undefined);
    const offered = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .some((p) => p.trim().toLowerCase() === SUBPROTOCOL);
    const full = this.stopping || this.table.size >= this.limits.maxConnections;
    if (!offered || full) {
      if (full) this.connCounters.refused++;
      const status = full ? '503 Service Unavailable' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const address = req.socket.remoteAddress;
    const port = req.socket.remotePort;
    if (address === undefined || port === undefined) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const remote: Endpoint = { protocol: this.protocol, address: normalizeAddress(address), port };
      const conn = new WsConnection(this, this.nextId++, ws, remote, keyOf(remote), listener, true);
      this.connCounters.accepted++;
      this.register(conn);
    });
  }

  private register(conn: WsConnection): void {
    this.table.add(conn);
  }

  private find(dest: Endpoint, connectionId: number | undefined): WsConnection | undefined {
    return this.table.find(dest, connectionId);
  }

  send(
    data: Buffer,
    dest: Endpoint,
    connectionId: number | undefined,
    listener: ListenerInfo | undefined,
    onError: ErrorCallback,
  ): void {
    let conn = this.find(dest, connectionId);
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

  alias(connectionId: number, address: string, port: number): void {
    this.table.alias(connectionId, { protocol: this.protocol, address, port });
  }

  private open(dest: Endpoint, listener: ListenerInfo): WsConnection | TransportError {
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
    const host = remote.address.includes(':') ? `[${remote.address}]` : remote.address;
    const ws = new WebSocket(`${this.protocol}://${host}:${remote.port}/`, SUBPROTOCOL, {
      perMessageDeflate: false,
      handshakeTimeout: this.limits.connectTimeoutMs,
      maxPayload: this.limits.maxHeaderBytes + this.limits.maxBodyBytes,
      localAddress: isAnyAddress(listener.address) ? undefined : listener.address,
      family: listener.family,
      ...(this.tls === undefined ? {} : this.tls.clientOptions()),
    });
    const conn = new WsConnection(this, this.nextId++, ws, remote, keyOf(remote), listener, false);
    this.connCounters.connected++;
    this.register(conn);
    return conn;
  }

  /**
   * One timer for every connection: the idle timeout (WebSocket has no per-socket timeout here),
   * and keep-alive WebSocket pings on connections we opened (keepAliveIntervalMs; no pong within
   * 10 s closes the connection, as RFC 5626 §4.4.1 does with CRLF on TCP).
   */
  private startSweep(): void {
    const idle = this.limits.idleTimeoutMs;
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

  // ---------------------------------------------------------------- WsOwner

  onMessage(data: Buffer, conn: WsConnection): void {
    this.sink.message(data, this.receiveInfo(conn));
  }

  onClosed(conn: WsConnection): void {
    this.table.remove(conn);
    if (this.table.size === 0 && this.drained !== undefined) this.drained();
  }

  reportError(error: TransportError, onError: ErrorCallback): void {
    this.sink.reportError(error, onError);
  }

  private receiveInfo(conn: WsConnection): ReceiveInfo {
    return {
      source: conn.remote,
      listener: conn.listener,
      connectionId: conn.id,
      receivedAt: performance.now(),
    };
  }

  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.sweep !== undefined) clearInterval(this.sweep);
    const servers = this.servers.splice(0);
    for (const s of servers) s.closeIdleConnections?.();
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
    this.wss.close();
    await serversClosed;
  }
}
