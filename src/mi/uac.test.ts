import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TEST_LISTENER } from '../modules/testing/fake_context.ts';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { ClientHandler } from '../transaction/transaction.ts';
import { MiError } from './command.ts';
import { parseHeaderLines, sendUacRequest, type UacPort } from './uac.ts';

function port(answer: (req: SipMessage, h: ClientHandler) => void): {
  port: UacPort;
  sent: Buffer[];
  acks: Buffer[];
} {
  const sent: Buffer[] = [];
  const acks: Buffer[] = [];
  return {
    sent,
    acks,
    port: {
      transport: { selectListener: () => TEST_LISTENER, send: (d) => void acks.push(d) },
      transactions: {
        sendRequest: (data, req, _dest, h) => {
          sent.push(data);
          setImmediate(() => answer(req, h));
          return undefined;
        },
      },
      resolver: { resolve: (hop) => ({ protocol: hop.protocol, address: '127.0.0.1', port: hop.port }) },
    },
  };
}

function reply(req: SipMessage, status: number, reason: string): SipMessage {
  const text = `SIP/2.0 ${status} ${reason}\r\nVia: ${req.topVia.raw}\r\nFrom: ${req.getHeader('From')}\r\nTo: ${req.getHeader('To')};tag=x1\r\nCall-ID: ${req.callId}\r\nCSeq: ${req.cseq} ${req.method}\r\nContent-Length: 0\r\n\r\n`;
  const m = parseMessage(Buffer.from(text));
  if (isParseError(m)) throw new Error(m.phrase);
  return m;
}

describe('t_uac_dlg', () => {
  it('builds the request from SER-style header lines and returns the final status', async () => {
    const p = port((req, h) => h.onFinal(reply(req, 200, 'OK'), undefined as never));
    const r = await sendUacRequest(p.port, {
      method: 'message',
      ruri: 'sip:bob@127.0.0.1:5090',
      headers: 'From: sip:alice@example.com\nTo: sip:bob@example.com\nContent-Type: text/plain\nX-Extra: 1',
      body: 'hi',
    });
    assert.equal(r.Status, '200 OK');
    const text = p.sent[0]!.toString();
    assert.match(
      text,
      /^MESSAGE sip:bob@127\.0\.0\.1:5090 SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:5060;branch=z9hG4bK\S+;rport\r\n/,
    );
    assert.match(text, /\r\nFrom: sip:alice@example\.com;tag=\w+\r\n/);
    assert.match(text, /\r\nCSeq: 1 MESSAGE\r\n/);
    assert.match(text, /\r\nX-Extra: 1\r\n/);
    assert.match(text, /\r\nContent-Type: text\/plain\r\n/);
    assert.match(text, /\r\n\r\nhi$/);
  });

  it('ACKs a 2xx to INVITE; 408 on timeout', async () => {
    const ok = port((req, h) => h.onFinal(reply(req, 200, 'OK'), undefined as never));
    await sendUacRequest(ok.port, {
      method: 'INVITE',
      ruri: 'sip:b@127.0.0.1',
      headers: ['From: <sip:a@x>', 'To: <sip:b@x>'],
    });
    assert.match(ok.acks[0]!.toString(), /^ACK sip:b@127\.0\.0\.1 SIP\/2\.0\r\n/);
    const late = port((_req, h) => h.onTimeout(undefined as never));
    assert.deepEqual(
      await sendUacRequest(late.port, {
        method: 'OPTIONS',
        ruri: 'sip:b@127.0.0.1',
        headers: { From: 'sip:a@x', To: 'sip:b@x' },
      }),
      {
        Status: '408 Request Timeout',
      },
    );
  });

  it('refuses bad input with 400', async () => {
    const p = port(() => undefined);
    const bad = async (params: Record<string, unknown>): Promise<number> => {
      try {
        await sendUacRequest(p.port, params);
        return 0;
      } catch (e) {
        return e instanceof MiError ? e.code : -1;
      }
    };
    assert.equal(await bad({ method: 'ACK', ruri: 'sip:b@x', headers: 'From: a\nTo: b' }), 400);
    assert.equal(await bad({ method: 'OPTIONS', ruri: 'sip:b@x', headers: 'To: b' }), 400);
    assert.equal(await bad({ method: 'OPTIONS', ruri: 'tel:123', headers: 'From: a\nTo: b' }), 400);
    assert.throws(() => parseHeaderLines('no colon here'), MiError);
    assert.deepEqual(parseHeaderLines('A: 1\n  folded\nB:2\n.'), [
      ['A', '1 folded'],
      ['B', '2'],
    ]);
  });
});
