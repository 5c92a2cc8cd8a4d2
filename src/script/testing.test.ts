import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isParseError } from '../sip/errors.ts';
import { parseMessage } from '../sip/parse_message.ts';
import { TEST_MODULES, tempScripts } from './test_support.ts';
import { createScriptHarness, parseSource, type ScriptHarness, sipText } from './testing.ts';

const TYPES = fileURLToPath(new URL('./types.ts', import.meta.url));

// A routing script written as an operator would, against the real Junction modules.
const SCRIPT = `
import type { KSR } from ${JSON.stringify(TYPES)};

export async function ksr_request_route(KSR: KSR): Promise<void> {
  if (KSR.maxfwd.process_maxfwd(10) < 0) {
    KSR.sl.sl_send_reply(483, 'Too Many Hops');
    KSR.x.exit();
  }
  if (KSR.is_OPTIONS()) {
    KSR.hdr.append_to_reply('X-Test: yes\\r\\n');
    KSR.sl.sl_send_reply(200, 'Alive');
    KSR.x.exit();
  }
  KSR.pv.sets('$var(caller)', String(KSR.pv.get('$fU')));
  KSR.pv.sets('$avp(route)', 'main');
  KSR.info(\`routing \${KSR.pv.get('$rm')} from \${KSR.pv.get('$si')}\`);
  if (KSR.is_INVITE()) {
    KSR.rr.record_route();
    KSR.tm.t_on_failure('ksr_failure_next');
    KSR.tm.t_on_branch(tagBranch);
  }
  KSR.corex.append_branch_uri('sip:bob@10.0.0.3:5060');
  KSR.setdsturi('sip:10.0.0.2:5060');
  if ((await KSR.tm.t_relay()) < 0) KSR.sl.sl_send_reply(500, 'Relay Failed');
}

function tagBranch(KSR: KSR): void {
  KSR.hdr.append(\`X-Branch: \${KSR.pv.get('$T_branch_idx')}\\r\\n\`);
}

export async function ksr_failure_next(KSR: KSR): Promise<void> {
  KSR.info(\`failed with \${KSR.pv.get('$T_reply_code')}, route \${KSR.pv.get('$avp(route)')}\`);
  KSR.seturi('sip:voicemail@10.0.0.9');
  await KSR.tm.t_relay();
}

export function ksr_reply_route(KSR: KSR): void {
  KSR.info(\`reply \${KSR.pv.get('$rs')}\`);
}
`;

const INVITE = `
  INVITE sip:bob@example.com SIP/2.0
  Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport
  Max-Forwards: 70
  To: Bob <sip:bob@example.com>
  From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
  Call-ID: a84b4c76e66710@pc33.atlanta.example.com
  CSeq: 314159 INVITE
  Contact: <sip:alice@10.0.0.1>
  Content-Length: 0
`;

function invite(changes: Record<string, string> = {}): string {
  let text = INVITE;
  for (const [from, to] of Object.entries(changes)) text = text.replace(from, to);
  return text;
}

/** A 180 from downstream, to our Via with `branch`; `stamp`: what the transport added to the caller's Via. */
function ringing(branch: string, stamp: string): string {
  return `SIP/2.0 180 Ringing
    Via: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}
    Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds${stamp}
    To: Bob <sip:bob@example.com>;tag=abc
    From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
    Call-ID: a84b4c76e66710@pc33.atlanta.example.com
    CSeq: 314159 INVITE
    Content-Length: 0`;
}

describe('createScriptHarness (real modules)', () => {
  const tmp = tempScripts({ 'route.ts': SCRIPT });
  let h: ScriptHarness;
  before(async () => {
    h = await createScriptHarness({ script: tmp.path('route.ts') });
  });
  after(() => tmp.remove());

  it('records a local reply with the headers added for it', async () => {
    const r = await h.request(
      invite({
        'INVITE sip:bob@example.com': 'OPTIONS sip:127.0.0.1',
        'CSeq: 314159 INVITE': 'CSeq: 1 OPTIONS',
      }),
    );
    assert.equal(r.replies.length, 1);
    const [reply] = r.replies;
    assert.deepEqual([reply.code, reply.reason, reply.headers], [200, 'Alive', ['X-Test: yes\r\n']]);
    assert.match(reply.message, /^SIP\/2\.0 200 Alive\r\n/);
    assert.match(reply.message, /\r\nX-Test: yes\r\n/);
    assert.match(reply.message, /\r\nTo: Bob <sip:bob@example\.com>;tag=junction-test\r\n/);
    assert.equal(r.exited, true);
    assert.equal(r.relays.length, 0);
  });

  it('runs what the script says for Max-Forwards 0', async () => {
    const r = await h.request(invite({ 'Max-Forwards: 70': 'Max-Forwards: 0' }));
    assert.deepEqual(
      r.replies.map((x) => x.code),
      [483],
    );
  });

  it('records a stateful relay with every branch as it would be sent', async () => {
    const r = await h.request(INVITE, { source: '10.0.0.1:5062/udp' });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.replies, []);
    assert.equal(r.relays.length, 1);
    const relay = r.relays[0];
    assert.equal(relay.ruri, 'sip:bob@example.com');
    assert.equal(relay.dstUri, 'sip:10.0.0.2:5060');
    assert.deepEqual(
      relay.branches.map((b) => b.uri),
      ['sip:bob@10.0.0.3:5060'],
    );
    assert.deepEqual(
      relay.targets.map((t) => [t.uri, t.destination?.host, t.destination?.port, t.failure]),
      [
        ['sip:bob@example.com', '10.0.0.2', 5060, undefined],
        ['sip:bob@10.0.0.3:5060', '10.0.0.3', 5060, undefined],
      ],
    );
    const [b0, b1] = relay.targets.map((t) => t.message);
    assert.equal(relay.message, b0);
    assert.match(
      b0,
      /^INVITE sip:bob@example\.com SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:5060;branch=z9hG4bK/,
    );
    assert.match(b0, /\r\nRecord-Route: <sip:127\.0\.0\.1:5060;lr;ftag=1928301774>\r\n/);
    assert.match(b0, /;rport=5062;received=10\.0\.0\.1\r\n/, 'the transport stamped the received Via');
    assert.match(b0, /\r\nMax-Forwards: 69\r\n/);
    assert.match(b0, /\r\nX-Branch: 0\r\n/);
    assert.doesNotMatch(b0, /X-Branch: 1/, 'branch route edits stay on their branch');
    assert.match(b1, /^INVITE sip:bob@10\.0\.0\.3:5060 SIP\/2\.0\r\n/);
    assert.match(b1, /\r\nX-Branch: 1\r\n/);
    for (const m of [b0, b1]) assert.equal(isParseError(parseMessage(Buffer.from(m))), false);
    // The routed message itself carries only request-route edits.
    assert.match(r.serialized, /\r\nMax-Forwards: 69\r\n/);
    assert.doesNotMatch(r.serialized, /X-Branch/);
  });

  it('shows variables, logs and handlers, and answers KSR.pv afterwards', async () => {
    const r = await h.request(INVITE);
    assert.deepEqual(r.vars, { caller: 'alice' });
    assert.deepEqual(r.avps, { route: ['main'] });
    assert.deepEqual(r.logs, [{ level: 'info', text: 'routing INVITE from 10.0.0.1' }]);
    assert.equal(r.handlers.failure, 'ksr_failure_next');
    assert.equal(typeof r.handlers.branch, 'function');
    assert.equal(r.pv('$var(caller)'), 'alice');
    assert.equal(r.pv('$du'), null, 't_relay consumed $du, as in the proxy');
    assert.equal(r.ksr.pv.get('$ru'), 'sip:bob@example.com');
    assert.equal(r.exited, false);
    assert.equal(r.dropped, false);
  });

  it('runs the failure handler the request set, with the transaction state', async () => {
    const r = await h.request(INVITE);
    const f = await h.failure(r, 486);
    assert.deepEqual(f.errors, []);
    assert.deepEqual(f.logs, [{ level: 'info', text: 'failed with 486, route main' }]);
    assert.equal(f.relays.length, 1);
    assert.equal(f.relays[0].ruri, 'sip:voicemail@10.0.0.9');
    assert.match(f.relays[0].message, /^INVITE sip:voicemail@10\.0\.0\.9 SIP\/2\.0\r\n/);
  });

  it('runs the reply route for a response of the transaction', async () => {
    const r = await h.request(INVITE);
    const res = await h.reply(ringing('z9hG4bKjunctiontest1', ';received=10.0.0.1'), { transaction: r });
    assert.deepEqual(res.logs, [{ level: 'info', text: 'reply 180' }]);
    assert.equal(res.kind, 'reply');
  });

  it('refuses a failure() without a failure handler', async () => {
    const r = await h.request(
      invite({
        'INVITE sip:bob@example.com': 'MESSAGE sip:bob@example.com',
        'CSeq: 314159 INVITE': 'CSeq: 1 MESSAGE',
      }),
    );
    await assert.rejects(h.failure(r, 404), /set no failure handler/);
  });
});

describe('createScriptHarness (custom modules)', () => {
  const tmp = tempScripts({
    'route.ts': [
      'export function ksr_request_route(KSR) {',
      "  KSR.tm.t_on_branch('drop_second');",
      "  KSR.pv.sets('$var(x)', 'set');",
      "  if (KSR.pv.get('$rm') === 'BYE') null.crash;",
      '  return KSR.tm.t_relay();',
      '}',
      'export function drop_second(KSR) {',
      "  if (KSR.pv.get('$T_branch_idx') === 0) KSR.x.drop();",
      '}',
    ].join('\n'),
    'broken.ts': 'export function ksr_request_route(KSR) { KSR.nope(); }\n',
  });
  after(() => tmp.remove());

  it('accepts the modules to test with, and records dropped branches', async () => {
    const h = await createScriptHarness({ script: tmp.path('route.ts'), modules: TEST_MODULES });
    const r = await h.request(INVITE);
    assert.deepEqual(r.vars, { x: 'set' });
    assert.equal(r.relays[0].targets[0].failure, 'dropped by the branch route');
    assert.equal(r.relays[0].message, '', 'nothing was sent');
  });

  it('records script errors with their location', async () => {
    const h = await createScriptHarness({ script: tmp.path('route.ts'), modules: TEST_MODULES });
    const r = await h.request(
      invite({
        'INVITE sip:bob@example.com': 'BYE sip:bob@example.com',
        'CSeq: 314159 INVITE': 'CSeq: 2 BYE',
      }),
    );
    assert.equal(r.errors.length, 1);
    assert.deepEqual([r.errors[0].location?.file, r.errors[0].location?.line], [tmp.path('route.ts'), 4]);
    assert.equal(r.relays.length, 0);
  });

  it('refuses a script that does not load, with file:line', async () => {
    await assert.rejects(
      createScriptHarness({ script: tmp.path('broken.ts'), modules: TEST_MODULES }),
      new RegExp(`${tmp.path('broken.ts')}:1:46: KSR.nope does not exist`),
    );
  });
});

describe('harness helpers', () => {
  it('turns an indented template literal into a SIP message', () => {
    assert.equal(sipText('\n    A b\n    C: d\n\n    body\n').toString(), 'A b\r\nC: d\r\n\r\nbody\r\n');
  });

  it('parses sources in several spellings', () => {
    assert.deepEqual(parseSource('10.0.0.1:5062/tcp'), { protocol: 'tcp', address: '10.0.0.1', port: 5062 });
    assert.deepEqual(parseSource('udp:10.0.0.1:5070'), { protocol: 'udp', address: '10.0.0.1', port: 5070 });
    assert.deepEqual(parseSource('[2001:db8::1]:5060/tcp'), {
      protocol: 'tcp',
      address: '2001:db8::1',
      port: 5060,
    });
    assert.deepEqual(parseSource('10.0.0.1'), { protocol: 'udp', address: '10.0.0.1', port: 5060 });
  });
});

describe('createScriptHarness (the real proxy behind it)', () => {
  const tmp = tempScripts({
    'route.ts': [
      'export async function ksr_request_route(KSR) {',
      "  if (KSR.pv.get('$rm') === 'CANCEL') return;",
      "  if (KSR.pv.get('$rm') === 'MESSAGE') KSR.tm.t_on_failure('give_up');",
      "  KSR.setdsturi('sip:10.0.0.2:5060');",
      "  KSR.pv.sets('$var(relay)', String(await KSR.tm.t_relay()));",
      '}',
      'export function give_up(KSR) {',
      "  KSR.info('giving up');",
      '}',
    ].join('\n'),
  });
  after(() => tmp.remove());
  let h: ScriptHarness;
  before(async () => {
    h = await createScriptHarness({ script: tmp.path('route.ts'), check: false });
  });

  it('forwards a provisional of the transaction upstream without our Via', async () => {
    const r = await h.request(INVITE);
    assert.equal(r.relays[0].targets[0].destination?.host, '10.0.0.2');
    const branch = /;branch=(z9hG4bK[^\r;]+)/.exec(r.relays[0].message)![1];
    const res = await h.reply(ringing(branch, ';rport=5060;received=10.0.0.1'), { transaction: r });
    assert.deepEqual(res.replies, []);
    assert.deepEqual(
      res.forwardedReplies.map((x) => [x.code, x.reason]),
      [[180, 'Ringing']],
    );
    assert.match(
      res.forwardedReplies[0].message,
      /^SIP\/2\.0 180 Ringing\r\nVia: SIP\/2\.0\/UDP 10\.0\.0\.1:5060;/,
    );
  });

  it('sends the best reply upstream once the failure route did not relay', async () => {
    const r = await h.request(
      invite({
        'INVITE sip:bob@example.com': 'MESSAGE sip:bob@example.com',
        'CSeq: 314159 INVITE': 'CSeq: 1 MESSAGE',
      }),
    );
    assert.equal(r.vars.relay, '1');
    const f = await h.failure(r, 486);
    assert.deepEqual(f.logs, [{ level: 'info', text: 'giving up' }]);
    assert.deepEqual(
      f.replies.map((x) => x.code),
      [486],
    );
    assert.match(f.replies[0].message, /;tag=junction-test\r\n/);
    await assert.rejects(
      h.failure(r, 486),
      /set no failure handler/,
      'the failure route runs once per t_on_failure',
    );
  });

  it('refuses t_relay on a canceled transaction, which the proxy answered 487', async () => {
    const r = await h.request(INVITE, { canceled: true });
    assert.equal(r.vars.relay, '-1');
    assert.deepEqual(
      r.replies.map((x) => x.code),
      [487],
    );
    assert.deepEqual(r.relays, []);
  });

  it('forwards statelessly without a server transaction; answers 481 to a CANCEL the script left alone', async () => {
    const r = await h.request(INVITE, { transaction: false });
    assert.deepEqual(r.relays, []);
    assert.equal(r.statelessForwards.length, 1);
    assert.equal(r.statelessForwards[0].uri, 'sip:10.0.0.2:5060');
    assert.match(
      r.statelessForwards[0].message,
      /^INVITE sip:bob@example\.com SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:5060;branch=z9hG4bKsl/,
    );
    const c = await h.request(
      invite({
        'INVITE sip:bob@example.com': 'CANCEL sip:bob@example.com',
        'CSeq: 314159 INVITE': 'CSeq: 314159 CANCEL',
      }),
      { transaction: true },
    );
    assert.deepEqual(
      c.replies.map((x) => x.code),
      [481],
    );
  });
});
