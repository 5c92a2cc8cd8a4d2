import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { binding, runStorageConformance } from './conformance.ts';
import { redisStorage } from './redis.ts';
import { ensureRedisServer, type RedisServer, startRedisServer } from './redis_test_server.ts';

const available = ensureRedisServer();
let server: RedisServer | undefined;
let n = 0;

if (!available) {
  test('redis backend', () => {
    assert.fail('redis-server is not installed and scripts/ensure-debian.sh could not install it');
  });
} else {
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server?.stop();
  });

  // Each storage gets its own key prefix: a fresh, empty table on the shared server.
  const prefixes = new Map<object, string>();
  runStorageConformance('redis', {
    async open() {
      const prefix = `t${n++}:`;
      const s = redisStorage(server!.url, { prefix });
      prefixes.set(s, prefix);
      return s;
    },
    async reopen(s) {
      const prefix = prefixes.get(s)!;
      await s.close();
      return redisStorage(server!.url, { prefix });
    },
  });

  describe('redis: shared between instances', () => {
    test('two instances see each other’s bindings; one sweep reports an expired binding once', async () => {
      const a = redisStorage(server!.url, { prefix: 'shared:' });
      const b = redisStorage(server!.url, { prefix: 'shared:' });
      try {
        await a.location.update('alice', { put: [binding('alice', 'sip:alice@h')], remove: [] });
        assert.equal((await b.location.get('alice'))[0]?.contact, 'sip:alice@h');
        const now = Date.now();
        await a.location.update('bob', {
          put: [binding('bob', 'sip:bob@h', { expires: now - 1 })],
          remove: [],
        });
        const [x, y] = await Promise.all([a.location.expire(now), b.location.expire(now)]);
        assert.equal(x.length + y.length, 1);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('an outage fails fast with a StorageError, and the store recovers when Redis returns', async () => {
      const own = await startRedisServer();
      const s = redisStorage(own.url, { prefix: 'down:', commandTimeoutMs: 300 });
      try {
        await s.location.update('alice', { put: [binding('alice', 'sip:alice@h')], remove: [] });
        await own.stop();
        const t0 = Date.now();
        await assert.rejects(s.location.get('alice'), (e: Error) => /redis/.test(e.message));
        assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
        const again = await startRedisServer(own.port);
        try {
          let ok = false;
          for (let i = 0; i < 50 && !ok; i++) {
            try {
              await s.location.update('bob', { put: [binding('bob', 'sip:bob@h')], remove: [] });
              ok = true;
            } catch {
              await new Promise((r) => setTimeout(r, 100));
            }
          }
          assert.ok(ok, 'store did not recover');
          assert.equal((await s.location.get('bob')).length, 1);
        } finally {
          await again.stop();
        }
      } finally {
        await s.close();
      }
    });
  });
}
