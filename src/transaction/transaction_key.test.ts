import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request, response } from './test_support.ts';
import {
  clientKey,
  flatKey,
  isLegacy,
  isRfc3261Branch,
  ownKey,
  responseKey,
  serverKey,
} from './transaction_key.ts';

test('RFC 3261 server key: branch + sent-by + method; ACK maps to INVITE, CANCEL is separate (§17.2.3)', () => {
  const inv = request({ method: 'INVITE', branch: 'z9hG4bKabc' });
  const ack = request({ method: 'ACK', branch: 'z9hG4bKabc' });
  const cancel = request({ method: 'CANCEL', branch: 'z9hG4bKabc' });
  assert.equal(serverKey(inv, 'INVITE'), 'z9hG4bKabc 10.0.0.1:5060 INVITE');
  assert.equal(serverKey(ack, 'INVITE'), serverKey(inv, 'INVITE'));
  assert.notEqual(serverKey(cancel, 'CANCEL'), serverKey(inv, 'INVITE'));
  assert.equal(serverKey(cancel, 'INVITE'), serverKey(inv, 'INVITE'));
});

test('sent-by is part of the key: same branch from another host is another transaction', () => {
  const a = request({ via: 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsame' });
  const b = request({ via: 'SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKsame' });
  const c = request({ via: 'SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKsame' });
  const upper = request({ via: 'SIP/2.0/UDP HOST.example:5060;branch=z9hG4bKsame' });
  const lower = request({ via: 'SIP/2.0/UDP host.example:5060;branch=z9hG4bKsame' });
  assert.notEqual(serverKey(a, 'INVITE'), serverKey(b, 'INVITE'));
  assert.notEqual(serverKey(a, 'INVITE'), serverKey(c, 'INVITE'));
  assert.equal(serverKey(upper, 'INVITE'), serverKey(lower, 'INVITE'));
});

test('branches without the cookie, and the bare cookie (RFC 4475 badbranch), use RFC 2543 matching', () => {
  assert.equal(isRfc3261Branch('z9hG4bK'), false);
  assert.equal(isRfc3261Branch('z9hG4bKx'), true);
  assert.equal(isRfc3261Branch('abc'), false);
  assert.equal(isRfc3261Branch(undefined), false);
  const bare = request({ branch: 'z9hG4bK' });
  const none = request({ branch: null });
  assert.equal(isLegacy(bare), true);
  assert.equal(isLegacy(none), true);
  const k = serverKey(none, 'INVITE');
  assert.ok(k.startsWith('2543 INVITE call-1@10.0.0.1 1 a1  sip:bob@b.example SIP/2.0/UDP 10.0.0.1:5060'));
  // Every element of the RFC 2543 tuple matters.
  assert.notEqual(serverKey(request({ branch: null, cseq: 2 }), 'INVITE'), k);
  assert.notEqual(serverKey(request({ branch: null, fromTag: 'other' }), 'INVITE'), k);
  assert.notEqual(serverKey(request({ branch: null, toTag: 't' }), 'INVITE'), k);
  assert.notEqual(serverKey(request({ branch: null, ruri: 'sip:carol@b.example' }), 'INVITE'), k);
  assert.notEqual(serverKey(request({ branch: null, callId: 'other' }), 'INVITE'), k);
  assert.notEqual(serverKey(request({ via: 'SIP/2.0/UDP 10.0.0.1:5061' }), 'INVITE'), k);
});

test('client key: branch + CSeq method (§17.1.3)', () => {
  const inv = request({ branch: 'z9hG4bKc1' });
  assert.equal(clientKey('z9hG4bKc1', 'INVITE'), 'z9hG4bKc1 INVITE');
  assert.equal(responseKey(response(inv, 180)), 'z9hG4bKc1 INVITE');
  const cancel = request({ method: 'CANCEL', branch: 'z9hG4bKc1' });
  assert.equal(responseKey(response(cancel, 200)), 'z9hG4bKc1 CANCEL');
  assert.equal(responseKey(response(request({ branch: null }), 200)), undefined);
});

test('flatKey and ownKey return an equal string (flattened, or copied out of its message)', () => {
  const via = 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-abcdefghijklmnop';
  const branch = via.slice(via.indexOf('=') + 1);
  assert.equal(ownKey(branch), 'z9hG4bK-abcdefghijklmnop');
  assert.equal(ownKey('z'), 'z');
  const key = `${branch} 10.0.0.1: BYE`;
  assert.equal(flatKey(key), 'z9hG4bK-abcdefghijklmnop 10.0.0.1: BYE');
});
