import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { isParseError } from '../sip/errors.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { ListenConfig, TransportLimits } from './options.ts';
import { delay, Inbox, request, response, UdpPeer, waitUntil } from './test_util.ts';
import type { TransportError } from './transport_error.ts';
import { TransportLayer } from './transport_layer.ts';

async function layer(
  t: TestContext,
  listen: ListenConfig[],
  limits?: Partial<TransportLimits>,
): Promise<{ tl: TransportLayer; inbox: Inbox }> {
  const inbox = new Inbox();
  const tl = new TransportLayer({ listen, limits }, inbox);
  await tl.start();
  t.after(() => tl.stop());
  return { tl, inbox };
}

async function peer(t: TestContext, address: string): Promise<UdpPeer> {
  const p = await UdpPeer.open(address);
  t.after(() => p.close());
  return p;
}

function hostOf(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

for (const loopback of ['127.0.0.1', '::1']) {
  describe(`UDP over ${loopback}`, () => {
    it('round trip between two transport layers: request stamped, response routed back', async (t) => {
      const a = await layer(t, [{ protocol: 'udp', address: loopback, port: 0 }]);
      const b = await layer(t, [{ protocol: 'udp', address: loopback, port: 0 }]);
      const la = a.tl.listeners[0];
      const lb = b.tl.listeners[0];
      assert.notEqual(la.port, 0);
      assert.equal(la.family, loopback === '::1' ? 6 : 4);
      assert.equal(la.advertisedHost, loopback);

      // sent-by names a host, and rport asks for the source port.
      const req = request({ via: `SIP/2.0/UDP client.invalid:9;rport;branch=z9hG4bKrt` });
      a.tl.send(Buffer.from(req), { protocol: 'udp', address: loopback, port: lb.port });
      const got = await b.inbox.nextMessage();
      assert.equal(got.msg.isRequest, true);
      assert.equal(got.info.source.address, loopback);
      assert.equal(got.info.source.port, la.port);
      assert.equal(got.info.listener.id, lb.id);
      assert.equal(got.info.connectionId, 0);
      const stamped = got.msg.serialize().toString('latin1');
      assert.ok(
        stamped.includes(
          `Via: SIP/2.0/UDP client.invalid:9;rport=${la.port};branch=z9hG4bKrt;received=${loopback}\r\n`,
        ),
        stamped,
      );

      // The response goes to the source address and port (rport), not to client.invalid:9.
      b.tl.sendResponse(
        Buffer.from(response(`SIP/2.0/UDP client.invalid:9;rport=${la.port};branch=z9hG4bKrt`)),
        got.msg,
        got.info,
      );
      const res = await a.inbox.nextMessage();
      assert.equal(res.msg.status, 200);
      assert.equal(res.msg.hasEdits, false, 'responses are not stamped');
      assert.equal(res.info.source.port, lb.port);

      const sa = a.tl.stats();
      const sb = b.tl.stats();
      assert.equal(sa.udp.messagesOut, 1);
      assert.equal(sa.udp.messagesIn, 1);
      assert.equal(sb.udp.messagesIn, 1);
      assert.equal(sb.udp.messagesOut, 1);
      assert.equal(sb.udp.bytesIn, Buffer.byteLength(req));
    });

    it('sends a response to received + sent-by port without rport', async (t) => {
      const { tl, inbox } = await layer(t, [{ protocol: 'udp', address: loopback, port: 0 }]);
      const client = await peer(t, loopback);
      const target = await peer(t, loopback); // the "listening port" the Via names
      client.send(
        request({ via: `SIP/2.0/UDP client.invalid:${target.port};branch=z9hG4bKnr` }),
        tl.listeners[0].port,
        loopback,
      );
      const got = await inbox.nextMessage();
      assert.ok(
        got.msg.serialize().toString('latin1').includes(`;branch=z9hG4bKnr;received=${loopback}\r\n`),
      );
      tl.sendResponse(
        Buffer.from(response(`SIP/2.0/UDP client.invalid:${target.port};branch=z9hG4bKnr`)),
        got.msg,
        got.info,
      );
      const d = await target.next();
      assert.ok(d.data.toString('latin1').startsWith('SIP/2.0 200 OK'));
      assert.equal(d.rinfo.port, tl.listeners[0].port, 'response leaves from the receiving listener');
      assert.equal(await client.silentFor(50), true);
    });

    it('sends a response to maddr with the sent-by port', async (t) => {
      const { tl, inbox } = await layer(t, [{ protocol: 'udp', address: loopback, port: 0 }]);
      const client = await peer(t, loopback);
      const target = await peer(t, loopback);
      client.send(
        request({
          via: `SIP/2.0/UDP client.invalid:${target.port};maddr=${hostOf(loopback)};rport;branch=z9hG4bKm`,
        }),
        tl.listeners[0].port,
        loopback,
      );
      const got = await inbox.nextMessage();
      tl.sendResponse(
        Buffer.from(response(`SIP/2.0/UDP client.invalid:${target.port};branch=z9hG4bKm`)),
        got.msg,
        got.info,
      );
      const d = await target.next();
      assert.ok(d.data.toString('latin1').startsWith('SIP/2.0 200 OK'));
      assert.equal(await client.silentFor(50), true, 'maddr wins over rport');
    });
  });
}

describe('UDP receive path', () => {
  it('ignores CRLF keep-alives and drops STUN-like datagrams', async (t) => {
    const { tl, inbox } = await layer(t, [{ protocol: 'udp', address: '127.0.0.1', port: 0 }]);
    const client = await peer(t, '127.0.0.1');
    const port = tl.listeners[0].port;
    client.send('\r\n\r\n', port, '127.0.0.1');
    client.send('\r\n', port, '127.0.0.1');
    client.send(Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]), port, '127.0.0.1');
    client.send(request({ via: 'SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKk' }), port, '127.0.0.1');
    const got = await inbox.nextMessage();
    assert.equal(got.msg.method, 'OPTIONS');
    assert.equal(got.msg.hasEdits, false, 'sent-by equal to the source and no rport: untouched');
    const s = tl.stats();
    assert.equal(s.udp.keepAlives, 2);
    assert.equal(s.udp.dropped, 1);
    assert.equal(s.udp.parseErrors, 0);
    assert.equal(inbox.errors.length, 0);
    assert.equal(await client.silentFor(50), true, 'no answer to keep-alives over UDP');
  });

  it('reports parse errors with the raw bytes and keeps running', async (t) => {
    const { tl, inbox } = await layer(t, [{ protocol: 'udp', address: '127.0.0.1', port: 0 }]);
    const client = await peer(t, '127.0.0.1');
    const bad = 'OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n\r\n';
    client.send(bad, tl.listeners[0].port, '127.0.0.1');
    const e = await inbox.nextError();
    assert.equal(e.raw.toString('latin1'), bad);
    assert.equal(e.error.status, 400);
    assert.equal(e.info.source.port, client.port);
    assert.equal(tl.stats().udp.parseErrors, 1);
    client.send(request({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK2' }), tl.listeners[0].port, '127.0.0.1');
    await inbox.nextMessage();
  });

  it('parses a datagram without Content-Length (body to the end of the datagram)', async (t) => {
    const { tl, inbox } = await layer(t, [{ protocol: 'udp', address: '127.0.0.1', port: 0 }]);
    const client = await peer(t, '127.0.0.1');
    client.send(
      request({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK2', body: 'hello', noContentLength: true }),
      tl.listeners[0].port,
      '127.0.0.1',
    );
    const got = await inbox.nextMessage();
    assert.equal(got.msg.body.toString(), 'hello');
  });

  it('survives a throwing or rejecting message handler', async (t) => {
    const tl = new TransportLayer(
      { listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }] },
      {
        message: () => {
          throw new Error('boom');
        },
        parseError: () => Promise.reject(new Error('async boom')) as unknown as undefined,
      },
    );
    await tl.start();
    t.after(() => tl.stop());
    const client = await peer(t, '127.0.0.1');
    client.send(request({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK3' }), tl.listeners[0].port, '127.0.0.1');
    client.send('garbage\r\n\r\n', tl.listeners[0].port, '127.0.0.1');
    await waitUntil(
      () => tl.stats().udp.messagesIn === 1 && tl.stats().udp.parseErrors === 1,
      'both delivered',
    );
  });

  it('drops datagrams above maxDatagramBytes and refuses to send them', async (t) => {
    const { tl } = await layer(t, [{ protocol: 'udp', address: '127.0.0.1', port: 0 }], {
      maxDatagramBytes: 200,
    });
    const client = await peer(t, '127.0.0.1');
    client.send(
      request({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK4', body: 'x'.repeat(300) }),
      tl.listeners[0].port,
      '127.0.0.1',
    );
    await waitUntil(() => tl.stats().udp.dropped === 1, 'dropped');
    const err = await new Promise<TransportError>((resolve) =>
      tl.send(
        Buffer.alloc(300),
        { protocol: 'udp', address: '127.0.0.1', port: client.port },
        { onError: resolve },
      ),
    );
    assert.equal(err.code, 'MESSAGE_TOO_LARGE');
  });
});

describe('TransportLayer', () => {
  it('binds every listener with OS-chosen ports and selects by protocol and family', async (t) => {
    const { tl } = await layer(t, [
      { protocol: 'udp', address: '127.0.0.1', port: 0 },
      { protocol: 'tcp', address: '127.0.0.1', port: 0 },
      { protocol: 'udp', address: '[::1]', port: 0, advertise: { host: '[2001:db8::1]', port: 5060 } },
      { protocol: 'udp', address: '0.0.0.0', port: 0 },
    ]);
    assert.deepEqual(
      tl.listeners.map((l) => [l.id, l.protocol, l.address, l.family]),
      [
        [1, 'udp', '127.0.0.1', 4],
        [2, 'tcp', '127.0.0.1', 4],
        [3, 'udp', '::1', 6],
        [4, 'udp', '0.0.0.0', 4],
      ],
    );
    assert.ok(tl.listeners.every((l) => l.port > 0));
    assert.equal(tl.listeners[2].advertisedHost, '2001:db8::1');
    assert.equal(tl.listeners[2].advertisedPort, 5060);
    assert.notEqual(tl.listeners[3].advertisedHost, '0.0.0.0');
    assert.equal(tl.selectListener({ protocol: 'udp', address: '127.0.0.1', port: 5060 })?.id, 1);
    assert.equal(tl.selectListener({ protocol: 'udp', address: '192.0.2.1', port: 5060 })?.id, 4);
    assert.equal(tl.selectListener({ protocol: 'udp', address: '2001:db8::9', port: 5060 })?.id, 3);
    assert.equal(tl.selectListener({ protocol: 'tcp', address: '192.0.2.1', port: 5060 })?.id, 2);
    assert.equal(tl.selectListener({ protocol: 'tcp', address: '::1', port: 5060 }), undefined);
    assert.equal(tl.selectListener({ protocol: 'tls', address: '127.0.0.1', port: 5061 }), undefined);
  });

  it('rejects a bad configuration at construction and a busy port at start', async (t) => {
    assert.throws(
      () =>
        new TransportLayer(
          { listen: [{ protocol: 'udp', address: 'example.com', port: 5060 }] },
          new Inbox(),
        ),
      /IPv4 or IPv6 literal/,
    );
    assert.throws(
      () => new TransportLayer({ listen: [], limits: { maxConnections: -1 } }, new Inbox()),
      /maxConnections/,
    );
    const { tl } = await layer(t, [{ protocol: 'udp', address: '127.0.0.1', port: 0 }]);
    const busy = tl.listeners[0].port;
    const second = new TransportLayer(
      {
        listen: [
          { protocol: 'tcp', address: '127.0.0.1', port: 0 },
          { protocol: 'udp', address: '127.0.0.1', port: busy },
        ],
      },
      new Inbox(),
    );
    await assert.rejects(second.start(), new RegExp(`listen udp:127.0.0.1:${busy}`));
    // The TCP listener bound before the failure was closed again: its port can be bound anew.
    const tcpPort = second.listeners[0].port;
    const probe = new TransportLayer(
      { listen: [{ protocol: 'tcp', address: '127.0.0.1', port: tcpPort }] },
      new Inbox(),
    );
    await probe.start();
    await probe.stop();
  });

  it('reports send errors asynchronously, to onError or to the sendError event', async (t) => {
    const { tl, inbox } = await layer(t, [{ protocol: 'udp', address: '127.0.0.1', port: 0 }]);
    let sync = true;
    const err = await new Promise<TransportError>((resolve) => {
      tl.send(Buffer.from('x'), { protocol: 'udp', address: '::1', port: 5060 }, { onError: resolve });
      sync = false;
    });
    assert.equal(sync, false);
    assert.equal(err.code, 'NO_LISTENER');
    tl.send(Buffer.from('x'), { protocol: 'tls', address: '127.0.0.1', port: 5061 });
    const e = await inbox.sendErrors.next('a send error');
    assert.equal(e.error.code, 'NO_LISTENER');
    assert.equal(e.dest.protocol, 'tls');
    // Each failure counts under the protocol it was for.
    assert.equal(tl.stats().udp.sendErrors, 1);
    assert.equal(tl.stats().tls.sendErrors, 1);
  });

  it('stop() closes the sockets; later sends fail with STOPPED', async () => {
    const inbox = new Inbox();
    const tl = new TransportLayer({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }] }, inbox);
    await tl.start();
    const port = tl.listeners[0].port;
    await tl.stop(0);
    await tl.stop(0); // idempotent
    // The port is free again: it can be bound once more.
    const again = new TransportLayer(
      { listen: [{ protocol: 'udp', address: '127.0.0.1', port }] },
      new Inbox(),
    );
    await again.start();
    await again.stop();
    const err = await new Promise<TransportError>((resolve) =>
      tl.send(Buffer.from('x'), { protocol: 'udp', address: '127.0.0.1', port }, { onError: resolve }),
    );
    assert.equal(err.code, 'STOPPED');
  });

  it('the request seen by the layer above re-parses after serialize', async (t) => {
    const { tl, inbox } = await layer(t, [{ protocol: 'udp', address: '127.0.0.1', port: 0 }]);
    const client = await peer(t, '127.0.0.1');
    client.send(
      request({ via: 'SIP/2.0/UDP a.invalid;rport;branch=z9hG4bK5' }),
      tl.listeners[0].port,
      '127.0.0.1',
    );
    const got = await inbox.nextMessage();
    const again = parseMessage(got.msg.serialize(), { datagram: true });
    assert.ok(!isParseError(again));
    assert.equal(again.topVia.rport, client.port);
    assert.equal(again.topVia.received, '127.0.0.1');
    await delay(1);
  });
});
