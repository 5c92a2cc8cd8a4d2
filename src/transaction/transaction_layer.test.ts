import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildResponse } from '../sip/build.ts';
import {
  endpoint,
  outgoing,
  parse,
  RecordingHandler,
  recvInfo,
  request,
  response,
  responseTo,
  setup,
} from './test_support.ts';

const info = recvInfo();

describe('with mocked timers', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('unanswered() counts transactions waiting for a final, not those absorbing retransmissions', () => {
    const { layer, tu } = setup();
    const inv = request();
    layer.receive(inv, info);
    assert.equal(layer.unanswered(), 1);
    const tx = tu.requests[0].tx;
    assert.ok(tx !== undefined);
    tx.respond(buildResponse(inv, 486, undefined, { toTag: 'uas' }), 486);
    // Completed: it waits for the ACK (Timer G/H) but has its final answer.
    assert.equal(layer.size(), 1);
    assert.equal(layer.unanswered(), 0);
  });

  test('CANCEL matching a pending INVITE: 200 from the layer, onCancel for the TU, retransmission answered again (§9.2)', () => {
    const { layer, transport, tu } = setup();
    const inv = request();
    layer.receive(inv, info);
    const invTx = tu.requests[0].tx;
    assert.ok(invTx !== undefined);
    invTx.respond(buildResponse(inv, 180, undefined, { toTag: 'uas' }), 180);
    layer.receive(request({ method: 'CANCEL' }), info);
    assert.deepEqual(transport.statuses(), [100, 180, 200]);
    const ok = parse(transport.responses[2].data);
    assert.equal(ok.cseqMethod, 'CANCEL');
    assert.equal(ok.toTag, 'uas', 'the 200 to CANCEL carries the To tag of the INVITE response');
    assert.equal(tu.cancels.length, 1);
    assert.equal(tu.cancels[0].invite, invTx);
    assert.equal(tu.requests.length, 1, 'a matched CANCEL is not a new request for the TU');
    assert.equal(layer.stats.cancelsMatched, 1);

    layer.receive(request({ method: 'CANCEL' }), info);
    assert.deepEqual(transport.statuses(), [100, 180, 200, 200]);
    assert.equal(tu.cancels.length, 1);

    // The TU answers the INVITE 487; its ACK is absorbed.
    invTx.respond(buildResponse(inv, 487, undefined, { toTag: 'uas' }), 487);
    layer.receive(request({ method: 'ACK', toTag: 'uas' }), info);
    assert.equal(invTx.state, 'Confirmed');
    mock.timers.tick(1000);
    assert.equal(layer.size(), 0);
  });

  test('CANCEL after the final response: 200, but no effect on the INVITE (§9.2)', () => {
    const { layer, transport, tu } = setup();
    const inv = request();
    layer.receive(inv, info);
    tu.requests[0].tx?.respond(buildResponse(inv, 200, undefined, { toTag: 'uas' }), 200);
    layer.receive(request({ method: 'CANCEL' }), info);
    assert.deepEqual(transport.statuses(), [100, 200, 200]);
    assert.equal(tu.cancels.length, 0);
  });

  test('CANCEL matching nothing goes to the TU with its own transaction; the TU answers 481', () => {
    const { layer, transport, tu } = setup();
    const cancel = request({ method: 'CANCEL', branch: 'z9hG4bKnone' });
    tu.onRequestHook = (req, tx) => tx?.respond(buildResponse(req, 481, undefined, { toTag: 't' }), 481);
    layer.receive(cancel, info);
    assert.equal(tu.requests.length, 1);
    assert.equal(tu.requests[0].req.method, 'CANCEL');
    assert.equal(tu.requests[0].tx?.isInvite, false);
    assert.deepEqual(transport.statuses(), [481]);
    layer.receive(request({ method: 'CANCEL', branch: 'z9hG4bKnone' }), info);
    assert.deepEqual(transport.statuses(), [481, 481]);
  });

  test('an ACK matching no transaction goes to the TU without one', () => {
    const { layer, tu } = setup();
    layer.receive(request({ method: 'ACK', branch: 'z9hG4bKlone', toTag: 'x' }), info);
    assert.equal(tu.requests.length, 1);
    assert.equal(tu.requests[0].tx, undefined);
    assert.equal(layer.size(), 0);
  });

  test('RFC 2543 peer (no branch): retransmission, CANCEL and non-2xx ACK matched by the §17.2.3 tuple', () => {
    const { layer, transport, tu } = setup();
    const inv = request({ branch: null });
    layer.receive(inv, info);
    const tx = tu.requests[0].tx;
    assert.ok(tx !== undefined);
    layer.receive(request({ branch: null }), info);
    assert.equal(tu.requests.length, 1, 'retransmission absorbed');
    // Another CSeq is another transaction.
    layer.receive(request({ branch: null, cseq: 2 }), info);
    assert.equal(tu.requests.length, 2);

    tx.respond(buildResponse(inv, 180, undefined, { toTag: 'uas' }), 180);
    layer.receive(request({ method: 'CANCEL', branch: null }), info);
    assert.equal(tu.cancels.length, 1);
    tx.respond(buildResponse(inv, 487, undefined, { toTag: 'uas' }), 487);

    // An ACK with another To tag is not for our response.
    layer.receive(request({ method: 'ACK', branch: null, toTag: 'other' }), info);
    assert.equal(tx.state, 'Completed');
    assert.equal(tu.requests.length, 3);
    layer.receive(request({ method: 'ACK', branch: null, toTag: 'uas' }), info);
    assert.equal(tx.state, 'Confirmed');
    assert.equal(tu.requests.length, 3);
    assert.deepEqual(transport.statuses().slice(0, 3), [100, 100, 100]);
  });

  test('RFC 4475 badbranch (branch exactly z9hG4bK) falls back to RFC 2543 matching', () => {
    const { layer, tu } = setup();
    const file = new URL('../../../shared/corpus/rfc4475/badbranch.dat', import.meta.url);
    const msg = existsSync(file)
      ? () => parse(readFileSync(file))
      : () => request({ method: 'OPTIONS', branch: 'z9hG4bK' });
    layer.receive(msg(), info);
    layer.receive(msg(), info);
    assert.equal(tu.requests.length, 1);
    assert.ok(tu.requests[0].tx?.key.startsWith('2543 OPTIONS '));
  });

  test('RFC 4475 inv2543: an RFC 2543 INVITE gets a transaction and its retransmission is absorbed', () => {
    const { layer, tu, transport } = setup();
    const file = new URL('../../../shared/corpus/rfc4475/inv2543.dat', import.meta.url);
    if (!existsSync(file)) return;
    layer.receive(parse(readFileSync(file)), info);
    layer.receive(parse(readFileSync(file)), info);
    assert.equal(tu.requests.length, 1);
    assert.deepEqual(transport.statuses(), [100, 100]);
  });

  test('maxTransactions: beyond the bound new requests get a stateless 503 and do not reach the TU', () => {
    const { layer, transport, tu } = setup({ maxTransactions: 2 });
    layer.receive(request({ branch: 'z9hG4bKm1' }), info);
    layer.receive(request({ method: 'OPTIONS', branch: 'z9hG4bKm2' }), info);
    layer.receive(request({ method: 'OPTIONS', branch: 'z9hG4bKm3' }), info);
    assert.equal(tu.requests.length, 2);
    assert.deepEqual(transport.statuses(), [100, 503]);
    const busy = parse(transport.responses[1].data);
    assert.equal(busy.topVia.branch, 'z9hG4bKm3');
    assert.ok(busy.toTag !== undefined && busy.toTag.length > 0);
    assert.equal(layer.stats.rejected, 1);
    assert.equal(layer.size(), 2);
    // A CANCEL of an existing INVITE still works: it ends work rather than adding it.
    layer.receive(request({ method: 'CANCEL', branch: 'z9hG4bKm1' }), info);
    assert.deepEqual(transport.statuses(), [100, 503, 200]);
    assert.equal(tu.cancels.length, 1);
    // ACKs are never refused.
    layer.receive(request({ method: 'ACK', branch: 'z9hG4bKm9', toTag: 'x' }), info);
    assert.equal(tu.requests.length, 3);
  });

  test('a response matching no client transaction is stray; a TU that throws is counted, never rethrown', () => {
    const { layer, tu, errors } = setup();
    layer.receive(response(request({ branch: 'z9hG4bKunknown' }), 200), info);
    assert.equal(tu.stray.length, 1);
    tu.onRequestHook = () => {
      throw new Error('script bug');
    };
    layer.receive(request({ method: 'OPTIONS', branch: 'z9hG4bKboom' }), info);
    assert.equal(layer.stats.tuErrors, 1);
    assert.equal(errors.length, 1);
    assert.equal(layer.size(), 1, 'the transaction stays; retransmissions are absorbed');
  });

  test('stop() clears every timer and transaction without callbacks', () => {
    const { layer, tu } = setup();
    layer.receive(request(), info);
    const inv = outgoing('INVITE', 'z9hG4bKs');
    const h = new RecordingHandler();
    layer.sendRequest(inv.data, inv.msg, endpoint(), h);
    let terminated = 0;
    const tx = tu.requests[0].tx;
    if (tx !== undefined) tx.onTerminated = () => terminated++;
    assert.equal(layer.size(), 2);
    layer.stop();
    assert.equal(layer.size(), 0);
    assert.equal(layer.stats.serverTx + layer.stats.clientTx, 0);
    mock.timers.tick(100_000);
    assert.deepEqual(h.events, []);
    assert.equal(terminated, 0);
  });

  test('the layer wires a proxy-style relay end to end: upstream INVITE, downstream branch, 486 relayed, both ACKed', () => {
    const { layer, transport, tu } = setup();
    const inv = request();
    layer.receive(inv, info);
    const stx = tu.requests[0].tx;
    assert.ok(stx !== undefined);
    const out = outgoing('INVITE', 'z9hG4bKdown');
    layer.sendRequest(out.data, out.msg, endpoint(), {
      onProvisional: (res) =>
        stx.respond(buildResponse(inv, res.status, undefined, { toTag: res.toTag }), res.status),
      onFinal: (res) =>
        stx.respond(buildResponse(inv, res.status, undefined, { toTag: res.toTag }), res.status),
      onTimeout: () => stx.respond(buildResponse(inv, 408, undefined, { toTag: 'p' }), 408),
      onTransportError: () => stx.respond(buildResponse(inv, 503, undefined, { toTag: 'p' }), 503),
    });
    layer.receive(responseTo(out.msg, 180, 'uas'), recvInfo('udp', '10.0.0.2'));
    layer.receive(responseTo(out.msg, 486, 'uas'), recvInfo('udp', '10.0.0.2'));
    assert.deepEqual(transport.statuses(), [100, 180, 486]);
    assert.deepEqual(transport.methods(), ['INVITE', 'ACK']);
    layer.receive(request({ method: 'ACK', toTag: 'uas' }), info);
    assert.equal(stx.state, 'Confirmed');
    mock.timers.tick(1000);
    assert.equal(layer.size(), 0);
  });
});

test('memory stays flat: 20,000 transactions through a fake transport with tiny timers leave size() at 0', async () => {
  const { layer, transport, tu } = setup({ t1: 1, t2: 4, t4: 2, timerD: 2, timerC: 50 });
  transport.record = false;
  const up = recvInfo();
  const down = recvInfo('udp', '10.0.0.2');
  tu.onRequestHook = (req, tx) => {
    if (tx === undefined || req.method === 'ACK') return;
    const status = req.method === 'INVITE' ? (req.cseq % 2 === 0 ? 486 : 200) : 200;
    tx.respond(buildResponse(req, status, undefined, { toTag: 'uas' }), status);
  };
  const handler = new RecordingHandler();
  const rounds = 4;
  const perRound = 5000;
  let peak = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < perRound; i++) {
      const n = r * perRound + i;
      const branch = `z9hG4bKmem${n}`;
      switch (n % 4) {
        case 0: {
          // Server INVITE → 486 → ACK absorbed → Confirmed → Timer I.
          layer.receive(request({ branch, cseq: 2 }), up);
          layer.receive(request({ method: 'ACK', branch, cseq: 2, toTag: 'uas' }), up);
          break;
        }
        case 1: {
          // Server INVITE → 200 → Accepted → Timer L; server OPTIONS → 200 → Timer J.
          layer.receive(request({ branch, cseq: 1 }), up);
          layer.receive(request({ method: 'OPTIONS', branch: `${branch}o` }), up);
          break;
        }
        case 2: {
          // Client INVITE → 180 → 486 → ACK → Timer D.
          const out = outgoing('INVITE', branch);
          layer.sendRequest(out.data, out.msg, endpoint(), handler);
          layer.receive(responseTo(out.msg, 180), down);
          layer.receive(responseTo(out.msg, 486), down);
          break;
        }
        default: {
          // Client BYE → 200 → Timer K; client OPTIONS that times out (Timer F); a cancelled INVITE.
          const bye = outgoing('BYE', branch);
          layer.sendRequest(bye.data, bye.msg, endpoint(), handler);
          layer.receive(responseTo(bye.msg, 200), down);
          if (n % 20 === 3) {
            const lost = outgoing('OPTIONS', `${branch}x`);
            layer.sendRequest(lost.data, lost.msg, endpoint(), handler);
            const c = outgoing('INVITE', `${branch}c`);
            const tx = layer.sendRequest(c.data, c.msg, endpoint(), handler);
            layer.receive(responseTo(c.msg, 180), down);
            tx.cancel();
          }
        }
      }
    }
    peak = Math.max(peak, layer.size());
    const deadline = Date.now() + 10_000;
    while (layer.size() > 0 && Date.now() < deadline) await sleep(20);
    assert.equal(layer.size(), 0, `round ${r}: every transaction terminated`);
    assert.equal(layer.stats.serverTx, 0);
    assert.equal(layer.stats.clientTx, 0);
  }
  assert.ok(peak > 1000, `transactions were live at once (peak ${peak})`);
  assert.ok(layer.stats.created >= rounds * perRound);
  assert.equal(layer.stats.tuErrors, 0);
  layer.stop();
});
