/**
 * TCP and TLS listeners and the connection table (one instance per protocol; TLS is TCP with a
 * TLSSocket, same framing, same table). Connections are found by id (a response goes back on
 * the connection its request came on, RFC 3261 §18.2.2) and by remote address:port, whichever
 * side opened them (RFC 3261 §18: a request to an address with an open connection reuses it).
 * The table, send, keep-alive sweep and close are StreamTransportBase's.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsCreateServer } from 'node:tls';
import type { ParseError } from '../sip/errors.ts';
import { keyOf } from './connection_table.ts';
import { isAnyAddress, normalizeAddress } from './ip.ts';
import type { ListenConfig } from './options.ts';
import { type StreamTransportArgs, StreamTransportBase } from './stream_transport_base.ts';
import { type ConnectionOwner, TcpConnection } from './tcp_connection.ts';
import type { Endpoint, ListenerInfo } from './types.ts';

export class TcpTransport extends StreamTransportBase<TcpConnection> implements ConnectionOwner {
  readonly protocol: 'tcp' | 'tls';
  readonly connectEvent: 'connect' | 'secureConnect';

  constructor(...args: StreamTransportArgs) {
    super(...args);
    this.protocol = this.tls === undefined ? 'tcp' : 'tls';
    this.connectEvent = this.tls === undefined ? 'connect' : 'secureConnect';
    // The idle timeout is the socket's own (setTimeout); the sweep only sends keep-alives.
    this.startSweep(0);
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
    return this.bind(server, id, cfg, address, family, (bound) => {
      info = bound;
    });
  }

  private accept(socket: Socket, listener: ListenerInfo): void {
    // Without a handler, an error on this socket would be thrown into the event loop.
    socket.on('error', () => undefined);
    if (this.full) {
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

  /** Opens from `listener` (its address as the local address unless it is a wildcard). */
  protected dial(remote: Endpoint, listener: ListenerInfo): TcpConnection {
    const base = {
      host: remote.address,
      port: remote.port,
      localAddress: isAnyAddress(listener.address) ? undefined : listener.address,
      family: listener.family,
      noDelay: true,
    };
    const socket =
      this.tls === undefined ? connect(base) : tlsConnect({ ...base, ...this.tls.clientOptions() });
    return new TcpConnection(this, this.nextId++, socket, remote, keyOf(remote), listener, false);
  }

  onFramingError(error: ParseError, conn: TcpConnection): void {
    this.counters.parseErrors++;
    this.logger.info(
      { connection: conn.id, remote: conn.remote, reason: error.phrase },
      'stream framing error, closing',
    );
    this.sink.framingError(error, this.receiveInfo(conn));
  }
}
