import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { memoryStorage } from '../../storage/memory.ts';
import type { Storage } from '../../storage/types.ts';
import { subscriberFromPassword } from '../auth_db/subscribers.ts';
import { FakeContext, request } from '../testing/fake_context.ts';
import { LocationService, setLocationService } from '../usrloc/service.ts';
import {
  authChallenge,
  authCheck,
  authState,
  configureAuth,
  consumeCredentials,
  hasCredentials,
  proxyChallenge,
} from './auth.ts';
import { type DigestAlgorithm, digestResponse, ha1, NonceManager } from './digest.ts';

let storage: Storage;

beforeEach(async () => {
  storage = memoryStorage();
  setLocationService(new LocationService(storage));
  configureAuth({ nonce_expire: 30, algorithms: ['SHA-256', 'MD5'] });
  await storage.subscribers.put(subscriberFromPassword('alice', 'example.com', 's3cret'));
});
afterEach(() => setLocationService(undefined));

interface AuthSpec {
  method?: string;
  user?: string;
  password?: string;
  realm?: string;
  nonce: string;
  nc?: string;
  alg?: DigestAlgorithm;
  qop?: boolean;
  header?: string;
  username?: string;
}

function authorized(a: AuthSpec): FakeContext {
  const method = a.method ?? 'REGISTER';
  const alg = a.alg ?? 'MD5';
  const realm = a.realm ?? 'example.com';
  const uri = 'sip:example.com';
  const user = a.username ?? a.user ?? 'alice';
  const nc = a.nc ?? '00000001';
  const qop = a.qop === false ? undefined : 'auth';
  const response = digestResponse({
    algorithm: alg,
    ha1: ha1(alg, a.user ?? 'alice', realm, a.password ?? 's3cret'),
    nonce: a.nonce,
    method,
    uri,
    qop,
    nc,
    cnonce: 'c0ffee',
  });
  const qp = qop === undefined ? '' : `, qop=auth, nc=${nc}, cnonce="c0ffee"`;
  const header = a.header ?? (method === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization');
  return new FakeContext(
    request({
      method,
      ruri: uri,
      to: '<sip:alice@example.com>',
      from: '<sip:alice@example.com>;tag=1',
      headers: [
        `${header}: Digest username="${user}", realm="${realm}", nonce="${a.nonce}", uri="${uri}", response="${response}", algorithm=${alg}${qp}`,
      ],
    }),
  );
}

describe('auth', () => {
  it('auth_challenge: 401 for REGISTER with one header per algorithm, qop=auth', async () => {
    const ctx = new FakeContext(
      request({ method: 'REGISTER', ruri: 'sip:example.com', to: '<sip:alice@example.com>' }),
    );
    assert.equal(await authChallenge(ctx, 'example.com', 0), 1);
    assert.equal(ctx.replies[0].code, 401);
    assert.equal(ctx.replies[0].headers.length, 2);
    assert.match(
      ctx.replies[0].headers[0],
      /^WWW-Authenticate: Digest realm="example.com", nonce="[^"]+", qop="auth", algorithm=SHA-256$/,
    );
    assert.match(ctx.replies[0].headers[1], /algorithm=MD5$/);
    assert.deepEqual(ctx.replyHeaders, []);
    const inv = new FakeContext(request());
    await proxyChallenge(inv, 'example.com', 0);
    assert.equal(inv.replies[0].code, 407);
    assert.match(inv.replies[0].headers[0], /^Proxy-Authenticate: Digest /);
    // realm '' → the To (REGISTER) / From domain
    const r = new FakeContext(request());
    await authChallenge(r, '', 0);
    assert.match(r.replies[0].headers[0], /realm="atlanta.example.com"/);
  });

  it('an nc that is not 8 hex digits is an error (-1); upper-case hex is fine', async () => {
    for (const nc of ['0000001', '000000001', '0000000g', 'x0000001', '0000:001']) {
      const nonce = authState.nonces.issue();
      assert.equal(await authCheck(authorized({ nonce, nc }), 'example.com', 'subscriber'), -1, nc);
    }
    const nonce = authState.nonces.issue();
    assert.equal(await authCheck(authorized({ nonce, nc: '0000000A' }), 'example.com', 'subscriber'), 1);
  });

  it('a realm with a quote or backslash is escaped in the challenge', async () => {
    const ctx = new FakeContext(request({ method: 'REGISTER', ruri: 'sip:example.com' }));
    await authChallenge(ctx, 'a"b\\c', 0);
    assert.match(ctx.replies[0].headers[0], /realm="a\\"b\\\\c"/);
  });

  for (const alg of ['MD5', 'SHA-256'] as const) {
    it(`accepts a correct ${alg} response, refuses a wrong password and a replayed nc`, async () => {
      const nonce = authState.nonces.issue();
      assert.equal(await authCheck(authorized({ nonce, alg }), 'example.com', 'subscriber', 1), 1);
      assert.equal(
        await authCheck(authorized({ nonce, alg, nc: '00000001' }), 'example.com', 'subscriber'),
        -6,
      );
      assert.equal(
        await authCheck(authorized({ nonce, alg, nc: '00000002' }), 'example.com', 'subscriber'),
        1,
      );
      assert.equal(
        await authCheck(
          authorized({ nonce, alg, nc: '00000003', password: 'bad' }),
          'example.com',
          'subscriber',
        ),
        -2,
      );
    });
  }

  it('without qop a nonce is good once', async () => {
    const nonce = authState.nonces.issue();
    assert.equal(await authCheck(authorized({ nonce, qop: false }), 'example.com', 'subscriber'), 1);
    assert.equal(await authCheck(authorized({ nonce, qop: false }), 'example.com', 'subscriber'), -6);
  });

  it('unknown user -3, no credentials -5, forged nonce -1, user mismatch -8', async () => {
    const nonce = authState.nonces.issue();
    assert.equal(await authCheck(authorized({ nonce, user: 'mallory' }), 'example.com', 'subscriber'), -3);
    assert.equal(
      await authCheck(new FakeContext(request({ method: 'REGISTER' })), 'example.com', 'subscriber'),
      -5,
    );
    assert.equal(
      await authCheck(authorized({ nonce: `${nonce.slice(0, -2)}AA` }), 'example.com', 'subscriber'),
      -1,
    );
    await storage.subscribers.put(subscriberFromPassword('bob', 'example.com', 'pw'));
    const ctx = authorized({ nonce: authState.nonces.issue(), user: 'bob', password: 'pw' });
    assert.equal(await authCheck(ctx, 'example.com', 'subscriber', 1), -8);
  });

  it('an expired nonce gives -4 and the next challenge says stale=true', async () => {
    const old = new NonceManager(1);
    authState.nonces = old;
    const nonce = old.issue(Date.now() - 5000);
    const ctx = authorized({ nonce });
    assert.equal(await authCheck(ctx, 'example.com', 'subscriber'), -4);
    await authChallenge(ctx, 'example.com', 0);
    assert.match(ctx.replies[0].headers[0], /stale=true$/);
  });

  it('user@domain usernames use ha1b', async () => {
    const nonce = authState.nonces.issue();
    const ctx = authorized({ nonce, user: 'alice@example.com', username: 'alice@example.com' });
    assert.equal(await authCheck(ctx, 'example.com', 'subscriber', 1), 1);
  });

  it('has_credentials and consume_credentials', async () => {
    const ctx = authorized({ nonce: authState.nonces.issue() });
    assert.equal(hasCredentials(ctx, 'example.com'), 1);
    assert.equal(hasCredentials(ctx, 'other.org'), -1);
    assert.equal(consumeCredentials(ctx), 1);
    assert.doesNotMatch(ctx.msg.serialize().toString(), /Authorization/);
  });
});

describe('NonceManager', () => {
  it('refuses nonces signed with another secret and tracks nc within a bound', () => {
    const a = new NonceManager(30, 'one');
    const b = new NonceManager(30, 'two');
    const n = a.issue();
    assert.equal(a.check(n), 'ok');
    assert.equal(b.check(n), 'invalid');
    assert.equal(a.check('garbage'), 'invalid');
    const small = new NonceManager(30, 'x', 2);
    assert.ok(small.use('n1', '00000001'));
    assert.ok(small.use('n2', '00000001'));
    assert.equal(small.use('n3', '00000001'), false);
    assert.equal(small.tracked, 2);
  });
});
