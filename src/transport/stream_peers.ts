/**
 * Test peers for every stream transport (TCP, TLS, WS, WSS): a client connecting to a listener,
 * and a server standing in for a remote SIP element, both recording what they read. Lets one
 * conformance suite run unchanged over each transport. Not part of the runtime.
 */
import { once } from 'node:events';
import { type Server as HttpServer, createServer as httpCreateServer } from 'node:http';
import { createServer as httpsCreateServer } from 'node:https';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsCreateServer } from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { testCerts } from './test_certs.ts';
import { waitUntil } from './test_util.ts';

export type StreamProtocol = 'tcp' | 'tls' | 'ws' | 'wss';

/** One open connection seen from the peer's side: what it read, whether it was closed. */
export class PeerConnection {
  data = '';
  closed = false;
  /** Local port of the peer's socket (the source port the transport sees). */
  readonly localPort: number;
  private readonly writer: (text: string) => void;
  private readonly closer: () => void;
  constructor(localPort: number, writer: (text: string) => void, closer: () => void) {
    this.localPort = localPort;
    this.writer = writer;
    this.closer = closer;
  }
  write(text: string): void {
    this.writer(text);
  }
  close(): void {
    this.closer();
  }
  waitFor(text: string, timeoutMs = 3000): Promise<void> {
    return waitUntil(
      () => this.data.includes(text),
      `peer to read ${JSON.stringify(text.slice(0, 40))}`,
      timeoutMs,
    );
  }
  waitClosed(timeoutMs = 3000): Promise<void> {
    return waitUntil(() => this.closed, 'the connection to close', timeoutMs);
  }
}

function socketConnection(socket: Socket, localPort: number): PeerConnection {
  const c = new PeerConnection(
    localPort,
    (text) => socket.write(text),
    () => socket.destroy(),
  );
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    c.data += d;
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    c.closed = true;
  });
  return c;
}

function wsConnection(ws: WebSocket, localPort: number): PeerConnection {
  const c = new PeerConnection(
    localPort,
    (text) => ws.send(text),
    () => ws.terminate(),
  );
  ws.on('message', (d: Buffer) => {
    c.data += d.toString('latin1');
  });
  ws.on('error', () => undefined);
  ws.on('close', () => {
    c.closed = true;
  });
  return c;
}

export interface ClientOptions {
  /** TLS/WSS: present the test certificate (default true). */
  clientCert?: boolean;
  /** WS/WSS: the subprotocols offered (default ['sip']). */
  protocols?: string[];
}

/** Connect to a listener at 127.0.0.1:port. */
export async function openClient(
  protocol: StreamProtocol,
  port: number,
  o: ClientOptions = {},
): Promise<PeerConnection> {
  const certs = testCerts().main;
  const creds = o.clientCert === false ? {} : { cert: certs.cert, key: certs.key };
  if (protocol === 'tcp') {
    const s = connect({ port, host: '127.0.0.1' });
    await once(s, 'connect');
    return socketConnection(s, s.localPort ?? 0);
  }
  if (protocol === 'tls') {
    const s = tlsConnect({
      port,
      host: '127.0.0.1',
      ca: certs.cert,
      ...creds,
      checkServerIdentity: () => undefined,
    });
    await once(s, 'secureConnect');
    return socketConnection(s, s.localPort ?? 0);
  }
  const ws = new WebSocket(`${protocol}://127.0.0.1:${port}/`, o.protocols ?? ['sip'], {
    ...creds,
    rejectUnauthorized: false,
  });
  await once(ws, 'open');
  const raw = (ws as unknown as { _socket: Socket })._socket;
  return wsConnection(ws, raw.localPort ?? 0);
}

/** A listening peer; `connections` fills as the transport connects to it. */
export interface PeerServer {
  port: number;
  connections: PeerConnection[];
  /** TLS: certificates the clients presented (subject CN), in order. */
  clientCerts: string[];
  close(): Promise<void>;
}

export async function openServer(protocol: StreamProtocol): Promise<PeerServer> {
  const certs = testCerts().main;
  const connections: PeerConnection[] = [];
  const clientCerts: string[] = [];
  const creds = {
    cert: certs.cert,
    key: certs.key,
    ca: certs.cert,
    requestCert: true,
    rejectUnauthorized: false,
  };
  let server: Server | HttpServer;
  let wss: WebSocketServer | undefined;
  if (protocol === 'tcp')
    server = createServer((s) => connections.push(socketConnection(s, s.localPort ?? 0)));
  else if (protocol === 'tls') {
    server = tlsCreateServer(creds, (s) => {
      const cn = s.getPeerCertificate()?.subject?.CN;
      clientCerts.push(typeof cn === 'string' ? cn : '');
      connections.push(socketConnection(s, s.localPort ?? 0));
    });
  } else {
    const http: HttpServer = protocol === 'ws' ? httpCreateServer() : httpsCreateServer(creds);
    server = http;
    wss = new WebSocketServer({
      server: http,
      handleProtocols: (p) => (p.has('sip') ? 'sip' : false),
    });
    wss.on('connection', (ws, req) => connections.push(wsConnection(ws, req.socket.localPort ?? 0)));
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  const port = addr !== null && typeof addr === 'object' ? addr.port : 0;
  return {
    port,
    connections,
    clientCerts,
    async close() {
      for (const c of connections) c.close();
      wss?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
