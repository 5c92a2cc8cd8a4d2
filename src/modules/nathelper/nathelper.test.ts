import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryStorage } from '../../storage/memory.ts';
import { fakeContext, request, response } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { LocationService, setLocationService } from '../usrloc/service.ts';
import { isPrivateAddress, mayHoldPrivateAddress } from './nat.ts';
import { NATHELPER_DEFAULTS } from './params.ts';
import { NatPinger } from './pinger.ts';

const NATED = request({
  via: 'SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;rport',
  headers: ['Contact: "Al" <sip:alice@192.168.1.20:5060>;expires=60'],
});
const SRC = { address: '203.0.113.7', port: 40123 };

function contactOf(text: string): string | undefined {
  return text.split('\r\n').find((l) => l.startsWith('Contact:'));
}

describe('nathelper', () => {
  it('isPrivateAddress: RFC 1918, RFC 6598 and ULA only', () => {
    for (const a of [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '100.64.0.1',
      'fd00::1',
      '[fc00::2]',
    ])
      assert.equal(isPrivateAddress(a), true, a);
    for (const a of ['172.32.0.1', '8.8.8.8', '127.0.0.1', '100.128.0.1', '2001:db8::1', 'example.com'])
      assert.equal(isPrivateAddress(a), false, a);
  });

  it('mayHoldPrivateAddress: true for every private address in a Contact (the parse-skipping filter)', () => {
    const privates = [
      '10.1.2.3',
      '010.0.0.1',
      '172.16.0.1',
      '192.168.0.1',
      '100.64.0.1',
      'fd00::1',
      'FC00::2',
    ];
    for (const a of privates) {
      const host = a.includes(':') ? `[${a}]` : a;
      assert.equal(mayHoldPrivateAddress(`"Al" <sip:alice@${host}:5060>;expires=60`), true, a);
    }
    for (const c of ['<sip:a@203.0.113.7:40123>', '<sip:sipp@127.0.0.1:5061>', '<sip:b@[2001:db8::1]>', '*'])
      assert.equal(mayHoldPrivateAddress(c), false, c);
  });

  it('nat_uac_test(1): a private Contact in a later Contact line or list entry is still seen', () => {
    const second = fakeContext(
      request({ headers: ['Contact: <sip:a@203.0.113.7>', 'Contact: <sip:b@10.0.0.9>'] }),
      { source: SRC },
    );
    // Only the first Contact counts (as in Kamailio): public here.
    assert.equal(ksr(second).nathelper.nat_uac_test(1), -1);
    const firstPrivate = fakeContext(
      request({ headers: ['Contact: <sip:b@10.0.0.9>, <sip:a@203.0.113.7>'] }),
      { source: SRC },
    );
    assert.equal(ksr(firstPrivate).nathelper.nat_uac_test(1), 1);
    const none = fakeContext(request(), { source: SRC });
    assert.equal(ksr(none).nathelper.nat_uac_test(1), -1, 'no Contact');
    const pub = fakeContext(request({ headers: ['Contact: <sip:a@203.0.113.7>'] }), { source: SRC });
    assert.equal(ksr(pub).nathelper.nat_uac_test(1 | 2 | 16), 1, 'the Via tests still run');
  });

  it('nat_uac_test: each flag bit tests its own thing', () => {
    const ctx = fakeContext(NATED, { source: SRC });
    const K = ksr(ctx).nathelper;
    assert.equal(K.nat_uac_test(1), 1, 'private Contact');
    assert.equal(K.nat_uac_test(2), 1, 'Via is not the source');
    assert.equal(K.nat_uac_test(4), 1, 'private Via');
    assert.equal(K.nat_uac_test(16), 1, 'source port differs');
    assert.equal(K.nat_uac_test(64), -1, 'not WebSocket');
    const direct = fakeContext(
      request({
        via: 'SIP/2.0/UDP 203.0.113.7:40123;branch=z9hG4bK2',
        headers: ['Contact: <sip:a@203.0.113.7:40123>'],
      }),
      { source: SRC },
    );
    assert.equal(ksr(direct).nathelper.nat_uac_test(1 | 2 | 4 | 16 | 32 | 128), -1);
    const ws = fakeContext(request({ via: 'SIP/2.0/WSS x.invalid;branch=z9hG4bK3' }), {
      source: { ...SRC, protocol: 'wss' },
    });
    assert.equal(ksr(ws).nathelper.nat_uac_test(64), 1);
  });

  it('fix_nated_contact rewrites host:port to the source, keeping name and parameters', () => {
    const ctx = fakeContext(NATED, { source: SRC });
    assert.equal(ksr(ctx).nathelper.fix_nated_contact(), 1);
    assert.equal(contactOf(ctx.msg.toString()), 'Contact: "Al" <sip:alice@203.0.113.7:40123>;expires=60');
  });

  it('fix_nated_register stores the source in the received AVP', () => {
    const ctx = fakeContext(request({ method: 'REGISTER', ruri: 'sip:example.com' }), {
      source: { ...SRC, protocol: 'tcp' },
    });
    assert.equal(ksr(ctx).nathelper.fix_nated_register(), 1);
    assert.deepEqual(ctx.avps.get('RECEIVED'), ['sip:203.0.113.7:40123;transport=tcp']);
    assert.equal(ksr(fakeContext(NATED)).nathelper.fix_nated_register(), -1, 'not a REGISTER');
  });

  it('set_contact_alias adds ;alias=ip~port~proto once; handle_ruri_alias turns it into $du', () => {
    const ctx = fakeContext(NATED, { source: SRC });
    assert.equal(ksr(ctx).nathelper.set_contact_alias(), 1);
    const c = contactOf(ctx.msg.toString());
    assert.equal(c, 'Contact: "Al" <sip:alice@192.168.1.20:5060;alias=203.0.113.7~40123~1>;expires=60');
    const inDialog = fakeContext(
      request({ method: 'BYE', ruri: 'sip:alice@192.168.1.20:5060;alias=203.0.113.7~40123~6' }),
    );
    assert.equal(ksr(inDialog).nathelper.handle_ruri_alias(), 1);
    assert.equal(inDialog.dstUri, 'sip:203.0.113.7:40123;transport=wss');
    assert.equal(inDialog.msg.ruri, 'sip:alice@192.168.1.20:5060');
    assert.equal(ksr(fakeContext(NATED)).nathelper.handle_ruri_alias(), 2, 'no alias');
    const bad = fakeContext(request({ ruri: 'sip:a@h;alias=nonsense' }));
    assert.equal(ksr(bad).nathelper.handle_ruri_alias(), -1);
  });

  it('set_contact_alias leaves a Contact that already is the source alone', () => {
    const ctx = fakeContext(request({ headers: ['Contact: <sip:a@203.0.113.7:40123>'] }), { source: SRC });
    assert.equal(ksr(ctx).nathelper.set_contact_alias(), 2);
    assert.equal(ctx.msg.hasEdits, false);
  });

  it('add_contact_alias with an explicit address, and refuses a bad one', () => {
    const ctx = fakeContext(NATED, { source: SRC });
    assert.equal(ksr(ctx).nathelper.add_contact_alias('198.51.100.1', 5070, 'tcp'), 1);
    assert.match(contactOf(ctx.msg.toString()) ?? '', /;alias=198\.51\.100\.1~5070~2>/);
    assert.equal(ksr(fakeContext(NATED)).nathelper.add_contact_alias('nope', 1, 'udp'), -1);
  });

  it('set_contact_alias on a reply uses where the reply came from', () => {
    const ctx = fakeContext(response(200, 'OK', ['Contact: <sip:bob@10.0.0.5:5060>']), {
      kind: 'onreply',
      request: request(),
    });
    Object.assign(ctx, { replySource: () => ({ protocol: 'udp', address: '198.51.100.9', port: 6000 }) });
    assert.equal(ksr(ctx).nathelper.set_contact_alias(), 1);
    assert.match(contactOf(ctx.msg.toString()) ?? '', /;alias=198\.51\.100\.9~6000~1>/);
  });

  it('the pinger sends OPTIONS to bindings with the sipping flag, at their received address', async () => {
    const service = new LocationService(memoryStorage());
    setLocationService(service);
    const now = Date.now();
    const base = { q: 1, callId: 'c', cseq: 1, path: [], lastModified: now, expires: now + 60_000 };
    await service.storage.location.update('alice', {
      put: [
        {
          ...base,
          aor: 'alice',
          contact: 'sip:alice@192.168.1.20',
          received: 'sip:203.0.113.7:40123;transport=udp',
          flags: 1 << 7,
        },
        { ...base, aor: 'alice', contact: 'sip:alice@198.51.100.2', flags: 1 << 6 },
      ],
      remove: [],
    });
    const sent: Array<{ data: string; dest: object }> = [];
    const listener = {
      id: 1,
      protocol: 'udp' as const,
      address: '0.0.0.0',
      port: 5060,
      family: 4 as const,
      advertisedHost: '192.0.2.1',
      advertisedPort: 5060,
    };
    const pinger = new NatPinger(
      service,
      { selectListener: () => listener, send: (data, dest) => sent.push({ data: data.toString(), dest }) },
      { ...NATHELPER_DEFAULTS, natping_interval: 1 },
    );
    assert.equal(await pinger.sweep(), 1);
    assert.deepEqual(sent[0].dest, { protocol: 'udp', address: '203.0.113.7', port: 40123 });
    assert.match(
      sent[0].data,
      /^OPTIONS sip:alice@192\.168\.1\.20 SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP 192\.0\.2\.1:5060;branch=z9hG4bK/,
    );
    assert.match(sent[0].data, /\r\nFrom: <sip:pinger@junction\.invalid>;tag=/);
    setLocationService(undefined);
  });
});
