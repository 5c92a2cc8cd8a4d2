import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MiError } from '../../mi/command.ts';
import { jsonText } from '../../mi/json_stream.ts';
import { memoryStorage } from '../../storage/memory.ts';
import authDb from '../auth_db/index.ts';
import usrloc from './index.ts';
import { LocationService, setLocationService } from './service.ts';

const ctx = { transport: 'cli' };
function cmd(
  name: string,
  mod: {
    commands?: readonly { name: string; handler: (p: Record<string, unknown>, c: typeof ctx) => unknown }[];
  } = usrloc,
) {
  const c = mod.commands?.find((x) => x.name === name);
  assert.ok(c, name);
  return (p: Record<string, unknown> = {}) => Promise.resolve(c.handler(p, ctx));
}

beforeEach(() => setLocationService(new LocationService(memoryStorage())));
afterEach(() => setLocationService(undefined));

describe('usrloc management commands', () => {
  it('declares the OpenSIPS names with Kamailio aliases', () => {
    const names = usrloc.commands.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
    for (const n of [
      'ul_dump',
      'ul_show_contact',
      'ul_add',
      'ul_rm',
      'ul_rm_contact',
      'ul_flush',
      'ul.dump',
      'ul.lookup',
      'ul.add',
      'ul.rm',
    ])
      assert.ok(names.includes(n), n);
  });

  it('ul_add, ul_show_contact, ul_dump, ul_rm_contact, ul_rm, ul_flush', async () => {
    await cmd('ul_add')({
      table_name: 'location',
      aor: 'alice',
      contact: 'sip:alice@10.0.0.1',
      expires: 600,
      q: 0.5,
    });
    await cmd('ul_add')({
      table_name: 'location',
      aor: 'alice',
      contact: '<sip:alice@10.0.0.2>',
      expires: 600,
      q: 1,
    });
    const show = (await cmd('ul_show_contact')({ table_name: 'location', aor: 'alice' })) as {
      Contacts: Array<Record<string, unknown>>;
    };
    assert.deepEqual(
      show.Contacts.map((c) => c.Contact),
      ['sip:alice@10.0.0.2', 'sip:alice@10.0.0.1'],
    );
    assert.ok((show.Contacts[0].Expires as number) > 590);
    // AORs is streamed (an async iterable): read it as a transport would.
    const dump = JSON.parse((await jsonText(await cmd('ul_dump')())) ?? 'null') as {
      Domains: Array<{ AORs: Array<{ AOR: string }> }>;
    };
    assert.deepEqual(
      dump.Domains[0].AORs.map((a) => a.AOR),
      ['alice'],
    );
    await cmd('ul_rm_contact')({ table_name: 'location', aor: 'alice', contact: 'sip:alice@10.0.0.1' });
    await assert.rejects(
      cmd('ul_rm_contact')({ table_name: 'location', aor: 'alice', contact: 'sip:nope@h' }),
      (e: MiError) => e.code === 404,
    );
    await cmd('ul_rm')({ table_name: 'location', aor: 'alice' });
    await assert.rejects(
      cmd('ul_show_contact')({ table_name: 'location', aor: 'alice' }),
      (e: MiError) => e.code === 404,
    );
    await cmd('ul_add')({
      table_name: 'location',
      aor: 'sip:bob@example.com',
      contact: 'sip:b@h',
      expires: 60,
      q: 1,
    });
    assert.deepEqual(await cmd('ul_flush')(), { removed: 1 });
    await assert.rejects(
      cmd('ul_add')({ table_name: 'nope', aor: 'a', contact: 'sip:x@h', expires: 1, q: 1 }),
      (e: MiError) => e.code === 400,
    );
  });
});

describe('subscriber management commands', () => {
  it('subscriber_add (password or ha1), subscriber_list never shows a password, subscriber_rm', async () => {
    await cmd('subscriber_add', authDb)({ username: 'alice', domain: 'Example.com', password: 'hunter2' });
    await cmd(
      'subscriber_add',
      authDb,
    )({ username: 'bob', domain: 'example.com', ha1: '0123456789abcdef0123456789abcdef' });
    const list = (await cmd('subscriber_list', authDb)()) as { Subscribers: Array<Record<string, string>> };
    assert.deepEqual(
      list.Subscribers.map((s) => `${s.username}@${s.domain}`),
      ['alice@example.com', 'bob@example.com'],
    );
    assert.doesNotMatch(JSON.stringify(list), /hunter2/);
    await cmd('subscriber_rm', authDb)({ username: 'alice', domain: 'example.com' });
    await assert.rejects(
      cmd('subscriber_rm', authDb)({ username: 'alice', domain: 'example.com' }),
      (e: MiError) => e.code === 404,
    );
    await assert.rejects(
      cmd('subscriber_add', authDb)({ username: 'a b', domain: 'x', password: 'p' }),
      (e: MiError) => e.code === 400,
    );
  });
});

describe('LocationService.withAor', () => {
  it('runs calls for one AOR one after the other in call order; a failure does not block the next', async () => {
    const svc = new LocationService(memoryStorage());
    const log: string[] = [];
    const step =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`${name} start`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`${name} end`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      svc.withAor('a', step('a1', 20)),
      svc.withAor('a', step('a2', 5, true)),
      svc.withAor('b', step('b1', 1)),
      svc.withAor('a', step('a3', 1)),
    ]);
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
      ['a1', 'a2', 'b1', 'a3'],
    );
    assert.deepEqual(
      log.filter((l) => l.startsWith('a')),
      ['a1 start', 'a1 end', 'a2 start', 'a2 end', 'a3 start', 'a3 end'],
    );
    // b did not wait for a.
    assert.ok(log.indexOf('b1 end') < log.indexOf('a1 end'));
    // A synchronous throw releases the lock too.
    await assert.rejects(
      svc.withAor('c', () => {
        throw new Error('sync');
      }),
    );
    assert.equal(await svc.withAor('c', async () => 'again'), 'again');
  });
});
