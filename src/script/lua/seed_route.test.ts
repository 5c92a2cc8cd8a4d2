/**
 * The seed's route.lua (../shared/seeds/kamailio-kemi-lua.txt), taken from the seed as it is, runs
 * on the real proxy: the request route relays to $du, and the branch, reply, onreply and failure
 * routes each fire when they should.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempScripts } from '../test_support.ts';
import { createScriptHarness, type ScriptHarness } from '../testing.ts';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const SHARED = process.env.JUNCTION_SHARED ?? resolve(REPO, '../shared');

/** The route.lua listing of the seed: from its first function to the next section's title. */
function seedRouteLua(): string {
  const text = readFileSync(join(SHARED, 'seeds/kamailio-kemi-lua.txt'), 'utf8');
  const start = text.indexOf('function ksr_request_route()');
  const end = text.indexOf('Core Kemi functions', start);
  assert.ok(start > 0 && end > start, 'the seed has no route.lua listing');
  return text.slice(start, end);
}

const INVITE = `
  INVITE sip:bob@example.com SIP/2.0
  Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds
  Max-Forwards: 70
  To: Bob <sip:bob@example.com>
  From: Alice <sip:alice@example.com>;tag=1928301774
  Call-ID: seed-lua@10.0.0.1
  CSeq: 1 INVITE
  Contact: <sip:alice@10.0.0.1>
  Content-Length: 0
`;

function response(code: number, reason: string, branch: string): string {
  return `SIP/2.0 ${code} ${reason}
    Via: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}
    Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;received=10.0.0.1
    To: Bob <sip:bob@example.com>;tag=b0b
    From: Alice <sip:alice@example.com>;tag=1928301774
    Call-ID: seed-lua@10.0.0.1
    CSeq: 1 INVITE
    Content-Length: 0`;
}

const texts = (logs: ReadonlyArray<{ text: string }>): string[] => logs.map((l) => l.text.trim());

describe("the seed's route.lua, unchanged", () => {
  const tmp = tempScripts({ 'route.lua': seedRouteLua() });
  let h: ScriptHarness;
  before(async () => {
    h = await createScriptHarness({ script: tmp.path('route.lua') });
  });
  after(() => tmp.remove());

  it('request route: relays to $du, the branch route runs for the branch', async () => {
    const r = await h.request(INVITE);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(texts(r.logs), [
      '===== request - from kamailio lua script',
      '===== branch route - from kamailio lua script',
    ]);
    assert.equal(r.relays.length, 1);
    const t = r.relays[0].targets[0];
    assert.deepEqual(
      [t.uri, t.destination?.host, t.destination?.port],
      ['sip:bob@example.com', '127.0.0.1', 5080],
    );
    assert.deepEqual(r.handlers, {
      branch: 'ksr_branch_route_one',
      onreply: 'ksr_onreply_route_one',
      failure: 'ksr_failure_route_one',
    });
    assert.deepEqual(r.replies, []);
  });

  it('a response runs the reply route, then the onreply route', async () => {
    const r = await h.request(INVITE);
    const branch = /;branch=(z9hG4bK[^;\r\n]+)/.exec(r.relays[0].message)?.[1] ?? '';
    const res = await h.reply(response(180, 'Ringing', branch), { transaction: r });
    assert.deepEqual(res.errors, []);
    assert.deepEqual(texts(res.logs), [
      '===== response - from kamailio lua script',
      '===== onreply route - from kamailio lua script',
    ]);
    assert.deepEqual(
      res.forwardedReplies.map((x) => x.code),
      [180],
    );
  });

  it('a failed branch runs the failure route', async () => {
    const r = await h.request(INVITE);
    const f = await h.failure(r, 486);
    assert.deepEqual(f.errors, []);
    assert.deepEqual(texts(f.logs), ['===== failure route - from kamailio lua script']);
    // The failure route neither replied nor relayed: the proxy sends the 486 upstream.
    assert.deepEqual(
      f.replies.map((x) => x.code),
      [486],
    );
  });

  it('Max-Forwards 0: 483 from the script, no relay', async () => {
    const r = await h.request(INVITE.replace('Max-Forwards: 70', 'Max-Forwards: 0'));
    assert.deepEqual(
      r.replies.map((x) => [x.code, x.reason]),
      [[483, 'Too Many Hops']],
    );
    assert.equal(r.relays.length, 0);
  });
});
