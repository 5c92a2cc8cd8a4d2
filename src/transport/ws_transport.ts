/**
 * `ws:` and `wss:` listeners (RFC 7118) and their connection table. The HTTP upgrade must offer
 * the `sip` subprotocol (§4: a SIP WebSocket server rejects handshakes without it, answered here
 * with 400); the handshake answers `Sec-WebSocket-Protocol: sip`. Any other HTTP request gets 426.
 * One connection per phone: requests to a WebSocket client (its registered received address)
 * find the connection by remote address:port and go back over it. Outbound WebSocket connections
 * (to another server's ws: URI) are opened with the same subprotocol. The table, send, sweep and
 * close are StreamTransportBase's.
 */
import { createServer as httpCreateServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as httpsCreateServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { keyOf } from './connection_table.ts';
import { isAnyAddress, normalizeAddress } from './ip.ts';
import type { ListenConfig } from './options.ts';
import { type StreamTransportArgs, StreamTransportBase } from './stream_transport_base.ts';
import type { Endpoint, ListenerInfo } from './types.ts';
import { WsConnection, type WsOwner } from './ws_connection.ts';

const SUBPROTOCOL = 'sip';

export class WsTransport extends StreamTransportBase<WsConnection> implements WsOwner {
  readonly protocol: 'ws' | 'wss';
  private readonly wss: WebSocketServer;

  constructor(...args: StreamTransportArgs) {
    super(...args);
    this.protocol = this.tls === undefined ? 'ws' : 'wss';
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: this.limits.maxHeaderBytes + this.limits.maxBodyBytes,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
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
    return this.bind(server, id, cfg, address, family, (bound) => {
      info = bound;
      // WebSocket has no per-socket timeout here: the sweep also closes idle connections.
      this.startSweep(this.limits.idleTimeoutMs);
    });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, listener: ListenerInfo): void {
    socket.on('error', () => undefined);
    const offered = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .some((p) => p.trim().toLowerCase() === SUBPROTOCOL);
    const full = this.full;
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

  protected dial(remote: Endpoint, listener: ListenerInfo): WsConnection {
    const host = remote.address.includes(':') ? `[${remote.address}]` : remote.address;
    const ws = new WebSocket(`${this.protocol}://${host}:${remote.port}/`, SUBPROTOCOL, {
      perMessageDeflate: false,
      handshakeTimeout: this.limits.connectTimeoutMs,
      maxPayload: this.limits.maxHeaderBytes + this.limits.maxBodyBytes,
      localAddress: isAnyAddress(listener.address) ? undefined : listener.address,
      family: listener.family,
      ...(this.tls === undefined ? {} : this.tls.clientOptions()),
    });
    return new WsConnection(this, this.nextId++, ws, remote, keyOf(remote), listener, false);
  }

  protected override closed(): void {
    this.wss.close();
  }
}
