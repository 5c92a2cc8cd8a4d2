/**
 * One suite, every stream transport: TCP, TLS, WS and WSS must behave the same to the layers
 * above (receive with received/rport stamping, responses on the request's connection, connection
 * reuse either way, RFC 5923 aliases, failures reported not thrown).
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { isParseError } from '../sip/errors.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { ListenConfig, TransportLimits } from './options.ts';
import { openClient, openServer, type StreamProtocol } from './stream_peers.ts';
import { testCerts } from './test_certs.ts';
import { Inbox, request, response, waitUntil } from './test_util.ts';
import type { TransportError } from './transport_error.ts';
import { TransportLayer } from './transport_layer.ts';

export async function streamLayer(
  t: TestContext,
  protocol: StreamProtocol,
  tls: { verifyClient?: boolean } = {},
  limits: Partial<TransportLimits> = {},
): Promise<{ tl: TransportLayer; inbox: Inbox; port: number }> {
  const inbox = new Inbox();
  const certs = testCerts().main;
  const listen: ListenConfig[] = [{ protocol, address: '127.0.0.1', port: 0 }];
  const tl = new TransportLayer(
    {
      listen,
      tls: { certificate: certs.cert, privateKey: certs.key, ca: certs.cert, verifyClient: tls.verifyClient },
      limits,
    },
    inbox,
  );
  await tl.start();
  t.after(() => tl.stop());
  return { tl, inbox, port: tl.listeners[0].port };
}

const VIA_TOKEN: Record<StreamProtocol, string> = { tcp: 'TCP', tls: 'TLS', ws: 'WS', wss: 'WSS' };

for (const protocol of ['tcp', 'tls', 'ws', 'wss'] as const) {
  const token = VIA_TOKEN[protocol];
  describe(`stream transport conformance: ${protocol}`, () => {
    it('delivers a request stamped with received/rport and answers on its connection', async (t) => {
      const { tl, inbox, port } = await streamLayer(t, protocol);
      const c = await openClient(protocol, port);
      t.after(() => c.close());
      c.write(request({ via: `SIP/2.0/${token} phone.invalid;branch=z9hG4bK1;rport` }));
      const { msg, info } = await inbox.nextMessage();
      assert.equal(info.source.protocol, protocol);
      assert.equal(info.listener.protocol, protocol);
      assert.ok(info.connectionId > 0);
      const stamped = parseMessage(msg.serialize());
      assert.ok(!isParseError(stamped));
      assert.equal(stamped.topVia.received, '127.0.0.1');
      assert.equal(stamped.topVia.rport, c.localPort);
      tl.sendResponse(Buffer.from(response(msg.topVia.raw, 200)), msg, info);
      await c.waitFor('SIP/2.0 200 OK');
      assert.equal(tl.stats()[protocol].messagesIn, 1);
      assert.equal(tl.stats()[protocol].messagesOut, 1);
    });

    it('opens one connection to a peer, reuses it, and reads its answers', async (t) => {
      const { tl, inbox } = await streamLayer(t, protocol);
      const peer = await openServer(protocol);
      t.after(() => peer.close());
      const dest = { protocol, address: '127.0.0.1', port: peer.port };
      tl.send(Buffer.from(request({ via: `SIP/2.0/${token} x;branch=z9hG4bKa`, callId: 'a' })), dest);
      tl.send(Buffer.from(request({ via: `SIP/2.0/${token} x;branch=z9hG4bKb`, callId: 'b' })), dest);
      await waitUntil(() => peer.connections.length === 1, 'the connection');
      const conn = peer.connections[0];
      await conn.waitFor('Call-ID: b');
      assert.ok(conn.data.includes('Call-ID: a'));
      conn.write(response(`SIP/2.0/${token} x;branch=z9hG4bKa`, 180, 'a'));
      const { msg, info } = await inbox.nextMessage();
      assert.equal(msg.status, 180);
      assert.equal(info.source.protocol, protocol);
      assert.equal(peer.connections.length, 1);
      assert.equal(tl.stats().connections.connected, 1);
    });

    it('sends a request to a client over the connection the client opened', async (t) => {
      const { tl, inbox, port } = await streamLayer(t, protocol);
      const c = await openClient(protocol, port);
      t.after(() => c.close());
      c.write(request({ method: 'REGISTER', via: `SIP/2.0/${token} phone.invalid;branch=z9hG4bK2` }));
      const { info } = await inbox.nextMessage();
      tl.send(
        Buffer.from(request({ via: `SIP/2.0/${token} us;branch=z9hG4bK3`, callId: 'to-phone' })),
        info.source,
      );
      await c.waitFor('Call-ID: to-phone');
      assert.equal(tl.stats().connections.connected, 0);
    });

    it('RFC 5923: a Via alias lets requests to the sent-by port reuse the connection', async (t) => {
      const { tl, inbox, port } = await streamLayer(t, protocol);
      const c = await openClient(protocol, port);
      t.after(() => c.close());
      c.write(request({ via: `SIP/2.0/${token} 127.0.0.1:5999;branch=z9hG4bK4;alias` }));
      await inbox.nextMessage();
      tl.send(Buffer.from(request({ via: `SIP/2.0/${token} us;branch=z9hG4bK5`, callId: 'aliased' })), {
        protocol,
        address: '127.0.0.1',
        port: 5999,
      });
      await c.waitFor('Call-ID: aliased');
      assert.equal(tl.stats().connections.connected, 0);
    });

    it('reports a connect failure through onError', async (t) => {
      const { tl } = await streamLayer(t, protocol);
      const closed = await openServer(protocol);
      await closed.close();
      const err = await new Promise<TransportError>((resolve) =>
        tl.send(
          Buffer.from(request({ via: `SIP/2.0/${token} x;branch=z9hG4bKc` })),
          { protocol, address: '127.0.0.1', port: closed.port },
          { onError: resolve },
        ),
      );
      assert.equal(err.code, 'CONNECT_FAILED');
      assert.equal(err.dest?.port, closed.port);
    });

    it('counts CRLF keep-alives and keeps the connection', async (t) => {
      const { tl, inbox, port } = await streamLayer(t, protocol);
      const c = await openClient(protocol, port);
      t.after(() => c.close());
      c.write('\r\n\r\n');
      await waitUntil(() => tl.stats()[protocol].keepAlives === 1, 'the keep-alive to be counted');
      // TCP and TLS answer the RFC 5626 ping with a pong; WebSocket has ping frames for that.
      if (protocol === 'tcp' || protocol === 'tls') await c.waitFor('\r\n');
      c.write(request({ via: `SIP/2.0/${token} h.invalid;branch=z9hG4bK6` }));
      await inbox.nextMessage();
      assert.equal(c.closed, false);
    });
  });
}

for (const protocol of ['tcp', 'tls'] as const) {
  describe(`RFC 5626 §4.4.1 keep-alive pings: ${protocol}`, () => {
    it('pings a quiet outbound connection with CRLFCRLF; the pong keeps it open', async (t) => {
      const { tl } = await streamLayer(t, protocol, {}, { keepAliveIntervalMs: 200 });
      const peer = await openServer(protocol);
      t.after(() => peer.close());
      tl.send(Buffer.from(request({ via: `SIP/2.0/${VIA_TOKEN[protocol]} x;branch=z9hG4bKk` })), {
        protocol,
        address: '127.0.0.1',
        port: peer.port,
      });
      await waitUntil(() => peer.connections.length === 1, 'the connection');
      const conn = peer.connections[0];
      await conn.waitFor('\r\n\r\n\r\n\r\n', 3000); // the request's own CRLFCRLF, then the ping
      conn.write('\r\n');
      await waitUntil(() => tl.stats()[protocol].keepAlives >= 1, 'the pong to be counted');
      assert.equal(conn.closed, false);
      assert.equal(tl.stats().connections.keepAliveClosed, 0);
    });
  });
}

for (const protocol of ['ws', 'wss'] as const) {
  describe(`keep-alive pings: ${protocol}`, () => {
    it('pings a quiet outbound connection with a WebSocket ping; the pong is counted', async (t) => {
      const { tl } = await streamLayer(t, protocol, {}, { keepAliveIntervalMs: 200 });
      const peer = await openServer(protocol);
      t.after(() => peer.close());
      tl.send(Buffer.from(request({ via: `SIP/2.0/${VIA_TOKEN[protocol]} x;branch=z9hG4bKw` })), {
        protocol,
        address: '127.0.0.1',
        port: peer.port,
      });
      await waitUntil(() => peer.connections.length === 1, 'the connection');
      // The ws server answers pings with pongs by itself.
      await waitUntil(() => tl.stats()[protocol].keepAlives >= 1, 'a pong', 3000);
      assert.equal(peer.connections[0].closed, false);
    });
  });
}

describe('TLS specifics', () => {
  it('verify_client: a client without a certificate gets no connection', async (t) => {
    const { tl, port } = await streamLayer(t, 'tls', { verifyClient: true });
    await assert.rejects(async () => {
      const c = await openClient('tls', port, { clientCert: false });
      await c.waitClosed();
      c.close();
      throw new Error('closed');
    });
    await waitUntil(() => tl.stats().connections.handshakeFailures >= 1, 'a handshake failure');
    assert.equal(tl.stats().connections.accepted, 0);
    const ok = await openClient('tls', port);
    t.after(() => ok.close());
    await waitUntil(() => tl.stats().connections.accepted === 1, 'the certified client');
  });

  it('reloadTls: new handshakes present the new certificate, bad files keep the old one', async (t) => {
    const { tl, port } = await streamLayer(t, 'tls');
    const { connect } = await import('node:tls');
    const subjectOf = async (): Promise<string> => {
      const s = connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
      await new Promise((r) => s.once('secureConnect', r));
      const cn = s.getPeerCertificate().subject.CN;
      s.destroy();
      return String(cn);
    };
    assert.equal(await subjectOf(), 'junction-test');
    const other = testCerts().other;
    tl.reloadTls({ certificate: other.cert, privateKey: other.key });
    assert.equal(await subjectOf(), 'junction-other');
    assert.throws(() => tl.reloadTls({ certificate: 'garbage', privateKey: other.key }));
    assert.equal(await subjectOf(), 'junction-other');
  });
});

describe('WebSocket specifics', () => {
  it('refuses a handshake that does not offer the sip subprotocol', async (t) => {
    const { tl, port } = await streamLayer(t, 'ws');
    await assert.rejects(openClient('ws', port, { protocols: ['chat'] }));
    assert.equal(tl.stats().connections.accepted, 0);
  });

  it('answers a plain HTTP request with 426', async (t) => {
    const { port } = await streamLayer(t, 'ws');
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 426);
  });
});
