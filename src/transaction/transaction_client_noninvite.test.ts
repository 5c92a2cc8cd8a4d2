import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { endpoint, outgoing, RecordingHandler, recvInfo, responseTo, setup } from './test_support.ts';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

const info = recvInfo('udp', '10.0.0.2');

function start(options?: Parameters<typeof setup>[0], protocol: 'udp' | 'tcp' = 'udp', frTimer?: number) {
  const env = setup(options);
  const req = outgoing('OPTIONS', 'z9hG4bKn1');
  const handler = new RecordingHandler();
  const tx = env.layer.sendRequest(
    req.data,
    req.msg,
    endpoint(protocol),
    handler,
    frTimer === undefined ? undefined : { frTimer },
  );
  return { ...env, req: req.msg, handler, tx };
}

/** Tick one ms at a time, returning the times at which something was sent. */
function sendTimes(transport: { sent: unknown[] }, until: number): number[] {
  const at: number[] = [];
  for (let t = 1; t <= until; t++) {
    const before = transport.sent.length;
    mock.timers.tick(1);
    if (transport.sent.length !== before) at.push(t);
  }
  return at;
}

test('Timer E doubles from T1 up to T2 in Trying; Timer F (64*T1) reports the timeout (§17.1.2.2)', () => {
  const { transport, layer, handler, tx } = start();
  assert.equal(tx.state, 'Trying');
  // E: 10, 20, 40, then T2 = 40: sends at 10, 30, 70, 110, 150, ... up to 630; F at 640.
  const at = sendTimes(transport, 700);
  assert.deepEqual(at, [10, 30, 70, 110, 150, 190, 230, 270, 310, 350, 390, 430, 470, 510, 550, 590, 630]);
  assert.deepEqual(handler.events, ['timeout']);
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.size(), 0);
  assert.equal(layer.stats.timeouts, 1);
});

test('a provisional moves to Proceeding, where Timer E retransmits every T2', () => {
  const { transport, layer, handler, tx, req } = start({ t2: 100 });
  mock.timers.tick(5);
  layer.receive(responseTo(req, 100), info);
  assert.equal(tx.state, 'Proceeding');
  // The E armed in Trying (T1 = 10) fires at 10, then every T2 = 100.
  const at = sendTimes(transport, 300).map((t) => t + 5);
  assert.deepEqual(at, [10, 110, 210]);
  assert.deepEqual(handler.events, ['provisional 100']);
});

test('final response: Completed absorbs its retransmissions, Timer K (T4) ends it; frTimer per transaction', () => {
  const { transport, layer, handler, tx, req } = start();
  layer.receive(responseTo(req, 200), info);
  layer.receive(responseTo(req, 200), info);
  assert.deepEqual(handler.events, ['final 200']);
  assert.equal(tx.state, 'Completed');
  assert.equal(tx.lastStatus, 200);
  assert.equal(layer.stats.retransmissionsAbsorbed, 1);
  mock.timers.tick(100);
  assert.equal(transport.sent.length, 1, 'no retransmission after the final');
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.size(), 0);

  const short = start(undefined, 'udp', 100);
  mock.timers.tick(100);
  assert.deepEqual(short.handler.events, ['timeout']);
});

test('reliable transport: no Timer E, Timer K = 0', () => {
  const { transport, layer, tx, req } = start(undefined, 'tcp');
  mock.timers.tick(500);
  assert.equal(transport.sent.length, 1);
  layer.receive(responseTo(req, 404), recvInfo('tcp', '10.0.0.2'));
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.size(), 0);
});

test('cancel() on a non-INVITE transaction does nothing (§9.1)', () => {
  const { transport, tx, req, layer } = start();
  layer.receive(responseTo(req, 100), info);
  tx.cancel();
  assert.deepEqual(transport.methods(), ['OPTIONS']);
});
