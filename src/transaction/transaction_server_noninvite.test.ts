import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { buildResponse } from '../sip/build.ts';
import { recvInfo, request, setup } from './test_support.ts';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

const info = recvInfo();
const opts = (branch = 'z9hG4bKo1') => request({ method: 'OPTIONS', branch });

test('non-INVITE: no automatic 100; retransmissions absorbed in Trying, last 1xx in Proceeding, final in Completed (§17.2.2)', () => {
  const { layer, transport, tu } = setup();
  const req = opts();
  layer.receive(req, info);
  const tx = tu.requests[0].tx;
  assert.ok(tx !== undefined);
  assert.equal(tx.isInvite, false);
  assert.equal(tx.state, 'Trying');
  layer.receive(opts(), info);
  assert.deepEqual(transport.statuses(), []);
  assert.equal(tu.requests.length, 1);

  tx.respond(buildResponse(req, 183, undefined, { toTag: 'x' }), 183);
  assert.equal(tx.state, 'Proceeding');
  layer.receive(opts(), info);
  assert.deepEqual(transport.statuses(), [183, 183]);

  tx.respond(buildResponse(req, 200, undefined, { toTag: 'x' }), 200);
  assert.equal(tx.state, 'Completed');
  layer.receive(opts(), info);
  assert.deepEqual(transport.statuses(), [183, 183, 200, 200]);
  // §17.2.2: further finals from the TU are discarded.
  tx.respond(buildResponse(req, 500, undefined, { toTag: 'x' }), 500);
  assert.deepEqual(transport.statuses(), [183, 183, 200, 200]);
  assert.equal(tu.requests.length, 1);
  assert.equal(layer.stats.retransmissionsAbsorbed, 3);
});

test('Timer J (64*T1) ends the Completed transaction on UDP; reliable transports end at once', () => {
  const { layer, tu } = setup();
  const req = opts();
  layer.receive(req, info);
  const tx = tu.requests[0].tx;
  assert.ok(tx !== undefined);
  let done = false;
  tx.onTerminated = () => {
    done = true;
  };
  tx.respond(buildResponse(req, 200, undefined, { toTag: 'x' }), 200);
  mock.timers.tick(639);
  assert.equal(done, false);
  mock.timers.tick(1);
  assert.equal(done, true);
  assert.equal(layer.size(), 0);

  const treq = request({ method: 'REGISTER', via: 'SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKr' });
  layer.receive(treq, recvInfo('tcp'));
  const ttx = tu.requests[1].tx;
  assert.ok(ttx !== undefined);
  ttx.respond(buildResponse(treq, 200, undefined, { toTag: 'x' }), 200);
  assert.equal(ttx.state, 'Terminated');
  assert.equal(layer.size(), 0);
});

test('a request retransmitted after the transaction ended is a new request for the TU', () => {
  const { layer, tu } = setup();
  const req = opts();
  layer.receive(req, info);
  tu.requests[0].tx?.respond(buildResponse(req, 200, undefined, { toTag: 'x' }), 200);
  mock.timers.tick(640);
  layer.receive(opts(), info);
  assert.equal(tu.requests.length, 2);
});

test('a stateless final (retain false) ends the transaction at once; a retransmission is a new request', () => {
  const { layer, tu } = setup();
  const req = opts();
  layer.receive(req, info);
  const tx = tu.requests[0].tx;
  tx?.respond(buildResponse(req, 200, undefined, { toTag: 'x' }), 200, false);
  assert.equal(tx?.state, 'Terminated');
  assert.equal(layer.size(), 0);
  layer.receive(opts(), info);
  assert.equal(tu.requests.length, 2);
  assert.equal(layer.stats.retransmissionsAbsorbed, 0);
});

test('a stateless provisional keeps the transaction; only the final decides', () => {
  const { layer, tu } = setup();
  const req = opts();
  layer.receive(req, info);
  const tx = tu.requests[0].tx;
  tx?.respond(buildResponse(req, 183, undefined, { toTag: 'x' }), 183, false);
  assert.equal(tx?.state, 'Proceeding');
  layer.receive(opts(), info);
  assert.equal(tu.requests.length, 1);
  assert.equal(layer.stats.retransmissionsAbsorbed, 1);
});

test('lifetime guard drops a non-INVITE the TU never answers (maxNoninvLifetime)', () => {
  const { layer, tu } = setup({ maxNoninvLifetime: 300 });
  layer.receive(opts(), info);
  const tx = tu.requests[0].tx;
  mock.timers.tick(300);
  assert.equal(tx?.state, 'Terminated');
  assert.equal(layer.stats.abandoned, 1);
  assert.equal(layer.size(), 0);
});

test('release(): the TU forgets a transaction it will not answer', () => {
  const { layer, tu } = setup();
  layer.receive(opts(), info);
  const tx = tu.requests[0].tx;
  assert.ok(tx !== undefined);
  layer.release(tx);
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.size(), 0);
  layer.release(tx); // idempotent
});
