import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { buildResponse } from '../sip/build.ts';
import { parse, recvInfo, request, setup } from './test_support.ts';
import type { ServerTransaction } from './transaction.ts';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

const info = recvInfo();

function serverTx(tu: { requests: Array<{ tx: ServerTransaction | undefined }> }, i = 0): ServerTransaction {
  const tx = tu.requests[i].tx;
  assert.ok(tx !== undefined);
  return tx;
}

test('a new INVITE gets an immediate 100 Trying without To tag and reaches the TU with its transaction', () => {
  const { layer, transport, tu } = setup();
  const inv = request();
  layer.receive(inv, info);
  assert.deepEqual(transport.statuses(), [100]);
  const trying = parse(transport.responses[0].data);
  assert.equal(trying.toTag, undefined);
  assert.equal(trying.topVia.branch, 'z9hG4bK1');
  assert.equal(tu.requests.length, 1);
  const tx = serverTx(tu);
  assert.equal(tx.isInvite, true);
  assert.equal(tx.state, 'Proceeding');
  assert.equal(tx.lastStatus, 100);
  assert.equal(tx.key, 'z9hG4bK1 10.0.0.1:5060 INVITE');
  assert.equal(layer.size(), 1);
  assert.equal(layer.stats.serverTx, 1);
});

test('a retransmitted INVITE is absorbed and gets the most recent provisional again (§17.2.1)', () => {
  const { layer, transport, tu } = setup();
  const inv = request();
  layer.receive(inv, info);
  serverTx(tu).respond(buildResponse(inv, 180, undefined, { toTag: 'x' }), 180);
  layer.receive(request(), info);
  layer.receive(request(), info);
  assert.equal(tu.requests.length, 1);
  assert.deepEqual(transport.statuses(), [100, 180, 180, 180]);
  assert.equal(layer.stats.retransmissionsAbsorbed, 2);
});

test("autoTrying 'delayed' sends 100 only when the TU has not answered within the delay", () => {
  const { layer, transport, tu } = setup({ autoTrying: 'delayed', tryingDelay: 20 });
  layer.receive(request({ branch: 'z9hG4bKslow' }), info);
  assert.deepEqual(transport.statuses(), []);
  mock.timers.tick(20);
  assert.deepEqual(transport.statuses(), [100]);

  const inv = request({ branch: 'z9hG4bKfast' });
  layer.receive(inv, info);
  serverTx(tu, 1).respond(buildResponse(inv, 180, undefined, { toTag: 'x' }), 180);
  mock.timers.tick(50);
  assert.deepEqual(transport.statuses(), [100, 180]);
});

test("autoTrying 'off' sends nothing by itself", () => {
  const { layer, transport } = setup({ autoTrying: 'off' });
  layer.receive(request(), info);
  mock.timers.tick(1000);
  assert.deepEqual(transport.statuses(), []);
});

test('non-2xx final: Timer G retransmits up to T2, the ACK is absorbed → Confirmed → Timer I → terminated', () => {
  const { layer, transport, tu } = setup();
  const inv = request();
  layer.receive(inv, info);
  const tx = serverTx(tu);
  let terminated = 0;
  tx.onTerminated = () => terminated++;
  tx.respond(buildResponse(inv, 486, undefined, { toTag: 'x' }), 486);
  assert.equal(tx.state, 'Completed');
  assert.deepEqual(transport.statuses(), [100, 486]);
  // G = T1 (10), then 20, 40, capped at T2 = 40.
  mock.timers.tick(10);
  assert.equal(transport.responses.length, 3);
  mock.timers.tick(20);
  assert.equal(transport.responses.length, 4);
  mock.timers.tick(40);
  assert.equal(transport.responses.length, 5);
  mock.timers.tick(40);
  assert.equal(transport.responses.length, 6);
  // A retransmitted INVITE in Completed gets the final again.
  layer.receive(request(), info);
  assert.equal(transport.responses.length, 7);

  layer.receive(request({ method: 'ACK', toTag: 'x' }), info);
  assert.equal(tx.state, 'Confirmed');
  assert.equal(tu.requests.length, 1, 'the ACK for a non-2xx does not reach the TU');
  assert.equal(layer.stats.acksAbsorbed, 1);
  mock.timers.tick(40);
  assert.equal(transport.responses.length, 7, 'no retransmission after the ACK');
  // ACK retransmissions in Confirmed are absorbed too.
  layer.receive(request({ method: 'ACK', toTag: 'x' }), info);
  assert.equal(tu.requests.length, 1);
  mock.timers.tick(10); // Timer I = T4 = 50 ms from the ACK
  assert.equal(tx.state, 'Terminated');
  assert.equal(terminated, 1);
  assert.equal(layer.size(), 0);
  assert.equal(layer.stats.serverTx, 0);
});

test('Timer H: no ACK for the non-2xx ends the transaction and counts a timeout', () => {
  const { layer, tu } = setup();
  const inv = request();
  layer.receive(inv, info);
  const tx = serverTx(tu);
  tx.respond(buildResponse(inv, 500, undefined, { toTag: 'x' }), 500);
  mock.timers.tick(639);
  assert.equal(tx.state, 'Completed');
  mock.timers.tick(1);
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.stats.timeouts, 1);
  assert.equal(layer.size(), 0);
});

test('2xx: Accepted absorbs INVITE retransmissions, passes the ACK to the TU, sends further 2xx, ends on Timer L (RFC 6026)', () => {
  const { layer, transport, tu } = setup();
  const inv = request();
  layer.receive(inv, info);
  const tx = serverTx(tu);
  const ok = buildResponse(inv, 200, undefined, { toTag: 'x' });
  tx.respond(ok, 200);
  assert.equal(tx.state, 'Accepted');
  assert.deepEqual(transport.statuses(), [100, 200]);
  mock.timers.tick(100);
  assert.equal(transport.responses.length, 2, 'the transaction never retransmits a 2xx itself');

  layer.receive(request(), info);
  assert.equal(tu.requests.length, 1);
  assert.equal(transport.responses.length, 2, 'the retransmitted INVITE is absorbed without an answer');

  // The 2xx ACK carries a new branch: not part of the transaction, to the TU without a tx.
  layer.receive(request({ method: 'ACK', branch: 'z9hG4bKack', toTag: 'x' }), info);
  // Even one that matches the branch goes to the TU in Accepted.
  layer.receive(request({ method: 'ACK', toTag: 'x' }), info);
  assert.equal(tu.requests.length, 3);
  assert.equal(tu.requests[1].req.method, 'ACK');
  assert.equal(tu.requests[1].tx, undefined);
  assert.equal(tu.requests[2].tx, undefined);

  // A 2xx retransmission by the UAS core (or another fork's 2xx) still goes out; non-2xx do not.
  tx.respond(ok, 200);
  tx.respond(buildResponse(inv, 486, undefined, { toTag: 'y' }), 486);
  assert.deepEqual(transport.statuses(), [100, 200, 200]);

  mock.timers.tick(540); // Timer L = 64*T1 = 640 ms from the 2xx
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.size(), 0);
});

test('reliable transport: no Timer G, and the ACK ends the transaction at once (Timer I = 0)', () => {
  const { layer, transport, tu } = setup();
  const tcp = recvInfo('tcp');
  const inv = request({ via: 'SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKt' });
  layer.receive(inv, tcp);
  const tx = serverTx(tu);
  tx.respond(buildResponse(inv, 404, undefined, { toTag: 'x' }), 404);
  mock.timers.tick(200);
  assert.deepEqual(transport.statuses(), [100, 404]);
  layer.receive(
    request({ method: 'ACK', via: 'SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKt', toTag: 'x' }),
    tcp,
  );
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.size(), 0);
});

test('responses after the final one are discarded; bad status codes are refused', () => {
  const { layer, transport, tu } = setup();
  const inv = request();
  layer.receive(inv, info);
  const tx = serverTx(tu);
  assert.throws(() => tx.respond(Buffer.from('x'), 99), RangeError);
  tx.respond(buildResponse(inv, 486, undefined, { toTag: 'x' }), 486);
  tx.respond(buildResponse(inv, 180, undefined, { toTag: 'x' }), 180);
  tx.respond(buildResponse(inv, 200, undefined, { toTag: 'x' }), 200);
  assert.deepEqual(transport.statuses(), [100, 486]);
  assert.equal(tx.lastStatus, 486);
});

test('lifetime guard: an INVITE the TU never answers is dropped after maxInvLifetime; provisionals restart it', () => {
  const { layer, tu } = setup({ maxInvLifetime: 500 });
  const inv = request();
  layer.receive(inv, info);
  const tx = serverTx(tu);
  mock.timers.tick(400);
  tx.respond(buildResponse(inv, 180, undefined, { toTag: 'x' }), 180);
  mock.timers.tick(400);
  assert.equal(tx.state, 'Proceeding');
  mock.timers.tick(100);
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.stats.abandoned, 1);
  assert.equal(layer.size(), 0);
});

test('a response the transport could not deliver is counted; the transaction keeps to its timers (§17.2.4)', async () => {
  const { layer, transport, tu } = setup();
  transport.failAsync = true;
  const inv = request();
  layer.receive(inv, info);
  await Promise.resolve();
  assert.equal(layer.stats.transportErrors, 1);
  assert.equal(serverTx(tu).state, 'Proceeding');
});
