import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { memoryStorage } from '../../storage/memory.ts';
import type { Storage } from '../../storage/types.ts';
import { FakeContext, type FakeContextOptions, request } from '../testing/fake_context.ts';
import { LocationService, setLocationService } from '../usrloc/service.ts';
import { setRegistrarParams } from './params.ts';
import { groupByQ, lookup, nextContacts, registered, regSendReply, save, unregister } from './registrar.ts';

let storage: Storage;
let svc: LocationService;

beforeEach(() => {
  storage = memoryStorage();
  svc = new LocationService(storage);
  setLocationService(svc);
  setRegistrarParams({});
});
afterEach(() => setLocationService(undefined));

interface Reg {
  user?: string;
  contacts?: string[];
  expires?: number;
  callId?: string;
  cseq?: number;
  extra?: string[];
}

function register(r: Reg = {}, opts: FakeContextOptions = {}): FakeContext {
  const user = r.user ?? 'alice';
  const headers = [...(r.contacts ?? ['<sip:alice@192.0.2.10:5060>']).map((c) => `Contact: ${c}`)];
  if (r.expires !== undefined) headers.push(`Expires: ${r.expires}`);
  headers.push(...(r.extra ?? []));
  const text = request({
    method: 'REGISTER',
    ruri: 'sip:example.com',
    to: `<sip:${user}@example.com>`,
    from: `<sip:${user}@example.com>;tag=abc`,
    callId: r.callId ?? 'reg-1',
    cseq: r.cseq ?? 1,
    headers,
  });
  return new FakeContext(text, opts);
}

const contactsOf = (ctx: FakeContext, i = 0): string[] =>
  ctx.replies[i].headers.filter((h) => h.startsWith('Contact:')).map((h) => h.slice(9));

describe('registrar.save', () => {
  it('adds a binding and lists it in the 200 with its remaining expiry', async () => {
    const ctx = register({ expires: 600 });
    assert.equal(await save(ctx, 'location'), 1);
    assert.equal(ctx.replies[0].code, 200);
    assert.deepEqual(contactsOf(ctx), ['<sip:alice@192.0.2.10:5060>;expires=600']);
    const [b] = await storage.location.get('alice');
    assert.equal(b.contact, 'sip:alice@192.0.2.10:5060');
    // sent from where its Via says: no NAT, no received
    assert.equal(b.received, undefined);
    assert.equal(b.socket, 'udp:127.0.0.1:5060');
    assert.equal(b.callId, 'reg-1');
    assert.equal(svc.stats.accepted_regs, 1);
    // the reply headers do not leak into later replies
    assert.deepEqual(ctx.replyHeaders, []);
  });

  it('expires parameter wins over Expires header; default_expires applies otherwise; max_expires caps', async () => {
    setRegistrarParams({ max_expires: 1000, default_expires: 500 });
    const ctx = register({
      contacts: ['<sip:a@h1>;expires=120', '<sip:a@h2>', '<sip:a@h3>;expires=99999'],
    });
    assert.equal(await save(ctx, 'location'), 1);
    assert.deepEqual(contactsOf(ctx).sort(), [
      '<sip:a@h1>;expires=120',
      '<sip:a@h2>;expires=500',
      '<sip:a@h3>;expires=1000',
    ]);
  });

  it('refreshes (2), lists every binding, and removes with expires 0 (3)', async () => {
    await save(register({ contacts: ['<sip:a@h1>', '<sip:a@h2>;q=0.5'], expires: 300 }), 'location');
    const refresh = register({ contacts: ['<sip:a@h1>'], expires: 900, cseq: 2 });
    assert.equal(await save(refresh, 'location'), 2);
    assert.deepEqual(contactsOf(refresh), ['<sip:a@h1>;expires=900', '<sip:a@h2>;expires=300;q=0.5']);
    const rm = register({ contacts: ['<sip:a@h2>'], expires: 0, cseq: 3 });
    assert.equal(await save(rm, 'location'), 3);
    assert.deepEqual(contactsOf(rm), ['<sip:a@h1>;expires=900']);
  });

  it('a REGISTER without Contact is a query (4)', async () => {
    await save(register({ expires: 300 }), 'location');
    const q = new FakeContext(
      request({
        method: 'REGISTER',
        ruri: 'sip:example.com',
        to: '<sip:alice@example.com>',
        callId: 'other',
        cseq: 9,
      }),
    );
    assert.equal(await save(q, 'location'), 4);
    assert.equal(contactsOf(q).length, 1);
  });

  it('Contact: * with Expires: 0 removes every binding; * without Expires: 0 is a 400', async () => {
    await save(register({ contacts: ['<sip:a@h1>', '<sip:a@h2>'] }), 'location');
    const bad = register({ contacts: ['*'], expires: 60, cseq: 2 });
    assert.equal(await save(bad, 'location'), -1);
    assert.equal(bad.replies[0].code, 400);
    const star = register({ contacts: ['*'], expires: 0, cseq: 3 });
    assert.equal(await save(star, 'location'), 3);
    assert.equal(star.replies[0].code, 200);
    assert.deepEqual(contactsOf(star), []);
    assert.deepEqual(await storage.location.get('alice'), []);
  });

  it('423 with Min-Expires for a too brief expiry', async () => {
    const ctx = register({ expires: 10 });
    assert.equal(await save(ctx, 'location'), -1);
    assert.equal(ctx.replies[0].code, 423);
    assert.deepEqual(ctx.replies[0].headers, ['Min-Expires: 60']);
    assert.equal(svc.stats.rejected_regs, 1);
    assert.deepEqual(await storage.location.get('alice'), []);
  });

  it('refuses an out-of-order CSeq for the same Call-ID; a new Call-ID replaces', async () => {
    await save(register({ cseq: 5, expires: 300 }), 'location');
    const old = register({ cseq: 4, expires: 600 });
    assert.equal(await save(old, 'location'), -1);
    assert.equal(old.replies[0].code, 500);
    assert.match(old.replies[0].reason, /Out of order/);
    // same CSeq again (a retransmission through a new transaction): nothing changes, 200
    const again = register({ cseq: 5, expires: 900 });
    assert.equal(await save(again, 'location'), 2);
    assert.deepEqual(contactsOf(again), ['<sip:alice@192.0.2.10:5060>;expires=300']);
    const other = register({ callId: 'reg-2', cseq: 1, expires: 700 });
    assert.equal(await save(other, 'location'), 2);
    assert.deepEqual(contactsOf(other), ['<sip:alice@192.0.2.10:5060>;expires=700']);
  });

  it('stores Path, User-Agent, instance and reg-id, and echoes Path in the 200', async () => {
    const ctx = register({
      contacts: ['<sip:alice@10.0.0.5:5060;transport=tcp>;+sip.instance="<urn:uuid:1234>";reg-id=1'],
      extra: ['Path: <sip:edge.example.net;lr>', 'User-Agent: Phone/2.0'],
    });
    assert.equal(await save(ctx, 'location'), 1);
    const [b] = await storage.location.get('alice');
    assert.deepEqual(b.path, ['<sip:edge.example.net;lr>']);
    assert.equal(b.userAgent, 'Phone/2.0');
    assert.equal(b.instance, '<urn:uuid:1234>');
    assert.equal(b.regId, 1);
    assert.ok(ctx.replies[0].headers.includes('Path: <sip:edge.example.net;lr>'));
    assert.match(contactsOf(ctx)[0], /\+sip\.instance="<urn:uuid:1234>";reg-id=1$/);
    // the same instance from a new address replaces the binding (RFC 5626)
    const moved = register({
      contacts: ['<sip:alice@10.0.0.6:5060;transport=tcp>;+sip.instance="<urn:uuid:1234>";reg-id=1'],
      cseq: 2,
    });
    assert.equal(await save(moved, 'location'), 2);
    const all = await storage.location.get('alice');
    assert.deepEqual(
      all.map((x) => x.contact),
      ['sip:alice@10.0.0.6:5060;transport=tcp'],
    );
  });

  it('max_contacts refuses a REGISTER that would exceed it (503)', async () => {
    setRegistrarParams({ max_contacts: 1 });
    await save(register({ contacts: ['<sip:a@h1>'] }), 'location');
    const ctx = register({ contacts: ['<sip:a@h2>'], cseq: 2 });
    assert.equal(await save(ctx, 'location'), -1);
    assert.equal(ctx.replies[0].code, 503);
  });

  it('flag 0x04 keeps one contact per AOR; flag 0x02 sends no reply', async () => {
    await save(register({ contacts: ['<sip:a@h1>'] }), 'location');
    const ctx = register({ contacts: ['<sip:a@h2>'], cseq: 2 });
    assert.equal(await save(ctx, 'location', 0x04 | 0x02), 1);
    assert.equal(ctx.replies.length, 0);
    assert.deepEqual(
      (await storage.location.get('alice')).map((b) => b.contact),
      ['sip:a@h2'],
    );
  });

  it('flag 0x02 holds the reply back: reg_send_reply() sends it (with the bindings only with 0x10)', async () => {
    const plain = register({ contacts: ['<sip:a@h1>'] });
    assert.equal(await regSendReply(plain), -1);
    assert.equal(await save(plain, 'location', 0x02), 1);
    assert.equal(plain.replies.length, 0);
    assert.equal(await regSendReply(plain), 1);
    assert.equal(plain.replies[0].code, 200);
    assert.deepEqual(contactsOf(plain), []);
    assert.equal(await regSendReply(plain), -1, 'sent once');

    const prepared = register({ contacts: ['<sip:a@h2>'], cseq: 2 });
    assert.equal(await save(prepared, 'location', 0x02 | 0x10), 1);
    assert.equal(prepared.replies.length, 0);
    assert.equal(await regSendReply(prepared), 1);
    assert.deepEqual(contactsOf(prepared).sort(), ['<sip:a@h1>;expires=3600', '<sip:a@h2>;expires=3600']);

    // An error is held back too (Kamailio: reg_send_reply sends save's error reply).
    const brief = register({ contacts: ['<sip:a@h3>;expires=5'], cseq: 3 });
    assert.equal(await save(brief, 'location', 0x02), -1);
    assert.equal(brief.replies.length, 0);
    assert.equal(await regSendReply(brief), 1);
    assert.equal(brief.replies[0].code, 423);
    assert.ok(brief.replies[0].headers.includes('Min-Expires: 60'));
  });

  it('flag 0x01 writes to the memory cache only (the update says so to the backend)', async () => {
    const seen: Array<boolean | undefined> = [];
    const real = storage.location.update.bind(storage.location);
    storage.location.update = async (aor, change) => {
      seen.push(change.memoryOnly);
      return real(aor, change);
    };
    await save(register({ contacts: ['<sip:a@h1>'] }), 'location', 0x01);
    await save(register({ contacts: ['<sip:a@h2>'], cseq: 2 }), 'location');
    assert.deepEqual(seen, [true, undefined]);
    assert.equal((await storage.location.get('alice')).length, 2);
  });

  it('expires_range / default_expires_range lower expiries at random; flag 0x08 turns that off', async () => {
    setRegistrarParams({ expires_range: 50, default_expires_range: 20, max_expires: 3600 });
    const asked: number[] = [];
    const dflt: number[] = [];
    for (let i = 0; i < 40; i++) {
      const a = register({ user: `r${i}`, expires: 1000 });
      await save(a, 'location');
      asked.push(Number(/expires=(\d+)/.exec(contactsOf(a)[0])?.[1]));
      const d = register({ user: `d${i}` });
      await save(d, 'location');
      dflt.push(Number(/expires=(\d+)/.exec(contactsOf(d)[0])?.[1]));
    }
    assert.ok(
      asked.every((e) => e >= 500 && e <= 1000),
      asked.join(','),
    );
    assert.ok(new Set(asked).size > 5, 'randomized');
    assert.ok(
      dflt.every((e) => e >= 2880 && e <= 3600),
      dflt.join(','),
    );
    assert.ok(new Set(dflt).size > 5, 'randomized');
    const fixed = register({ user: 'fixed', expires: 1000 });
    await save(fixed, 'location', 0x08);
    assert.deepEqual(contactsOf(fixed), ['<sip:alice@192.0.2.10:5060>;expires=1000']);
    // Never randomized under min_expires.
    const low = register({ user: 'low', expires: 61 });
    await save(low, 'location');
    assert.ok(Number(/expires=(\d+)/.exec(contactsOf(low)[0])?.[1]) >= 60);
  });

  it('stores the methods a contact accepts: its methods parameter, else the Allow header, else all', async () => {
    await save(
      register({
        contacts: ['<sip:a@h1>;methods="INVITE,bye"', '<sip:a@h2>'],
        extra: ['Allow: INVITE, ACK, CANCEL, BYE', 'Allow: OPTIONS'],
      }),
      'location',
    );
    await save(register({ user: 'bob', contacts: ['<sip:b@h1>'] }), 'location');
    const got = new Map((await storage.location.get('alice')).map((b) => [b.contact, b.methods]));
    assert.deepEqual(got.get('sip:a@h1'), ['INVITE', 'BYE']);
    assert.deepEqual(got.get('sip:a@h2'), ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS']);
    assert.equal((await storage.location.get('bob'))[0].methods, undefined);
  });

  it('use_domain keys AORs by user@domain', async () => {
    setRegistrarParams({ use_domain: 1 });
    await save(register(), 'location');
    assert.equal((await storage.location.get('alice@example.com')).length, 1);
    assert.equal((await storage.location.get('alice')).length, 0);
  });

  it('a storage failure answers 500 with a reason and is counted; the next REGISTER works again', async () => {
    const real = storage.location.update.bind(storage.location);
    storage.location.update = async () => {
      throw new Error('disk on fire');
    };
    const ctx = register();
    assert.equal(await save(ctx, 'location'), -1);
    assert.equal(ctx.replies[0].code, 500);
    assert.match(ctx.replies[0].reason, /storage/);
    assert.equal(svc.stats.storage_errors, 1);
    storage.location.update = real;
    const ok = register({ cseq: 2 });
    assert.equal(await save(ok, 'location'), 1);
  });

  it('concurrent REGISTERs for one AOR are applied one after the other', async () => {
    const all = await Promise.all(
      [1, 2, 3, 4].map((i) => save(register({ contacts: [`<sip:a@h${i}>`], callId: `c${i}` }), 'location')),
    );
    assert.deepEqual(all, [1, 1, 1, 1]);
    assert.equal((await storage.location.get('alice')).length, 4);
  });
});

function invite(ruri = 'sip:alice@127.0.0.1'): FakeContext {
  return new FakeContext(request({ ruri }));
}

describe('registrar.lookup', () => {
  it('-1 for an unknown user', async () => {
    assert.equal(await lookup(invite(), 'location'), -1);
  });

  it('sets the R-URI to the contact and $du to the received address (NAT)', async () => {
    await save(
      register(
        { contacts: ['<sip:alice@192.168.1.20:5060>'] },
        { source: { address: '203.0.113.9', port: 40000 } },
      ),
      'location',
    );
    const ctx = invite();
    assert.equal(await lookup(ctx, 'location'), 1);
    assert.equal(ctx.msg.ruri, 'sip:alice@192.168.1.20:5060');
    assert.equal(ctx.dstUri, 'sip:203.0.113.9:40000;transport=udp');
    assert.deepEqual(ctx.branches, []);
  });

  it('over TCP the received address is always kept (calls reuse the connection)', async () => {
    await save(register({}, { source: { address: '192.0.2.10', port: 5060, protocol: 'tcp' } }), 'location');
    const ctx = invite();
    assert.equal(await lookup(ctx, 'location'), 1);
    assert.equal(ctx.dstUri, 'sip:192.0.2.10:5060;transport=tcp');
  });

  it('without NAT the contact itself is the destination (third-party registration)', async () => {
    await save(register({ contacts: ['<sip:bob@198.51.100.1:5070>'] }), 'location');
    const ctx = invite();
    assert.equal(await lookup(ctx, 'location'), 1);
    assert.equal(ctx.dstUri, undefined);
    assert.equal(ctx.msg.ruri, 'sip:bob@198.51.100.1:5070');
  });

  it('equal q forks in parallel; lower q waits for next_contacts (serial)', async () => {
    await save(
      register({
        contacts: ['<sip:a@h1>;q=0.5', '<sip:a@h2>;q=1.0', '<sip:a@h3>;q=1.0', '<sip:a@h4>;q=0.1'],
      }),
      'location',
    );
    const ctx = invite();
    assert.equal(await lookup(ctx, 'location'), 1);
    const first = ctx.msg.ruri;
    assert.ok(first === 'sip:a@h2' || first === 'sip:a@h3');
    assert.deepEqual(
      ctx.branches.map((b) => b.uri),
      [first === 'sip:a@h2' ? 'sip:a@h3' : 'sip:a@h2'],
    );
    ctx.branches.length = 0;
    assert.equal(nextContacts(ctx), 1);
    assert.equal(ctx.msg.ruri, 'sip:a@h1');
    assert.equal(nextContacts(ctx), 1);
    assert.equal(ctx.msg.ruri, 'sip:a@h4');
    assert.equal(nextContacts(ctx), -1);
  });

  it('method_filtering: contacts not accepting the method are skipped; none left is -2', async () => {
    await save(
      register({
        contacts: ['<sip:a@h1>;methods="MESSAGE"', '<sip:a@h2>;q=0.5'],
        extra: ['Allow: INVITE, ACK, BYE'],
      }),
      'location',
    );
    await save(
      register({ user: 'bob', contacts: ['<sip:b@h1>'], extra: ['Allow: INVITE, ACK, BYE'] }),
      'location',
    );
    // Off (Kamailio's default): every contact is used whatever it accepts.
    const off = new FakeContext(request({ method: 'MESSAGE', ruri: 'sip:bob@127.0.0.1' }));
    assert.equal(await lookup(off, 'location'), 1);
    setRegistrarParams({ method_filtering: 1 });
    const msg = new FakeContext(request({ method: 'MESSAGE', ruri: 'sip:bob@127.0.0.1' }));
    assert.equal(await lookup(msg, 'location'), -2);
    const inv = invite('sip:bob@127.0.0.1');
    assert.equal(await lookup(inv, 'location'), 1);
    // alice: the MESSAGE-only contact (q=1) is skipped for an INVITE, the q=0.5 one is used.
    const ainv = invite();
    assert.equal(await lookup(ainv, 'location'), 1);
    assert.equal(ainv.msg.ruri, 'sip:a@h2');
    assert.deepEqual(ainv.branches, []);
    const amsg = new FakeContext(request({ method: 'MESSAGE', ruri: 'sip:alice@127.0.0.1' }));
    assert.equal(await lookup(amsg, 'location'), 1);
    assert.equal(amsg.msg.ruri, 'sip:a@h1');
    // In-dialog requests (To tag) are not filtered (Kamailio: initial requests only).
    const inDialog = new FakeContext(
      request({ method: 'MESSAGE', ruri: 'sip:bob@127.0.0.1', to: '<sip:bob@example.com>;tag=x1' }),
    );
    assert.equal(await lookup(inDialog, 'location'), 1);
    assert.equal(await lookup(invite('sip:nobody@127.0.0.1'), 'location'), -1);
  });

  it('a Path becomes the route set of the branch', async () => {
    await save(
      register({ contacts: ['<sip:a@h1>', '<sip:a@h2>'], extra: ['Path: <sip:edge1;lr>'] }),
      'location',
    );
    const ctx = invite();
    assert.equal(await lookup(ctx, 'location'), 1);
    assert.deepEqual((ctx as unknown as { ruriPath: string[] }).ruriPath, ['<sip:edge1;lr>']);
    assert.equal(ctx.dstUri, undefined);
    assert.deepEqual(ctx.branches[0].path, ['<sip:edge1;lr>']);
  });

  it('expired bindings are not found; registered() and unregister()', async () => {
    await storage.location.update('bob', {
      put: [
        {
          aor: 'bob',
          contact: 'sip:b@h',
          expires: Date.now() - 1,
          q: 1,
          callId: 'x',
          cseq: 1,
          path: [],
          flags: 0,
          lastModified: 0,
        },
      ],
      remove: [],
    });
    assert.equal(await lookup(invite('sip:bob@127.0.0.1'), 'location'), -1);
    await save(register(), 'location');
    assert.equal(await registered(invite(), 'location'), 1);
    assert.equal(await unregister(invite(), 'location', 'sip:alice@example.com'), 1);
    assert.equal(await registered(invite(), 'location'), -1);
  });

  it('groupByQ orders groups by q, newest first within a group', () => {
    const mk = (contact: string, q: number, lastModified: number) => ({
      aor: 'a',
      contact,
      q,
      lastModified,
      expires: 0,
      callId: '',
      cseq: 0,
      path: [],
      flags: 0,
    });
    const g = groupByQ([mk('x', 0.5, 1), mk('y', 1, 1), mk('z', 1, 2)]);
    assert.deepEqual(
      g.map((grp) => grp.map((b) => b.contact)),
      [['z', 'y'], ['x']],
    );
  });
});

describe('usrloc expiry', () => {
  it('expireNow removes expired bindings and counts them', async () => {
    await storage.location.update('a', {
      put: [
        {
          aor: 'a',
          contact: 'sip:a@h',
          expires: Date.now() - 5,
          q: 1,
          callId: 'x',
          cseq: 1,
          path: [],
          flags: 0,
          lastModified: 0,
        },
      ],
      remove: [],
    });
    const gone = await svc.expireNow();
    assert.equal(gone.length, 1);
    assert.equal(svc.stats.expired_contacts, 1);
  });
});
