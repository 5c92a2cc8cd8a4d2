import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isParseError } from '../../sip/errors.ts';
import { H } from '../../sip/header_names.ts';
import { HS, type SipMessage } from '../../sip/message.ts';
import { parseMessage } from '../../sip/parse_message.ts';
import { request } from '../testing/fake_context.ts';
import { requiredHeaders } from './checks.ts';

/** A parsed request whose X-A / X-B header lines are then relabelled as `ids` (the parser refuses
 * missing or duplicate transaction headers itself; the check must hold without it). */
function withHeaderIds(ids: [number, number]): SipMessage {
  const msg = parseMessage(Buffer.from(request({ headers: ['X-A: 1', 'X-B: 2'] })));
  if (isParseError(msg)) throw new Error(`test request does not parse: ${JSON.stringify(msg)}`);
  let k = 0;
  for (let o = 0; o < msg.hdr.length && k < 2; o += HS) {
    if (msg.hdr[o] === H.OTHER) msg.hdr[o] = ids[k++];
  }
  assert.equal(k, 2);
  return msg;
}

/** The same request with the first header line of `id` relabelled as an unknown header. */
function without(id: number): SipMessage {
  const msg = withHeaderIds([H.OTHER, H.OTHER]);
  msg.hdr[msg.findHeader(id) * HS] = H.OTHER;
  return msg;
}

describe('sanity requiredHeaders (one pass over the header table)', () => {
  it('passes a request with one of each and any number of Vias', () => {
    assert.equal(requiredHeaders(withHeaderIds([H.OTHER, H.OTHER])), undefined);
    assert.equal(requiredHeaders(withHeaderIds([H.VIA, H.VIA])), undefined);
  });

  it('drops (no reply) when a transaction header is missing', () => {
    for (const id of [H.TO, H.FROM, H.CSEQ, H.CALL_ID, H.VIA]) {
      const f = requiredHeaders(without(id));
      assert.equal(f?.code, 400, `missing header id ${id}`);
      assert.equal(f?.reply, false, `missing header id ${id}`);
    }
  });

  it('400 naming the first duplicate, in the order To, From, CSeq, Call-Id', () => {
    assert.equal(requiredHeaders(withHeaderIds([H.FROM, H.TO]))?.reason, 'Duplicate To header');
    assert.equal(requiredHeaders(withHeaderIds([H.CSEQ, H.FROM]))?.reason, 'Duplicate From header');
    assert.equal(requiredHeaders(withHeaderIds([H.CALL_ID, H.CSEQ]))?.reason, 'Duplicate CSeq header');
    assert.equal(requiredHeaders(withHeaderIds([H.OTHER, H.CALL_ID]))?.reason, 'Duplicate Call-Id header');
  });

  it('a missing header wins over a duplicate one', () => {
    const msg = withHeaderIds([H.TO, H.OTHER]);
    msg.hdr[msg.findHeader(H.CSEQ) * HS] = H.OTHER;
    assert.equal(requiredHeaders(msg)?.reply, false);
  });
});
