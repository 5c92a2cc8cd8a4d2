import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import type { MiError } from '../../mi/command.ts';
import { isParseError } from '../../sip/errors.ts';
import type { SipMessage } from '../../sip/message.ts';
import { parseMessage } from '../../sip/parse_message.ts';
import { fakeContext, request, TEST_LISTENER } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { dialogFromResponse, setUac, Uac, type UacPort } from './client.ts';
import { clickToDial } from './ctd.ts';
import { ownDialogs } from './own_dialogs.ts';

type Answer = (req: SipMessage) => string | undefined;

/** A port whose transaction layer answers each request with `answer(req)` (undefined: timeout). */
function fakePort(answer: Answer): { port: UacPort; sent: SipMessage[]; acks: string[] } {
  const sent: SipMessage[] = [];
  const acks: string[] = [];
  return {
    sent,
    acks,
    port: {
      transport: { selectListener: () => TEST_LISTENER, send: (d) => void acks.push(d.toString()) },
      transactions: {
        sendRequest: (_data, req, _dest, h) => {
          sent.push(req);
          setImmediate(() => {
            const text = answer(req);
            if (text === undefined) return h.onTimeout(undefined);
            const m = parseMessage(Buffer.from(text));
            if (isParseError(m)) throw new Error(m.phrase);
            h.onFinal(m, undefined);
          });
          return { cancel() {} };
        },
      },
      resolver: { resolve: (hop) => ({ protocol: hop.protocol, address: '127.0.0.1', port: hop.port }) },
    },
  };
}

function reply(req: SipMessage, status: string, headers: string[] = []): string {
  return [
    `SIP/2.0 ${status}`,
    `Via: ${req.topVia.raw}`,
    `From: ${req.getHeader('From')}`,
    `To: ${req.getHeader('To')}${req.toTag === undefined ? ';tag=callee1' : ''}`,
    `Call-ID: ${req.callId}`,
    `CSeq: ${req.cseq} ${req.method}`,
    ...headers,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

afterEach(() => setUac(undefined));

describe('UAC', () => {
  it('answers a 407 with the credentials of its realm (new CSeq, same Call-ID and From tag)', async () => {
    const f = fakePort((req) =>
      req.getHeader('Proxy-Authorization') === undefined
        ? reply(req, '407 Proxy Authentication Required', [
            'Proxy-Authenticate: Digest realm="r1", nonce="n1", qop="auth,auth-int", opaque="o1"',
          ])
        : reply(req, '200 OK'),
    );
    const uac = new Uac(f.port, [
      { realm: 'other', username: 'x', password: 'y' },
      { realm: 'r1', username: 'alice', password: 'pw' },
    ]);
    const out = await uac.send({
      method: 'MESSAGE',
      ruri: 'sip:bob@127.0.0.1:5090',
      from: '<sip:a@x>',
      to: '<sip:b@x>',
    });
    assert.equal(out.status, 200);
    assert.equal(f.sent.length, 2);
    const [first, second] = f.sent as [SipMessage, SipMessage];
    assert.equal(second.callId, first.callId);
    assert.equal(second.fromTag, first.fromTag);
    assert.equal(second.cseq, first.cseq + 1);
    const auth = second.getHeader('Proxy-Authorization')!;
    const p = (n: string): string => new RegExp(`${n}="?([^",]*)`).exec(auth)?.[1] ?? '';
    const expected = md5(
      `${md5('alice:r1:pw')}:n1:${p('nc')}:${p('cnonce')}:auth:${md5('MESSAGE:sip:bob@127.0.0.1:5090')}`,
    );
    assert.equal(p('response'), expected);
    assert.equal(p('opaque'), 'o1');
    assert.equal(uac.stats.auth_retries, 1);
  });

  it('gives up on a challenge it has no credentials for, and on a second challenge of the same realm', async () => {
    const f = fakePort((req) =>
      reply(req, '401 Unauthorized', ['WWW-Authenticate: Digest realm="r1", nonce="n1"']),
    );
    const none = await new Uac(f.port).send({
      method: 'OPTIONS',
      ruri: 'sip:b@127.0.0.1',
      from: '<sip:a@x>',
      to: '<sip:b@x>',
    });
    assert.equal(none.status, 401);
    assert.equal(f.sent.length, 1);
    const once = await new Uac(f.port, [{ realm: '*', username: 'a', password: 'b' }]).send({
      method: 'OPTIONS',
      ruri: 'sip:b@127.0.0.1',
      from: '<sip:a@x>',
      to: '<sip:b@x>',
    });
    assert.equal(once.status, 401);
    assert.equal(f.sent.length, 3, 'one retry, then the 401 is the outcome');
  });

  it('builds the dialog of a 2xx: remote target, reversed route set; in-dialog requests use them', async () => {
    const f = fakePort((req) =>
      reply(req, '200 OK', [
        'Contact: <sip:bob@192.0.2.9:5070>',
        'Record-Route: <sip:p2.example.com;lr>',
        'Record-Route: <sip:p1.example.com;lr>',
      ]),
    );
    const uac = new Uac(f.port);
    const out = await uac.send({
      method: 'INVITE',
      ruri: 'sip:bob@example.com',
      from: '<sip:a@x>',
      to: '<sip:bob@x>',
    });
    const d = dialogFromResponse(out)!;
    assert.equal(d.remoteTarget, 'sip:bob@192.0.2.9:5070');
    assert.deepEqual(d.routeSet, ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    uac.sendAck(d, out);
    await new Promise((r) => setImmediate(r));
    assert.match(f.acks[0]!, /^ACK sip:bob@192\.0\.2\.9:5070 SIP\/2\.0\r\n/);
    assert.match(f.acks[0]!, /\r\nCSeq: 1 ACK\r\n/);
    await uac.inDialog(d, 'BYE');
    const bye = f.sent[1]!;
    assert.equal(bye.ruri, 'sip:bob@192.0.2.9:5070');
    assert.deepEqual(bye.getHeaders('Route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    assert.equal(bye.cseq, 2);
    assert.match(bye.getHeader('To') ?? '', /;tag=callee1/);
  });
});

describe('click-to-dial', () => {
  const answered =
    (status: (req: SipMessage) => string): Answer =>
    (req) =>
      req.method === 'INVITE' ? reply(req, '200 OK', ['Contact: <sip:caller@192.0.2.5:5062>']) : status(req);

  it('INVITE on hold → ACK → REFER with Refer-To and Referred-By → BYE', async () => {
    const f = fakePort(answered((req) => reply(req, req.method === 'REFER' ? '202 Accepted' : '200 OK')));
    const r = await clickToDial(new Uac(f.port), {
      caller: 'sip:caller@192.0.2.5:5062',
      callee: '<sip:callee@192.0.2.6>',
    });
    assert.deepEqual(
      r.steps.map((s) => `${s.step}: ${s.status}`),
      ['invite: 200 OK', 'ack: sent', 'refer: 202 Accepted', 'bye: 200 OK'],
    );
    const [invite, refer, bye] = f.sent as [SipMessage, SipMessage, SipMessage];
    assert.match(invite.body.toString(), /\r\nc=IN IP4 0\.0\.0\.0\r\n/);
    assert.match(invite.body.toString(), /\r\na=sendonly\r\n/);
    assert.equal(refer.getHeader('Refer-To'), '<sip:callee@192.0.2.6>');
    assert.equal(refer.getHeader('Referred-By'), '<sip:ctd@127.0.0.1:5060>');
    assert.equal(refer.ruri, 'sip:caller@192.0.2.5:5062');
    assert.equal(bye.method, 'BYE');
    assert.ok(refer.cseq < bye.cseq);
  });

  it('a refused REFER: BYE, and the error names the step', async () => {
    const f = fakePort(answered((req) => reply(req, req.method === 'REFER' ? '603 Declined' : '200 OK')));
    await assert.rejects(
      clickToDial(new Uac(f.port), { caller: 'sip:caller@192.0.2.5', callee: 'sip:callee@192.0.2.6' }),
      (e: MiError) => e.code === 603 && /^ctd refer failed: 603 Declined \(bye: 200 OK\)$/.test(e.message),
    );
    assert.deepEqual(
      f.sent.map((m) => m.method),
      ['INVITE', 'REFER', 'BYE'],
    );
  });

  it('no answer: the INVITE step fails (408) and bad URIs are refused', async () => {
    const f = fakePort(() => undefined);
    await assert.rejects(
      clickToDial(new Uac(f.port), { caller: 'sip:caller@192.0.2.5', callee: 'sip:callee@192.0.2.6' }),
      (e: MiError) => e.code === 408 && /ctd invite failed: 408/.test(e.message),
    );
    await assert.rejects(
      clickToDial(new Uac(f.port), { caller: 'sip:caller@192.0.2.5', callee: 'callee\r\nX: y' }),
      (e: MiError) => e.code === 400,
    );
  });

  it('requests in our own dialogs (NOTIFY after REFER, BYE) are answered before the script', () => {
    const own = ownDialogs();
    const d = {
      callId: 'c1',
      localUri: '<sip:ctd@h>;tag=L',
      remoteUri: '<sip:caller@h>;tag=R',
      localTag: 'L',
      remoteTag: 'R',
      remoteTarget: 'sip:caller@h',
      routeSet: [],
      localCseq: 1,
      remoteCseq: 0,
    };
    own.add(d);
    const notify = parseMessage(
      Buffer.from(
        'NOTIFY sip:ctd@h SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKn1\r\nFrom: <sip:caller@h>;tag=R\r\nTo: <sip:ctd@h>;tag=L\r\nCall-ID: c1\r\nCSeq: 5 NOTIFY\r\nContent-Length: 0\r\n\r\n',
      ),
    ) as SipMessage;
    const sent: number[] = [];
    const tx = {
      key: 'k',
      request: notify,
      isInvite: false,
      lastStatus: 0,
      respond: (_b: Buffer, s: number) => void sent.push(s),
    };
    assert.equal(own.onRequest(notify, {} as never, tx, { transport: {} as never }), true);
    assert.deepEqual(sent, [200]);
    assert.equal(d.remoteCseq, 5);
    own.remove(d);
    assert.equal(own.onRequest(notify, {} as never, tx, { transport: {} as never }), false);
  });
});

describe('KSR.uac', () => {
  it('uac_req_send sends what $uac_req describes; send_request waits for the final', async () => {
    const f = fakePort((req) => reply(req, req.method === 'OPTIONS' ? '404 Not Found' : '202 Accepted'));
    setUac(new Uac(f.port));
    const ctx = fakeContext(request(), { kind: 'request' });
    const K = ksr(ctx) as unknown as {
      pv: { sets(n: string, v: string): void };
      uac: {
        uac_req_send(): Promise<number>;
        send_request(r: Record<string, string>): Promise<{ status: number; reason: string }>;
      };
    };
    K.pv.sets('$uac_req(method)', 'MESSAGE');
    K.pv.sets('$uac_req(ruri)', 'sip:bob@127.0.0.1:5090');
    K.pv.sets('$uac_req(furi)', 'sip:alice@example.com');
    K.pv.sets('$uac_req(hdrs)', 'X-Test: 1\r\nContent-Type: text/plain\r\n');
    K.pv.sets('$uac_req(body)', 'hello');
    assert.equal(await K.uac.uac_req_send(), 1);
    await new Promise((r) => setTimeout(r, 10));
    const m = f.sent[0]!;
    assert.equal(m.method, 'MESSAGE');
    assert.equal(m.getHeader('X-Test'), '1');
    assert.equal(m.getHeader('Content-Type'), 'text/plain');
    assert.equal(m.body.toString(), 'hello');
    assert.match(m.getHeader('From') ?? '', /^<sip:alice@example\.com>;tag=/);
    const r = await K.uac.send_request({
      method: 'OPTIONS',
      ruri: 'sip:bob@127.0.0.1:5090',
      from: 'sip:a@x',
      to: 'sip:bob@x',
    });
    assert.deepEqual(r, { status: 404, reason: 'Not Found' });
  });
});
