/**
 * The conformance suite every storage backend runs (hono's runTest style): a backend's test file
 * calls `runStorageConformance(name, open)` with a factory; `open()` returns a fresh, empty
 * storage, `reopen` (when the backend persists) the same data in a new instance.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Binding, Storage } from './types.ts';

export interface ConformanceTarget {
  /** A fresh, empty storage. */
  open(): Promise<Storage>;
  /** For persistent backends: a new instance over the storage `s` used (s is closed first). */
  reopen?(s: Storage): Promise<Storage>;
  /** Cleanup after the whole suite. */
  cleanup?(): Promise<void>;
  /**
   * The backend is a memory cache over a persistent store (SQLite): `memoryOnly` writes are not
   * persisted, so they do not survive a reopen. Otherwise they are written like any other.
   */
  memoryCache?: boolean;
}

export function binding(aor: string, contact: string, over: Partial<Binding> = {}): Binding {
  const now = Date.now();
  return {
    aor,
    contact,
    expires: now + 3600_000,
    q: 1,
    callId: 'cid-1',
    cseq: 1,
    path: [],
    flags: 0,
    lastModified: now,
    ...over,
  };
}

export function runStorageConformance(name: string, target: ConformanceTarget): void {
  describe(`storage conformance: ${name}`, () => {
    after(async () => {
      await target.cleanup?.();
    });

    const withStorage = async (f: (s: Storage) => Promise<void>) => {
      const s = await target.open();
      try {
        await f(s);
      } finally {
        await s.close();
      }
    };

    test('empty AOR has no bindings', () =>
      withStorage(async (s) => {
        assert.deepEqual(await s.location.get('nobody'), []);
        assert.deepEqual(await s.location.list(), []);
      }));

    test('update puts bindings with every field round-tripped', () =>
      withStorage(async (s) => {
        const b = binding('alice', 'sip:alice@192.0.2.1:5060', {
          q: 0.5,
          callId: 'abc@host',
          cseq: 42,
          path: ['<sip:edge.example.com;lr>', '<sip:p2.example.com;lr>'],
          received: 'sip:198.51.100.7:40000;transport=udp',
          socket: 'udp:127.0.0.1:5060',
          userAgent: 'Phone/1.0',
          instance: '"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"',
          regId: 1,
          methods: ['INVITE', 'ACK', 'BYE', 'CANCEL'],
          flags: 64,
        });
        await s.location.update('alice', { put: [b], remove: [] });
        const got = await s.location.get('alice');
        assert.equal(got.length, 1);
        assert.deepEqual(got[0], b);
      }));

    test('methods: unset (every method), a list, and an empty list read back distinctly', () =>
      withStorage(async (s) => {
        const all = binding('m', 'sip:all@h');
        const some = binding('m', 'sip:some@h', { methods: ['MESSAGE', 'OPTIONS'] });
        const none = binding('m', 'sip:none@h', { methods: [] });
        await s.location.update('m', { put: [all, some, none], remove: [] });
        const got = new Map((await s.location.get('m')).map((b) => [b.contact, b]));
        assert.equal(got.get(all.contact)?.methods, undefined);
        assert.equal('methods' in (got.get(all.contact) ?? {}), false);
        assert.deepEqual(got.get(some.contact)?.methods, ['MESSAGE', 'OPTIONS']);
        assert.deepEqual(got.get(none.contact)?.methods, []);
        // A refresh without methods clears them.
        await s.location.update('m', { put: [binding('m', 'sip:some@h', { cseq: 2 })], remove: [] });
        const again = (await s.location.get('m')).find((b) => b.contact === some.contact);
        assert.equal(again?.cseq, 2);
        assert.equal(again?.methods, undefined);
      }));

    test('memoryOnly updates (save flag 0x01) are read, listed and expired like any other', () =>
      withStorage(async (s) => {
        const now = Date.now();
        await s.location.update('mo', {
          put: [binding('mo', 'sip:a@h'), binding('mo', 'sip:b@h', { expires: now + 10 })],
          remove: [],
          memoryOnly: true,
        });
        assert.deepEqual((await s.location.get('mo')).map((b) => b.contact).sort(), ['sip:a@h', 'sip:b@h']);
        assert.equal((await s.location.list()).length, 2);
        assert.deepEqual(
          (await s.location.expire(now + 20)).map((b) => b.contact),
          ['sip:b@h'],
        );
        await s.location.update('mo', { put: [], remove: ['sip:a@h'], memoryOnly: true });
        assert.deepEqual(await s.location.get('mo'), []);
      }));

    test('several contacts per AOR; replace by contact; remove by contact', () =>
      withStorage(async (s) => {
        const a = binding('bob', 'sip:bob@10.0.0.1');
        const b = binding('bob', 'sip:bob@10.0.0.2', { q: 0.2 });
        await s.location.update('bob', { put: [a, b], remove: [] });
        assert.equal((await s.location.get('bob')).length, 2);
        await s.location.update('bob', { put: [{ ...a, cseq: 2 }], remove: [] });
        const got = await s.location.get('bob');
        assert.equal(got.length, 2);
        assert.equal(got.find((x) => x.contact === a.contact)?.cseq, 2);
        await s.location.update('bob', { put: [], remove: [b.contact] });
        assert.deepEqual(
          (await s.location.get('bob')).map((x) => x.contact),
          [a.contact],
        );
        // AORs are independent.
        assert.deepEqual(await s.location.get('bo'), []);
      }));

    test('put and remove in one update', () =>
      withStorage(async (s) => {
        await s.location.update('c', { put: [binding('c', 'sip:1@h')], remove: [] });
        await s.location.update('c', { put: [binding('c', 'sip:2@h')], remove: ['sip:1@h'] });
        assert.deepEqual(
          (await s.location.get('c')).map((x) => x.contact),
          ['sip:2@h'],
        );
      }));

    test('expired bindings are not returned and expire() removes them', () =>
      withStorage(async (s) => {
        const now = Date.now();
        await s.location.update('d', {
          put: [binding('d', 'sip:old@h', { expires: now - 1 }), binding('d', 'sip:new@h')],
          remove: [],
        });
        assert.deepEqual(
          (await s.location.get('d')).map((x) => x.contact),
          ['sip:new@h'],
        );
        const gone = await s.location.expire(now);
        assert.deepEqual(
          gone.map((x) => x.contact),
          ['sip:old@h'],
        );
        assert.deepEqual(await s.location.expire(now), []);
        assert.equal((await s.location.list()).length, 1);
      }));

    test('a refreshed binding is not expired at its old expiry; a removed one is not reported', () =>
      withStorage(async (s) => {
        const now = Date.now();
        await s.location.update('r', { put: [binding('r', 'sip:r@h', { expires: now + 10 })], remove: [] });
        await s.location.update('r', {
          put: [binding('r', 'sip:r@h', { expires: now + 3600_000 })],
          remove: [],
        });
        await s.location.update('r', {
          put: [binding('r', 'sip:gone@h', { expires: now + 10 })],
          remove: [],
        });
        await s.location.update('r', { put: [], remove: ['sip:gone@h'] });
        assert.deepEqual(await s.location.expire(now + 20), []);
        assert.equal((await s.location.get('r', now + 20)).length, 1);
        const later = await s.location.expire(now + 3600_001);
        assert.deepEqual(
          later.map((b) => b.contact),
          ['sip:r@h'],
        );
      }));

    test('removeAor, list and flush', () =>
      withStorage(async (s) => {
        await s.location.update('e', { put: [binding('e', 'sip:1@h'), binding('e', 'sip:2@h')], remove: [] });
        await s.location.update('f', { put: [binding('f', 'sip:1@h')], remove: [] });
        assert.equal((await s.location.list()).length, 3);
        assert.equal(await s.location.removeAor('e'), 2);
        assert.equal(await s.location.removeAor('e'), 0);
        assert.deepEqual(
          (await s.location.list()).map((x) => x.aor),
          ['f'],
        );
        assert.equal(await s.location.flush(), 1);
        assert.deepEqual(await s.location.list(), []);
      }));

    test('concurrent updates to many AORs all land', () =>
      withStorage(async (s) => {
        await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            s.location.update(`u${i}`, { put: [binding(`u${i}`, `sip:u${i}@h`)], remove: [] }),
          ),
        );
        assert.equal((await s.location.list()).length, 200);
        assert.equal((await s.location.get('u199'))[0]?.contact, 'sip:u199@h');
      }));

    test('subscribers: put, get (domain case-insensitive), list, count, remove', () =>
      withStorage(async (s) => {
        assert.equal(await s.subscribers.count(), 0);
        const sub = {
          username: 'alice',
          domain: 'example.com',
          ha1: 'a'.repeat(32),
          ha1b: 'b'.repeat(32),
          ha1Sha256: 'c'.repeat(64),
        };
        await s.subscribers.put(sub);
        assert.deepEqual(await s.subscribers.get('alice', 'EXAMPLE.com'), sub);
        assert.equal(await s.subscribers.get('Alice', 'example.com'), undefined);
        await s.subscribers.put({ ...sub, ha1: 'd'.repeat(32) });
        assert.equal((await s.subscribers.get('alice', 'example.com'))?.ha1, 'd'.repeat(32));
        await s.subscribers.put({ ...sub, username: 'bob' });
        assert.equal(await s.subscribers.count(), 2);
        assert.deepEqual((await s.subscribers.list()).map((x) => x.username).sort(), ['alice', 'bob']);
        assert.equal(await s.subscribers.remove('alice', 'example.com'), true);
        assert.equal(await s.subscribers.remove('alice', 'example.com'), false);
        assert.equal(await s.subscribers.count(), 1);
      }));

    if (target.reopen !== undefined) {
      const reopen = target.reopen;
      test('bindings and subscribers survive a reopen; expired ones do not come back', async () => {
        const s = await target.open();
        const now = Date.now();
        const b = binding('g', 'sip:g@h', { path: ['<sip:p;lr>'], received: 'sip:1.2.3.4:5;transport=tcp' });
        await s.location.update('g', {
          put: [b, binding('g', 'sip:old@h', { expires: now + 30 })],
          remove: [],
        });
        const mem = binding('mem', 'sip:mem@h');
        await s.location.update('mem', { put: [mem], remove: [], memoryOnly: true });
        await s.subscribers.put({ username: 'g', domain: 'h', ha1: '1', ha1b: '2', ha1Sha256: '3' });
        const s2 = await reopen(s);
        try {
          await new Promise((r) => setTimeout(r, 40));
          assert.deepEqual(await s2.location.get('g'), [b]);
          // save flag 0x01: not in the database under a memory cache; written through otherwise.
          assert.deepEqual(await s2.location.get('mem'), target.memoryCache === true ? [] : [mem]);
          assert.equal((await s2.subscribers.get('g', 'h'))?.ha1, '1');
        } finally {
          await s2.close();
        }
      });
    }
  });
}
