import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import type { ListenConfig, TransportLimits } from './options.ts';
import { Inbox, request, response, waitUntil } from './test_util.ts';
import type { TransportError } from './transport_error.ts';
import { TransportLayer } from './transport_layer.ts';

async function layer(
  t: TestContext,
  limits?: Partial<TransportLimits>,
  listen: ListenConfig[] = [{ protocol: 'tcp', address: '127.0.0.1', port: 0 }],
): Promise<{ tl: TransportLayer; inbox: Inbox; port: number }> {
  const inbox = new Inbox();
  const tl = new TransportLayer({ listen, limits }, inbox);
  await tl.start();
  t.after(() => tl.stop());
  return { tl, inbox, port: tl.listeners[0].port };
}

/** A raw TCP client that records what it reads and whether it was closed. */
class Client {
  readonly socket: Socket;
  data = '';
  closed = false;
  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.data += d;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
    });
  }
  static async open(t: TestContext, port: number, host = '127.0.0.1'): Promise<Client> {
    const s = connect({ port, host });
    const c = new Client(s);
    t.after(() => {
      s.destroy();
    });
    await once(s, 'connect');
    return c;
  }
  write(s: string | Buffer): void {
    this.socket.write(s);
  }
  waitFor(text: string, timeoutMs = 2000): Promise<void> {
    return waitUntil(
      () => this.data.includes(text),
      `client to read ${JSON.stringify(text.slice(0, 40))}`,
      timeoutMs,
    );
  }
  waitClosed(timeoutMs = 2000): Promise<void> {
    return waitUntil(() => this.closed, 'the connection to close', timeoutMs);
  }
}

/** A raw TCP server standing in for a SIP peer's listening port. */
async function rawServer(
  t: TestContext,
): Promise<{ server: Server; port: number; received: () => string; sockets: Socket[] }> {
  let text = '';
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      text += d;
    });
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    received: () => text,
    sockets,
  };
}

describe('TCP framing', () => {
  it('reassembles a message split over many writes', async (t) => {
    const { inbox, tl } = await layer(t);
    const c = await Client.open(t, tl.listeners[0].port);
    const msg = request({ via: 'SIP/2.0/TCP client.invalid;branch=z9hG4bKsplit', body: 'v=0\r\n' });
    for (let i = 0; i < msg.length; i += 7) {
      c.write(msg.slice(i, i + 7));
      await new Promise((r) => setImmediate(r));
    }
    const got = await inbox.nextMessage();
    assert.equal(got.msg.body.toString(), 'v=0\r\n');
    assert.equal(got.info.source.protocol, 'tcp');
    assert.ok(got.info.connectionId > 0);
    assert.ok(got.msg.serialize().toString('latin1').includes(';branch=z9hG4bKsplit;received=127.0.0.1\r\n'));
  });

  it('delivers two messages written at once, in order', async (t) => {
    const { inbox, tl } = await layer(t);
    const c = await Client.open(t, tl.listeners[0].port);
    c.write(
      request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1', callId: 'one' }) +
        request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK2', callId: 'two' }),
    );
    assert.equal((await inbox.nextMessage()).msg.callId, 'one');
    assert.equal((await inbox.nextMessage()).msg.callId, 'two');
    assert.equal(tl.stats().tcp.messagesIn, 2);
  });

  it('answers a CRLFCRLF ping with a CRLF pong (RFC 5626 §3.5.1)', async (t) => {
    const { tl } = await layer(t);
    const c = await Client.open(t, tl.listeners[0].port);
    c.write('\r\n\r\n');
    await c.waitFor('\r\n');
    assert.equal(c.data, '\r\n');
    assert.equal(tl.stats().tcp.keepAlives, 1);
    assert.equal(c.closed, false);
  });

  it('reports a framing error (no Content-Length) and closes the connection', async (t) => {
    const { tl, inbox } = await layer(t);
    const c = await Client.open(t, tl.listeners[0].port);
    c.write(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1', noContentLength: true }));
    const e = await inbox.nextError();
    assert.equal(e.error.code, 'SIP_CONTENT_LENGTH');
    assert.equal(e.raw.length, 0);
    assert.ok(e.info.connectionId > 0);
    await c.waitClosed();
    assert.equal(c.data, '', 'nothing written back');
    const s = tl.stats();
    assert.equal(s.connections.framingClosed, 1);
    assert.equal(s.tcp.parseErrors, 1);
  });

  it('reports a message that frames but does not parse, and keeps the connection', async (t) => {
    const { inbox, tl } = await layer(t);
    const c = await Client.open(t, tl.listeners[0].port);
    const bad = 'OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n';
    c.write(bad);
    const e = await inbox.nextError();
    assert.equal(e.raw.toString('latin1'), bad);
    c.write(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1' }));
    await inbox.nextMessage();
    assert.equal(c.closed, false);
  });
});

describe('TCP connection reuse (RFC 3261 §18)', () => {
  it('a response goes back over the connection the request came on', async (t) => {
    const { tl, inbox } = await layer(t);
    const c = await Client.open(t, tl.listeners[0].port);
    // sent-by port 9 is closed: only connection reuse can deliver the response.
    c.write(request({ via: 'SIP/2.0/TCP client.invalid:9;rport;branch=z9hG4bKr' }));
    const got = await inbox.nextMessage();
    tl.sendResponse(Buffer.from(response('SIP/2.0/TCP client.invalid:9;branch=z9hG4bKr')), got.msg, got.info);
    await c.waitFor('SIP/2.0 200 OK');
    const s = tl.stats();
    assert.equal(s.connections.connected, 0, 'no new connection');
    assert.equal(s.connections.accepted, 1);
    assert.equal(s.tcp.messagesOut, 1);
  });

  it('a send to the address and port of an inbound connection reuses it', async (t) => {
    const { tl, inbox } = await layer(t);
    const c = await Client.open(t, tl.listeners[0].port);
    c.write(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1' }));
    const got = await inbox.nextMessage();
    const { address, port } = got.info.source;
    tl.send(Buffer.from(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKout', callId: 'back' })), {
      protocol: 'tcp',
      address,
      port,
    });
    await c.waitFor('Call-ID: back');
    assert.equal(tl.stats().connections.connected, 0);
  });

  it('between two layers: request on a new connection, response and later requests on the same one', async (t) => {
    const a = await layer(t);
    const b = await layer(t);
    const bPort = b.tl.listeners[0].port;
    const dest = { protocol: 'tcp' as const, address: '127.0.0.1', port: bPort };
    // Two sends before the connection is up: queued, then written in order.
    a.tl.send(Buffer.from(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1', callId: 'q1' })), dest);
    a.tl.send(Buffer.from(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK2', callId: 'q2' })), dest);
    const r1 = await b.inbox.nextMessage();
    const r2 = await b.inbox.nextMessage();
    assert.equal(r1.msg.callId, 'q1');
    assert.equal(r2.msg.callId, 'q2');
    assert.equal(r1.info.connectionId, r2.info.connectionId);
    b.tl.sendResponse(
      Buffer.from(response('SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1', 200, 'q1')),
      r1.msg,
      r1.info,
    );
    const res = await a.inbox.nextMessage();
    assert.equal(res.msg.status, 200);
    assert.equal(res.info.source.port, bPort);
    // A's next request reuses its connection; B's request to A's source endpoint reuses it too.
    a.tl.send(Buffer.from(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK3', callId: 'q3' })), dest);
    assert.equal((await b.inbox.nextMessage()).info.connectionId, r1.info.connectionId);
    b.tl.send(
      Buffer.from(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK4', callId: 'q4' })),
      r1.info.source,
    );
    assert.equal((await a.inbox.nextMessage()).msg.callId, 'q4');
    assert.equal(a.tl.stats().connections.connected, 1);
    assert.equal(b.tl.stats().connections.connected, 0);
    assert.equal(b.tl.stats().connections.accepted, 1);
  });

  it('when the request connection is gone, the response opens one to source address and sent-by port', async (t) => {
    const { tl, inbox } = await layer(t);
    const peer = await rawServer(t);
    const c = await Client.open(t, tl.listeners[0].port);
    c.write(request({ via: `SIP/2.0/TCP client.invalid:${peer.port};branch=z9hG4bKgone` }));
    const got = await inbox.nextMessage();
    c.socket.destroy();
    await waitUntil(() => tl.stats().connections.open === 0, 'the server side to see the close');
    tl.sendResponse(
      Buffer.from(response(`SIP/2.0/TCP client.invalid:${peer.port};branch=z9hG4bKgone`)),
      got.msg,
      got.info,
    );
    await waitUntil(
      () => peer.received().includes('SIP/2.0 200 OK'),
      'the peer listening port to get the response',
    );
    assert.equal(tl.stats().connections.connected, 1);
  });

  it('a connect failure is reported to onError', async (t) => {
    const { tl } = await layer(t);
    const closed = await rawServer(t);
    const port = closed.port;
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    const err = await new Promise<TransportError>((resolve) =>
      tl.send(Buffer.from('x'), { protocol: 'tcp', address: '127.0.0.1', port }, { onError: resolve }),
    );
    assert.equal(err.code, 'CONNECT_FAILED');
    await waitUntil(() => tl.stats().connections.connectFailures === 1, 'the failure to be counted');
    assert.equal(tl.stats().connections.open, 0);
  });
});

describe('TCP limits', () => {
  it('closes an idle connection', async (t) => {
    const { tl } = await layer(t, { idleTimeoutMs: 150 });
    const c = await Client.open(t, tl.listeners[0].port);
    c.write('\r\n\r\n'); // traffic resets the timer; then silence
    await c.waitFor('\r\n');
    const start = Date.now();
    await c.waitClosed();
    assert.ok(Date.now() - start >= 100);
    assert.equal(tl.stats().connections.idleClosed, 1);
    assert.equal(tl.stats().connections.open, 0);
  });

  it('refuses connections beyond maxConnections', async (t) => {
    const { tl, inbox } = await layer(t, { maxConnections: 1 });
    const first = await Client.open(t, tl.listeners[0].port);
    await waitUntil(() => tl.stats().connections.accepted === 1, 'the first connection to be accepted');
    const second = await Client.open(t, tl.listeners[0].port);
    await second.waitClosed();
    assert.equal(tl.stats().connections.refused, 1);
    first.write(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1' }));
    await inbox.nextMessage();
    assert.equal(first.closed, false);
    // Outbound connections count as well.
    const err = await new Promise<TransportError>((resolve) =>
      tl.send(Buffer.from('x'), { protocol: 'tcp', address: '127.0.0.1', port: 9 }, { onError: resolve }),
    );
    assert.equal(err.code, 'TOO_MANY_CONNECTIONS');
  });

  it('closes a connection whose unframed input exceeds maxBufferedBytesPerConnection', async (t) => {
    const { tl, inbox } = await layer(t, { maxBufferedBytesPerConnection: 1024 });
    const c = await Client.open(t, tl.listeners[0].port);
    c.write(`OPTIONS sip:x SIP/2.0\r\nX-Filler: ${'a'.repeat(2000)}\r\n`);
    await c.waitClosed();
    assert.equal(tl.stats().connections.overflowClosed, 1);
    assert.equal(inbox.messages.length, 0);
  });

  it('fails a send and closes the connection when the peer does not read', async (t) => {
    const { tl, inbox } = await layer(t, { maxBufferedBytesPerConnection: 64 * 1024 });
    const c = await Client.open(t, tl.listeners[0].port);
    c.socket.pause(); // never read
    c.write(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1' }));
    const got = await inbox.nextMessage();
    const big = Buffer.alloc(32 * 1024, 0x41);
    const codes: string[] = [];
    for (let i = 0; i < 1000 && codes.length === 0; i++) {
      tl.send(big, got.info.source, { onError: (e) => codes.push(e.code) });
      await new Promise((r) => setImmediate(r));
    }
    await waitUntil(() => codes.includes('BUFFER_OVERFLOW'), 'a send to overflow');
    // Earlier writes still buffered in user space are lost with the connection, and say so.
    assert.ok(
      codes.every((c) => c === 'BUFFER_OVERFLOW' || c === 'CONNECTION_CLOSED'),
      codes.join(),
    );
    assert.equal(tl.stats().connections.overflowClosed, 1);
    await waitUntil(() => tl.stats().connections.open === 0, 'the connection to close');
  });
});

describe('TCP shutdown', () => {
  it('stop() closes the listener and every connection', async (t) => {
    const inbox = new Inbox();
    const tl = new TransportLayer(
      {
        listen: [
          { protocol: 'tcp', address: '127.0.0.1', port: 0 },
          { protocol: 'tcp', address: '::1', port: 0 },
        ],
      },
      inbox,
    );
    await tl.start();
    const c1 = await Client.open(t, tl.listeners[0].port);
    const c2 = await Client.open(t, tl.listeners[1].port, '::1');
    c2.write(request({ via: 'SIP/2.0/TCP [::1];branch=z9hG4bK6' }));
    const got = await inbox.nextMessage();
    assert.equal(got.info.listener.family, 6);
    assert.equal(got.info.source.address, '::1');
    await waitUntil(() => tl.stats().connections.open === 2, 'both connections');
    await tl.stop(500);
    await c1.waitClosed();
    await c2.waitClosed();
    assert.equal(tl.stats().connections.open, 0);
    const probe = connect({ port: tl.listeners[0].port, host: '127.0.0.1' });
    const [e] = (await once(probe, 'error')) as [NodeJS.ErrnoException];
    assert.equal(e.code, 'ECONNREFUSED');
  });

  it('stop() destroys connections still open after the grace period', async (t) => {
    const { tl } = await layer(t);
    const c = await Client.open(t, tl.listeners[0].port);
    c.socket.pause();
    await waitUntil(() => tl.stats().connections.open === 1, 'the connection');
    const start = Date.now();
    await tl.stop(100);
    assert.ok(Date.now() - start < 1000);
    await c.waitClosed();
  });
});
