import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { endpoint, outgoing, parse, RecordingHandler, recvInfo, responseTo, setup } from './test_support.ts';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

const info = recvInfo('udp', '10.0.0.2');

function start(options?: Parameters<typeof setup>[0], protocol: 'udp' | 'tcp' = 'udp') {
  const env = setup(options);
  const inv = outgoing('INVITE', 'z9hG4bKc1');
  const handler = new RecordingHandler();
  const tx = env.layer.sendRequest(inv.data, inv.msg, endpoint(protocol), handler, { listenerId: 1 });
  return { ...env, inv: inv.msg, handler, tx };
}

test('Timer A retransmits the INVITE at T1, 2T1, 4T1... until Timer B (64*T1) reports a timeout (§17.1.1.2)', () => {
  const { layer, transport, handler, tx } = start();
  assert.equal(tx.state, 'Calling');
  assert.equal(transport.sent.length, 1);
  assert.equal(transport.sent[0].opts?.listenerId, 1);
  assert.equal(typeof transport.sent[0].opts?.onError, 'function', 'failures come back through onError');
  const at: number[] = [];
  for (let t = 1; t <= 700; t++) {
    const before: number = transport.sent.length;
    mock.timers.tick(1);
    if (transport.sent.length !== before) at.push(t);
  }
  // A doubles without the T2 cap (that cap is Timer E's and G's): 10, 30, 70, 150, 310, 630.
  assert.deepEqual(at, [10, 30, 70, 150, 310, 630]);
  assert.deepEqual(handler.events, ['timeout']);
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.size(), 0);
  assert.equal(layer.stats.timeouts, 1);
  assert.equal(layer.stats.retransmissionsSent, 6);
});

test('a provisional stops retransmissions and Timer B (Proceeding)', () => {
  const { transport, layer, handler, tx, inv } = start({ timerC: 100_000 });
  mock.timers.tick(5);
  layer.receive(responseTo(inv, 100), info);
  assert.equal(tx.state, 'Proceeding');
  mock.timers.tick(5000);
  assert.equal(transport.sent.length, 1);
  assert.deepEqual(handler.events, ['provisional 100']);
  assert.equal(tx.state, 'Proceeding');
  assert.equal(tx.lastStatus, 100);
});

test('non-2xx: the transaction ACKs it hop by hop (§17.1.1.3), absorbs retransmissions, Timer D ends it', () => {
  const { transport, layer, handler, tx, inv } = start();
  layer.receive(responseTo(inv, 180), info);
  const busy = responseTo(inv, 486, 'callee');
  layer.receive(busy, info);
  assert.deepEqual(handler.events, ['provisional 180', 'final 486']);
  assert.equal(tx.state, 'Completed');
  assert.equal(transport.sent.length, 2);
  const ackBytes = transport.sent[1].data;
  const ack = parse(ackBytes);
  assert.equal(ack.method, 'ACK');
  assert.equal(ack.ruri, inv.ruri);
  assert.equal(ack.topVia.branch, 'z9hG4bKc1', 'same branch as the INVITE');
  assert.equal(ack.getHeaders('Via').length, 1, 'only our Via');
  assert.equal(ack.toTag, 'callee', 'To from the response, with its tag');
  assert.equal(ack.fromTag, inv.fromTag);
  assert.equal(ack.callId, inv.callId);
  assert.equal(ack.cseq, inv.cseq);
  assert.equal(ack.cseqMethod, 'ACK');
  assert.deepEqual(ack.getHeaders('Route'), ['<sip:p2.example;lr>']);
  assert.deepEqual(transport.sent[1].dest, endpoint());
  assert.equal(transport.sent[1].opts?.listenerId, 1);

  layer.receive(responseTo(inv, 486, 'callee'), info);
  assert.equal(transport.sent.length, 3, 'the ACK is resent for a retransmitted final');
  assert.ok(transport.sent[2].data.equals(ackBytes));
  assert.deepEqual(handler.events, ['provisional 180', 'final 486'], 'not passed up again');

  mock.timers.tick(59);
  assert.equal(tx.state, 'Completed');
  mock.timers.tick(1); // Timer D (60 ms in FAST)
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.size(), 0);
});

test('2xx: Accepted passes every 2xx up (retransmissions, other forks) until Timer M (RFC 6026 §7.2)', () => {
  const { transport, layer, handler, tx, inv, tu } = start();
  layer.receive(responseTo(inv, 200, 'fork1'), info);
  assert.equal(tx.state, 'Accepted');
  assert.equal(transport.sent.length, 1, 'no ACK for a 2xx from the transaction');
  layer.receive(responseTo(inv, 200, 'fork1'), info);
  layer.receive(responseTo(inv, 200, 'fork2'), info);
  layer.receive(responseTo(inv, 486, 'fork3'), info);
  assert.deepEqual(handler.events, ['final 200', 'final 200', 'final 200']);
  mock.timers.tick(640);
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.size(), 0);
  // Afterwards a 2xx retransmission is stray: the proxy forwards it statelessly.
  layer.receive(responseTo(inv, 200, 'fork1'), info);
  assert.equal(tu.stray.length, 1);
  assert.equal(layer.stats.strayResponses, 1);
});

test('cancel() before any provisional waits for the first 1xx, then sends CANCEL in its own transaction (§9.1)', () => {
  const { transport, layer, handler, tx, inv } = start();
  tx.cancel();
  mock.timers.tick(5);
  assert.deepEqual(transport.methods(), ['INVITE']);
  layer.receive(responseTo(inv, 180), info);
  assert.deepEqual(transport.methods(), ['INVITE', 'CANCEL']);
  const cancel = parse(transport.sent[1].data);
  assert.equal(cancel.topVia.branch, 'z9hG4bKc1');
  assert.equal(cancel.cseq, inv.cseq);
  assert.equal(cancel.cseqMethod, 'CANCEL');
  assert.equal(cancel.ruri, inv.ruri);
  assert.equal(cancel.toTag, undefined);
  assert.equal(transport.sent[1].opts?.listenerId, 1);
  assert.equal(layer.size(), 2, 'INVITE and CANCEL client transactions');
  // The CANCEL's 200 belongs to the CANCEL transaction, the 487 to the INVITE.
  layer.receive(responseTo(cancel, 200), info);
  layer.receive(responseTo(inv, 487), info);
  assert.deepEqual(handler.events, ['provisional 180', 'final 487']);
  assert.deepEqual(transport.methods(), ['INVITE', 'CANCEL', 'ACK']);
  mock.timers.tick(1000);
  assert.equal(layer.size(), 0);
});

test('cancel() after a provisional sends CANCEL at once (with Reason); twice sends one; after a final, none', () => {
  const { transport, layer, tx, inv } = start();
  layer.receive(responseTo(inv, 183), info);
  tx.cancel('SIP;cause=200;text="Call completed elsewhere"');
  tx.cancel();
  assert.deepEqual(transport.methods(), ['INVITE', 'CANCEL']);
  const cancel = parse(transport.sent[1].data);
  assert.equal(cancel.getHeader('Reason'), 'SIP;cause=200;text="Call completed elsewhere"');

  const other = start();
  other.layer.receive(responseTo(other.inv, 486), info);
  other.tx.cancel();
  assert.deepEqual(other.transport.methods(), ['INVITE', 'ACK']);

  const early = start();
  early.tx.cancel();
  early.layer.receive(responseTo(early.inv, 603), info);
  early.layer.receive(responseTo(early.inv, 180), info);
  assert.deepEqual(early.transport.methods(), ['INVITE', 'ACK'], 'a final before any 1xx: nothing to cancel');
});

test('Timer C: after a provisional, no final within timerC → CANCEL and timeout; the 487 is only ACKed (§16.8)', () => {
  const { transport, layer, handler, tx, inv } = start({ timerC: 1000 });
  layer.receive(responseTo(inv, 180), info);
  mock.timers.tick(999);
  assert.deepEqual(transport.methods(), ['INVITE']);
  mock.timers.tick(1);
  assert.deepEqual(transport.methods(), ['INVITE', 'CANCEL']);
  assert.deepEqual(handler.events, ['provisional 180', 'timeout']);
  assert.equal(tx.state, 'Proceeding');
  tx.cancel(); // the proxy cancelling its branches after the timeout: already done
  assert.deepEqual(transport.methods(), ['INVITE', 'CANCEL']);
  layer.receive(responseTo(inv, 180), info);
  layer.receive(responseTo(inv, 487), info);
  assert.deepEqual(transport.methods(), ['INVITE', 'CANCEL', 'ACK']);
  assert.deepEqual(handler.events, ['provisional 180', 'timeout']);
  assert.equal(layer.stats.timeouts, 1);
});

test('Timer C restarts on 101-199, not on 100 (§16.7 step 2); a 2xx crossing the CANCEL still goes up', () => {
  const { transport, layer, handler, inv } = start({ timerC: 1000 });
  layer.receive(responseTo(inv, 100), info);
  mock.timers.tick(600);
  layer.receive(responseTo(inv, 100), info);
  mock.timers.tick(400);
  assert.deepEqual(transport.methods(), ['INVITE', 'CANCEL'], '100 does not restart C');

  const b = start({ timerC: 1000 });
  b.layer.receive(responseTo(b.inv, 100), info);
  mock.timers.tick(600);
  b.layer.receive(responseTo(b.inv, 180), info);
  mock.timers.tick(600);
  assert.deepEqual(b.transport.methods(), ['INVITE'], '180 restarted C');
  mock.timers.tick(400);
  assert.deepEqual(b.transport.methods(), ['INVITE', 'CANCEL']);
  b.layer.receive(responseTo(b.inv, 200), info);
  assert.deepEqual(b.handler.events, ['provisional 100', 'provisional 180', 'timeout', 'final 200']);
  assert.deepEqual(handler.events, ['provisional 100', 'provisional 100', 'timeout']);
});

test('per-transaction timerC override (Kamailio t_set_fr)', () => {
  const env = setup({ timerC: 100_000 });
  const inv = outgoing('INVITE', 'z9hG4bKo');
  const h = new RecordingHandler();
  env.layer.sendRequest(inv.data, inv.msg, endpoint(), h, { timerC: 50 });
  env.layer.receive(responseTo(inv.msg, 180), info);
  mock.timers.tick(50);
  assert.deepEqual(h.events, ['provisional 180', 'timeout']);
});

test('no final 64*T1 after the CANCEL: the INVITE transaction is destroyed (§9.1)', () => {
  const { layer, handler, tx, inv } = start();
  layer.receive(responseTo(inv, 180), info);
  tx.cancel();
  mock.timers.tick(639);
  assert.equal(tx.state, 'Proceeding');
  mock.timers.tick(1);
  assert.equal(tx.state, 'Terminated');
  assert.deepEqual(handler.events, ['provisional 180', 'timeout']);
  assert.equal(layer.size(), 0, 'the CANCEL transaction ended on Timer F too');
});

test('reliable transport: no Timer A; the ACK ends the transaction at once (Timer D = 0)', () => {
  const { transport, layer, tx, inv } = start(undefined, 'tcp');
  mock.timers.tick(600);
  assert.deepEqual(transport.methods(), ['INVITE']);
  layer.receive(responseTo(inv, 404), recvInfo('tcp', '10.0.0.2'));
  assert.deepEqual(transport.methods(), ['INVITE', 'ACK']);
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.size(), 0);
});

test('a transport error on the first send is reported after sendRequest returned (§17.1.4)', async () => {
  const env = setup();
  env.transport.failSend = true;
  const inv = outgoing('INVITE', 'z9hG4bKerr');
  const h = new RecordingHandler();
  const tx = env.layer.sendRequest(inv.data, inv.msg, endpoint(), h);
  assert.deepEqual(h.events, []);
  await Promise.resolve();
  assert.deepEqual(h.events, ['transport-error send failed']);
  assert.equal(tx.state, 'Terminated');
  assert.equal(env.layer.size(), 0);
  assert.equal(env.layer.stats.transportErrors, 1);
});

test('a failure reported through onError (TransportLayer style) informs the TU and ends the transaction', async () => {
  const env = setup();
  env.transport.failAsync = true;
  const inv = outgoing('INVITE', 'z9hG4bKasync');
  const h = new RecordingHandler();
  const tx = env.layer.sendRequest(inv.data, inv.msg, endpoint('tcp'), h);
  assert.equal(tx.state, 'Calling');
  await Promise.resolve();
  assert.deepEqual(h.events, ['transport-error connect refused']);
  assert.equal(tx.state, 'Terminated');
  assert.equal(env.layer.size(), 0);
});

test('an asynchronous transport error towards the destination fails the pending transactions', () => {
  const { layer, handler, tx } = start();
  layer.transportError(endpoint('udp', '10.0.0.9'), new Error('other host'));
  assert.equal(tx.state, 'Calling');
  layer.transportError(endpoint(), new Error('refused'));
  assert.deepEqual(handler.events, ['transport-error refused']);
  assert.equal(layer.size(), 0);
});

test('sendRequest refuses ACK, a missing branch and a duplicate branch', () => {
  const env = setup();
  const ack = outgoing('ACK', 'z9hG4bKa');
  assert.throws(
    () => env.layer.sendRequest(ack.data, ack.msg, endpoint(), new RecordingHandler()),
    TypeError,
  );
  const nob = parse(
    Buffer.from(ack.data.toString().replace(/ACK/g, 'INVITE').replace(';branch=z9hG4bKa', '')),
  );
  assert.throws(() => env.layer.sendRequest(nob.raw, nob, endpoint(), new RecordingHandler()), TypeError);
  const inv = outgoing('INVITE', 'z9hG4bKd');
  env.layer.sendRequest(inv.data, inv.msg, endpoint(), new RecordingHandler());
  assert.throws(() => env.layer.sendRequest(inv.data, inv.msg, endpoint(), new RecordingHandler()), /exists/);
});

test('a handler that throws is counted and does not break the transaction', () => {
  const env = setup();
  const inv = outgoing('INVITE', 'z9hG4bKthrow');
  const tx = env.layer.sendRequest(inv.data, inv.msg, endpoint(), {
    onProvisional() {
      throw new Error('tu bug');
    },
    onFinal() {
      throw new Error('tu bug');
    },
    onTimeout() {},
    onTransportError() {},
  });
  env.layer.receive(responseTo(inv.msg, 180), info);
  env.layer.receive(responseTo(inv.msg, 486), info);
  assert.equal(tx.state, 'Completed');
  assert.equal(env.layer.stats.tuErrors, 2);
  assert.equal(env.errors.length, 2);
  assert.deepEqual(env.transport.methods(), ['INVITE', 'ACK']);
});

test('sendRequestBytes: the bytes are sent unparsed; the ACK to a non-2xx and the CANCEL are built from them', () => {
  const env = setup({ timerC: 100_000 });
  const inv = outgoing('INVITE', 'z9hG4bKraw');
  const handler = new RecordingHandler();
  const tx = env.layer.sendRequestBytes(inv.data, 'INVITE', 'z9hG4bKraw', endpoint(), handler, {
    listenerId: 1,
  });
  assert.equal(tx.state, 'Calling');
  assert.ok(env.transport.sent[0].data.equals(inv.data), 'the bytes go out as given');
  env.layer.receive(responseTo(inv.msg, 180), info);
  tx.cancel('SIP;cause=200');
  const cancel = parse(env.transport.sent[1].data);
  assert.equal(cancel.method, 'CANCEL');
  assert.equal(cancel.topVia.branch, 'z9hG4bKraw');
  assert.equal(cancel.cseq, inv.msg.cseq);
  assert.equal(cancel.ruri, inv.msg.ruri);
  assert.deepEqual(cancel.getHeaders('Route'), ['<sip:p2.example;lr>']);
  env.layer.receive(responseTo(inv.msg, 487, 'callee'), info);
  const ack = parse(env.transport.sent[2].data);
  assert.equal(ack.method, 'ACK');
  assert.equal(ack.topVia.branch, 'z9hG4bKraw');
  assert.equal(ack.toTag, 'callee');
  assert.equal(ack.callId, inv.msg.callId);
  assert.equal(ack.cseq, inv.msg.cseq);
  assert.deepEqual(handler.events, ['provisional 180', 'final 487']);
  assert.equal(tx.request.callId, inv.msg.callId, 'the parsed request is available on demand');
});

test('sendRequestBytes: bytes that do not parse fail the transaction at the ACK, the TU still gets the final', () => {
  const env = setup();
  const handler = new RecordingHandler();
  const tx = env.layer.sendRequestBytes(
    Buffer.from('garbage\r\n\r\n'),
    'INVITE',
    'z9hG4bKbad',
    endpoint(),
    handler,
  );
  const inv = outgoing('INVITE', 'z9hG4bKbad');
  env.layer.receive(responseTo(inv.msg, 486), info);
  assert.deepEqual(handler.events, ['final 486']);
  assert.equal(env.layer.stats.transportErrors, 1, 'counted as a failed send of the ACK');
  assert.equal(env.transport.sent.length, 1, 'no ACK went out');
  assert.equal(tx.state, 'Terminated');
  assert.throws(
    () => env.layer.sendRequestBytes(inv.data, 'ACK', 'z9hG4bKx', endpoint(), new RecordingHandler()),
    TypeError,
  );
});
