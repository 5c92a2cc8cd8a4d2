import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildResponse } from '../sip/build.ts';
import {
  endpoint,
  FakeTransport,
  FakeTU,
  outgoing,
  parse,
  RecordingHandler,
  recvInfo,
  request,
  responseTo,
  setup,
} from './test_support.ts';
import type { ServerTransaction } from './transaction.ts';
import { TransactionLayer } from './transaction_layer.ts';

const info = recvInfo();

function only(tx: ServerTransaction | undefined): ServerTransaction {
  assert.ok(tx !== undefined);
  return tx;
}

/** A full collection, callable without --expose-gc. */
function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

test.describe('retained records (mocked timers)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('a BYE retransmitted after the final gets the same 200 bytes from the record, until Timer J (§17.2.2)', () => {
    const { layer, transport, tu } = setup();
    const bye = request({ method: 'BYE', branch: 'z9hG4bKbye1', toTag: 'b1', via: undefined });
    layer.receive(bye, info);
    const tx = only(tu.requests[0].tx);
    let ended = 0;
    tx.onTerminated = () => ended++;
    const ok = buildResponse(bye, 200, undefined, { toTag: 'b1' });
    tx.respond(ok, 200);
    assert.equal(tx.state, 'Completed');
    // The table now holds the record, not the transaction the TU got.
    assert.equal(layer.findServer(tx.key), undefined);
    assert.equal(layer.size(), 1);
    assert.equal(layer.unanswered(), 0);

    layer.receive(request({ method: 'BYE', branch: 'z9hG4bKbye1', toTag: 'b1' }), info);
    layer.receive(request({ method: 'BYE', branch: 'z9hG4bKbye1', toTag: 'b1' }), info);
    assert.equal(tu.requests.length, 1);
    assert.equal(transport.responses.length, 3);
    assert.ok(transport.responses[1].data.equals(ok));
    assert.ok(transport.responses[2].data.equals(ok));
    // Routed by the request's Via and receive info (§18.2.2), like the first one.
    assert.equal(transport.responses[2].request.topVia.port, 5060);
    assert.equal(transport.responses[2].info, info);
    assert.equal(layer.stats.retransmissionsAbsorbed, 2);
    // A final the TU passes in Completed is discarded (§17.2.2).
    tx.respond(buildResponse(bye, 500, undefined, { toTag: 'b1' }), 500);
    assert.equal(transport.responses.length, 3);

    mock.timers.tick(639);
    assert.equal(ended, 0);
    assert.equal(tx.state, 'Completed');
    mock.timers.tick(1);
    assert.equal(ended, 1);
    assert.equal(tx.state, 'Terminated');
    assert.equal(layer.size(), 0);
    assert.equal(layer.stats.serverTx, 0);
    // Past Timer J the same request is new again.
    layer.receive(request({ method: 'BYE', branch: 'z9hG4bKbye1', toTag: 'b1' }), info);
    assert.equal(tu.requests.length, 2);
  });

  test('onTerminated set on the transaction after it was retained still fires at Timer J', () => {
    const { layer, tu } = setup();
    const bye = request({ method: 'BYE', branch: 'z9hG4bKbye2' });
    layer.receive(bye, info);
    const tx = only(tu.requests[0].tx);
    tx.respond(buildResponse(bye, 200, undefined, { toTag: 'b1' }), 200);
    let ended = 0;
    tx.onTerminated = () => ended++;
    mock.timers.tick(640);
    assert.equal(ended, 1);
  });

  test('INVITE 486: the ACK moves it to Confirmed; ACK and INVITE retransmissions are absorbed by the record until Timer I (§17.2.1)', () => {
    const { layer, transport, tu } = setup();
    const inv = request({ branch: 'z9hG4bKinv1' });
    layer.receive(inv, info);
    const tx = only(tu.requests[0].tx);
    tx.respond(buildResponse(inv, 486, undefined, { toTag: 'u1' }), 486);
    layer.receive(request({ method: 'ACK', branch: 'z9hG4bKinv1', toTag: 'u1' }), info);
    assert.equal(tx.state, 'Confirmed');
    assert.equal(layer.findServer(tx.key), undefined);
    const sent = transport.responses.length;
    // A late ACK retransmission (e.g. the first ACK crossed a Timer G retransmission).
    layer.receive(request({ method: 'ACK', branch: 'z9hG4bKinv1', toTag: 'u1' }), info);
    layer.receive(request({ branch: 'z9hG4bKinv1' }), info);
    assert.equal(transport.responses.length, sent);
    assert.equal(layer.stats.acksAbsorbed, 2);
    assert.equal(tu.requests.length, 1);
    // §9.2: a CANCEL now gets 200 with the INVITE response's To tag and has no effect.
    layer.receive(request({ method: 'CANCEL', branch: 'z9hG4bKinv1' }), info);
    const last = parse(transport.responses[transport.responses.length - 1].data);
    assert.equal(last.status, 200);
    assert.equal(last.cseqMethod, 'CANCEL');
    assert.equal(last.toTag, 'u1');
    assert.equal(tu.cancels.length, 0);
    mock.timers.tick(50);
    assert.equal(tx.state, 'Terminated');
    // The CANCEL's own transaction is still there (Timer J).
    assert.equal(layer.size(), 1);
  });

  test('RFC 2543 INVITE (no cookie): ACK retransmissions matched by the tuple and the response To tag are absorbed by the record', () => {
    const { layer, tu } = setup();
    const inv = request({ branch: null });
    layer.receive(inv, info);
    only(tu.requests[0].tx).respond(buildResponse(inv, 603, undefined, { toTag: 'u9' }), 603);
    layer.receive(request({ method: 'ACK', branch: null, toTag: 'u9' }), info);
    layer.receive(request({ method: 'ACK', branch: null, toTag: 'u9' }), info);
    assert.equal(layer.stats.acksAbsorbed, 2);
    // An ACK with another To tag does not match (§17.2.3): it is the TU's.
    layer.receive(request({ method: 'ACK', branch: null, toTag: 'other' }), info);
    assert.equal(layer.stats.acksAbsorbed, 2);
    assert.equal(tu.requests.length, 2);
  });

  test('client INVITE 486: each retransmitted 486 gets the same ACK again from the record; a 2xx after it is stray (§17.1.1.2)', () => {
    const { layer, transport, tu } = setup();
    const h = new RecordingHandler();
    const out = outgoing('INVITE', 'z9hG4bKcl1');
    const tx = layer.sendRequest(out.data, out.msg, endpoint(), h, { listenerId: 3 });
    layer.receive(responseTo(out.msg, 180), info);
    const busy = responseTo(out.msg, 486);
    layer.receive(busy, info);
    assert.equal(tx.state, 'Completed');
    assert.equal(layer.findClient(tx.key), undefined);
    const ack = transport.sent[1];
    assert.equal(parse(ack.data).method, 'ACK');
    layer.receive(responseTo(out.msg, 486), info);
    layer.receive(responseTo(out.msg, 486), info);
    assert.equal(transport.sent.length, 4);
    for (const s of transport.sent.slice(2)) {
      assert.ok(s.data.equals(ack.data));
      assert.deepEqual(s.dest, ack.dest);
      assert.equal(s.opts?.listenerId, 3);
    }
    assert.deepEqual(h.events, ['provisional 180', 'final 486']);
    layer.receive(responseTo(out.msg, 200), info);
    assert.equal(tu.stray.length, 1);
    mock.timers.tick(60);
    assert.equal(tx.state, 'Terminated');
    assert.equal(layer.size(), 0);
  });

  test('client non-INVITE: retransmitted finals are absorbed by the record until Timer K (§17.1.2.2)', () => {
    const { layer, transport } = setup();
    const h = new RecordingHandler();
    const out = outgoing('BYE', 'z9hG4bKcl2');
    const tx = layer.sendRequest(out.data, out.msg, endpoint(), h);
    layer.receive(responseTo(out.msg, 200), info);
    layer.receive(responseTo(out.msg, 200), info);
    assert.deepEqual(h.events, ['final 200']);
    assert.equal(layer.stats.retransmissionsAbsorbed, 1);
    assert.equal(transport.sent.length, 1);
    mock.timers.tick(49);
    assert.equal(tx.state, 'Completed');
    mock.timers.tick(1);
    assert.equal(tx.state, 'Terminated');
    assert.equal(layer.size(), 0);
  });

  test('stop() drops retained records without callbacks', () => {
    const { layer, tu } = setup();
    const bye = request({ method: 'BYE', branch: 'z9hG4bKbye3' });
    layer.receive(bye, info);
    const tx = only(tu.requests[0].tx);
    let ended = 0;
    tx.onTerminated = () => ended++;
    tx.respond(buildResponse(bye, 200, undefined, { toTag: 'b1' }), 200);
    layer.stop();
    assert.equal(layer.size(), 0);
    mock.timers.tick(1000);
    assert.equal(ended, 0);
  });
});

test('a retained BYE lets its request go: the parsed request is collected while the record answers', async () => {
  const transport = new FakeTransport();
  const tu = new FakeTU();
  const layer = new TransactionLayer(transport, tu, { onError: () => {} });
  let ref: WeakRef<object> | undefined;
  (() => {
    const bye = request({ method: 'BYE', branch: 'z9hG4bKweak' });
    ref = new WeakRef(bye);
    tu.onRequestHook = (req, tx) => tx?.respond(buildResponse(req, 200, undefined, { toTag: 'w' }), 200);
    layer.receive(bye, info);
    tu.requests.length = 0;
    transport.responses.length = 0;
  })();
  await new Promise((r) => setImmediate(r));
  gc();
  assert.equal(ref?.deref(), undefined);
  layer.receive(request({ method: 'BYE', branch: 'z9hG4bKweak' }), info);
  assert.equal(transport.statuses()[0], 200);
  assert.equal(layer.size(), 1);
  layer.stop();
});

test('memory per retained transaction is bounded: 20,000 BYE records stay under a heap budget', () => {
  const transport = new FakeTransport();
  transport.record = false;
  const tu = new FakeTU();
  const layer = new TransactionLayer(transport, tu, { onError: () => {}, maxTransactions: 1e6 });
  tu.onRequestHook = (req, tx) => tx?.respond(buildResponse(req, 200, undefined, { toTag: 'tag-1234' }), 200);
  const extra = ['Route: <sip:127.0.0.1:5360;lr>', 'Contact: <sip:sipp@127.0.0.1:5061>', 'User-Agent: SIPp'];
  const n = 20_000;
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) {
    layer.receive(
      request({
        method: 'BYE',
        branch: `z9hG4bK-${i}-retained`,
        callId: `${i}-call@127.0.0.1`,
        toTag: 'u',
        extra,
      }),
      info,
    );
    tu.requests.length = 0;
  }
  gc();
  const perTx = (process.memoryUsage().heapUsed - before) / n;
  assert.equal(layer.size(), n);
  // Measured ~0.7 kB (record, key, Via fields, response Buffer object, table entry); a
  // transaction that keeps its parsed request and a Timeout costs ~2.5 kB.
  assert.ok(perTx < 1600, `heap per retained BYE: ${perTx.toFixed(0)} bytes`);
  layer.stop();
});

test('client matching (§17.1.3): branch and CSeq method; the CANCEL shares the INVITE branch in its own transaction', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { layer, tu } = setup();
    const h = new RecordingHandler();
    const out = outgoing('INVITE', 'z9hG4bKm1');
    const tx = layer.sendRequest(out.data, out.msg, endpoint(), h);
    layer.receive(responseTo(out.msg, 180), info);
    tx.cancel();
    assert.equal(layer.size(), 2);
    // A response with the INVITE's branch but another CSeq method matches nothing.
    const other = parse(
      buildResponse(
        request({ method: 'BYE', via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKm1' }),
        200,
        undefined,
        {
          toTag: 'b1',
        },
      ),
    );
    layer.receive(other, info);
    assert.equal(tu.stray.length, 1);
    // The 200 to the CANCEL ends up in the CANCEL's transaction, not the INVITE's handler.
    const cancelOut = parse(
      buildResponse(
        request({ method: 'CANCEL', via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKm1' }),
        200,
        undefined,
        {
          toTag: 'b1',
        },
      ),
    );
    layer.receive(cancelOut, info);
    assert.equal(tu.stray.length, 1);
    assert.deepEqual(h.events, ['provisional 180']);
    layer.receive(responseTo(out.msg, 487), info);
    assert.deepEqual(h.events, ['provisional 180', 'final 487']);
    // A branch is unique per request: reusing it for another method is refused.
    const bye = outgoing('BYE', 'z9hG4bKm1');
    assert.throws(() => layer.sendRequest(bye.data, bye.msg, endpoint(), h), /exists/);
    layer.stop();
  } finally {
    mock.timers.reset();
  }
});
