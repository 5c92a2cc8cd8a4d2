/**
 * routes/default.lua is the Lua port of routes/default.ts: the same messages through both scripts
 * (each on its own proxy, script harness) must give the same replies, relays (bytes sent on each
 * branch), stateless forwards, message and branch flags and handlers. The messages walk every
 * route of the scripts: REQINIT (483), NATDETECT (REGISTERs from behind NAT, with only a private
 * Contact, over WebSocket; an INVITE from behind NAT), registration (save with the NAT branch
 * flags), OPTIONS keep-alive, 484, LOCATION (404 and calls to registered NATed and WebSocket
 * contacts: branch route `;nat=yes`, reply route Contact alias), the failure route, in-dialog
 * requests by loose routing (DLGURI alias, NATMANAGE `nat=yes`, the stateless ACK), a stray
 * in-dialog request (404) and an unmatched CANCEL. (The M4 flow, KSR.cp, needs connection points
 * and runs over both scripts in test/integration/cp_hook.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createScriptHarness, type RouteResult, type ScriptHarness } from '../testing.ts';

const TS = fileURLToPath(new URL('../../../routes/default.ts', import.meta.url));
const LUA = fileURLToPath(new URL('../../../routes/default.lua', import.meta.url));

/** UDP and WebSocket listeners (the WebSocket phone is called on its connection). */
const CONFIG = { listen: ['udp:127.0.0.1:5060', 'ws:127.0.0.1:8080'] };

/** Random parts of what the proxy builds (Via branches, tags) do not differ by script. */
function stable(text: string): string {
  return text.replace(/branch=z9hG4bK[^;\r\n ,>]*/g, 'branch=B').replace(/tag=[^;\r\n ,>]*/g, 'tag=T');
}

/** What a route did, comparable across the two scripts. */
function summary(r: RouteResult): unknown {
  const handlers = Object.fromEntries(
    Object.entries(r.handlers).map(([k, v]) => [k, typeof v === 'string' ? v : v?.name]),
  );
  return {
    replies: r.replies.map((x) => `${x.code} ${x.reason}`),
    forwardedReplies: r.forwardedReplies.map((x) => stable(x.message)),
    relays: r.relays.map((x) => ({
      ruri: x.ruri,
      dstUri: x.dstUri,
      targets: x.targets.map((t) => ({
        uri: t.uri,
        dst: t.destination,
        failure: t.failure,
        msg: stable(t.message),
      })),
    })),
    forwards: r.statelessForwards.map((x) => ({ uri: x.uri, dst: x.destination, msg: stable(x.message) })),
    flags: r.flags,
    bflags: r.pv('$bf'),
    handlers,
    errors: r.errors.map((e) => String(e.error)),
    exited: r.exited,
  };
}

const REGISTER_NAT = `
  REGISTER sip:127.0.0.1 SIP/2.0
  Via: SIP/2.0/UDP 192.168.1.2:5060;branch=z9hG4bKreg1
  Max-Forwards: 70
  To: <sip:carol@127.0.0.1>
  From: <sip:carol@127.0.0.1>;tag=r1
  Call-ID: reg-carol
  CSeq: 1 REGISTER
  Contact: <sip:carol@192.168.1.2:5060>
  Expires: 600
  Content-Length: 0
`;

/** Only its Contact is private (its Via matches the source): fix_nated_register makes the difference. */
const REGISTER_PRIVATE_CONTACT = `
  REGISTER sip:127.0.0.1 SIP/2.0
  Via: SIP/2.0/UDP 10.0.0.4:5060;branch=z9hG4bKreg3
  Max-Forwards: 70
  To: <sip:frank@127.0.0.1>
  From: <sip:frank@127.0.0.1>;tag=r3
  Call-ID: reg-frank
  CSeq: 1 REGISTER
  Contact: <sip:frank@192.168.3.3:5060>
  Expires: 600
  Content-Length: 0
`;

const REGISTER_WS = `
  REGISTER sip:127.0.0.1 SIP/2.0
  Via: SIP/2.0/WS abc.invalid;branch=z9hG4bKreg2
  Max-Forwards: 70
  To: <sip:alice@127.0.0.1>
  From: <sip:alice@127.0.0.1>;tag=r2
  Call-ID: reg-alice
  CSeq: 1 REGISTER
  Contact: <sip:alice@abc.invalid;transport=ws>
  Expires: 600
  Content-Length: 0
`;

function invite(user: string, maxForwards = 70): string {
  return `
  INVITE sip:${user}@127.0.0.1 SIP/2.0
  Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bKinv-${user}
  Max-Forwards: ${maxForwards}
  To: <sip:${user}@127.0.0.1>
  From: <sip:dave@10.0.0.7>;tag=d1
  Call-ID: call-${user}
  CSeq: 1 INVITE
  Contact: <sip:dave@10.0.0.7:5070>
  Content-Length: 0
`;
}

const INVITE_FROM_NAT = `
  INVITE sip:someone@10.9.9.9 SIP/2.0
  Via: SIP/2.0/UDP 192.168.7.7:5060;branch=z9hG4bKnat1
  Max-Forwards: 70
  To: <sip:someone@10.9.9.9>
  From: <sip:eve@127.0.0.1>;tag=e1
  Call-ID: call-nat
  CSeq: 1 INVITE
  Contact: <sip:eve@192.168.7.7:5060>
  Content-Length: 0
`;

/** The NATed phone's 200 to the call relayed on `branch`. */
function okFromPhone(branch: string): string {
  return `
  SIP/2.0 200 OK
  Via: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}
  Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bKinv-carol;rport=5070;received=10.0.0.7
  To: <sip:carol@127.0.0.1>;tag=c9
  From: <sip:dave@10.0.0.7>;tag=d1
  Call-ID: call-carol
  CSeq: 1 INVITE
  Contact: <sip:carol@192.168.1.2:5060>
  Content-Length: 0
`;
}

/** An in-dialog request from the caller, back through our `;nat=yes` Record-Route, to an aliased Contact. */
function inDialog(method: string): string {
  return `
  ${method} sip:carol@192.168.1.2:5060;alias=10.0.0.2~5060~1 SIP/2.0
  Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK${method}1
  Max-Forwards: 70
  Route: <sip:127.0.0.1;lr;nat=yes>
  To: <sip:carol@127.0.0.1>;tag=c9
  From: <sip:dave@10.0.0.7>;tag=d1
  Call-ID: call-carol
  CSeq: 2 ${method}
  Content-Length: 0
`;
}

const STRAY_BYE = `
  BYE sip:carol@127.0.0.1 SIP/2.0
  Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bKstray
  Max-Forwards: 70
  To: <sip:carol@127.0.0.1>;tag=zz
  From: <sip:dave@10.0.0.7>;tag=d1
  Call-ID: stray
  CSeq: 9 BYE
  Content-Length: 0
`;

const CANCEL = `
  CANCEL sip:carol@127.0.0.1 SIP/2.0
  Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bKnothing
  Max-Forwards: 70
  To: <sip:carol@127.0.0.1>
  From: <sip:dave@10.0.0.7>;tag=d1
  Call-ID: nothing
  CSeq: 1 CANCEL
  Content-Length: 0
`;

const OPTIONS = `
  OPTIONS sip:127.0.0.1 SIP/2.0
  Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bKopt
  Max-Forwards: 70
  To: <sip:127.0.0.1>
  From: <sip:dave@10.0.0.7>;tag=d1
  Call-ID: opt
  CSeq: 1 OPTIONS
  Content-Length: 0
`;

/** Every step, as the named summaries of what the script did. */
async function walk(h: ScriptHarness): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const step = async (name: string, r: Promise<RouteResult>): Promise<RouteResult> => {
    const result = await r;
    out[name] = summary(result);
    return result;
  };
  await step('483', h.request(invite('carol', 0)));
  await step('register NAT', h.request(REGISTER_NAT, { source: '10.0.0.2:5060/udp' }));
  await step(
    'register private Contact',
    h.request(REGISTER_PRIVATE_CONTACT, { source: '10.0.0.4:5060/udp' }),
  );
  await step('register WS', h.request(REGISTER_WS, { source: 'ws:10.0.0.3:40000' }));
  await step('options', h.request(OPTIONS));
  await step('484', h.request(invite('carol').replace('INVITE sip:carol@', 'INVITE sip:')));
  await step('404 not registered', h.request(invite('nobody')));
  const call = await step('call to NATed phone', h.request(invite('carol'), { source: '10.0.0.7:5070/udp' }));
  const branch = /branch=(z9hG4bK[^;\r\n]*)/.exec(call.relays[0]?.message ?? '')?.[1] ?? 'none';
  await step(
    '200 from NATed phone',
    h.reply(okFromPhone(branch), { transaction: call, source: '10.0.0.2:5060/udp' }),
  );
  const second = await step(
    'second call to NATed phone',
    h.request(invite('carol').replace('call-carol', 'call-carol-2'), { source: '10.0.0.7:5070/udp' }),
  );
  await step('failure 486', h.failure(second, 486));
  await step('call to private Contact', h.request(invite('frank'), { source: '10.0.0.7:5070/udp' }));
  await step('call to WS phone', h.request(invite('alice'), { source: '10.0.0.7:5070/udp' }));
  await step('call from NATed phone', h.request(INVITE_FROM_NAT, { source: '10.0.0.9:6000/udp' }));
  await step('in-dialog BYE', h.request(inDialog('BYE'), { source: '10.0.0.7:5070/udp' }));
  await step('in-dialog ACK', h.request(inDialog('ACK'), { source: '10.0.0.7:5070/udp' }));
  await step('stray BYE', h.request(STRAY_BYE));
  await step('unmatched CANCEL', h.request(CANCEL));
  return out;
}

describe('routes/default.lua behaves as routes/default.ts', () => {
  it('same replies, relays, forwards, flags and handlers for every route', async () => {
    const ts = await createScriptHarness({ script: TS, config: CONFIG });
    const lua = await createScriptHarness({ script: LUA, config: CONFIG });
    const a = await walk(ts);
    const b = await walk(lua);
    // The walk reaches the NAT logic (else both scripts could agree on doing nothing).
    const call = a['call to NATed phone'] as { relays: { targets: { msg: string }[] }[]; handlers: object };
    assert.match(
      call.relays[0]?.targets[0]?.msg ?? '',
      /Record-Route: <sip:127\.0\.0\.1:5060;lr;ftag=T;nat=yes>/,
    );
    assert.deepEqual(call.handlers, {
      branch: 'ksr_branch_manage',
      onreply: 'ksr_onreply_manage',
      failure: 'ksr_failure_manage',
    });
    assert.match(JSON.stringify(a['200 from NATed phone']), /alias=10\.0\.0\.2~5060~1/);
    assert.match(JSON.stringify(a['in-dialog BYE']), /"host":"10\.0\.0\.2","port":5060/);
    for (const name of Object.keys(a)) assert.deepEqual(b[name], a[name], name);
  });
});
