/**
 * Browser-style phones over WebSocket (RFC 7118, issue 10): a phone built on the `ws` package
 * (ws_phone.ts: `.invalid` Via/Contact host, like JsSIP) registers over WSS (and WS), a UDP SIPp
 * caller calls it through Junction, and the call is hung up from either side. The INVITE can only
 * reach the phone over the connection it registered on (its Contact host does not resolve), and
 * the BYE in either direction follows the double Record-Route (WSS ↔ UDP). Every test runs once per
 * default script (routes/default.ts, then its Lua port routes/default.lua).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertAllPassed, runOnceAsUser, UAC_RR, UAS } from './call_flow.ts';
import {
  DEFAULT_SCRIPTS,
  ensureSipp,
  freePort,
  type RunningServer,
  removeTempDirs,
  Session,
  type SippResult,
  tempDir,
  waitUdpBound,
  writeFile,
} from './harness.ts';
import { uacCalleeHangsUp } from './scenarios.ts';
import { SipPhone } from './sip_phone.ts';
import { tlsYaml } from './tls_tunnel.ts';

/** One call from a UDP SIPp (`scenario`) to `user` at Junction. */
function callUser(
  s: Session,
  proxy: number,
  user: string,
  scenario: string,
  port: number,
): Promise<SippResult> {
  return runOnceAsUser(s, proxy, user, scenario, { port, trace: process.env.DEBUG_WS !== undefined }).then(
    (r) => {
      if (process.env.DEBUG_WS) console.log(r.messages);
      return r;
    },
  );
}

async function withWsJunction(
  body: (s: Session, j: RunningServer, ports: { proxy: number; ws: number; wss: number }) => Promise<void>,
  script?: string,
): Promise<void> {
  const s = new Session({ script });
  let errors: object[] = [];
  try {
    const proxy = await freePort();
    const ws = await freePort();
    const wss = await freePort();
    const j = await s.junction({
      port: proxy,
      listen: [`ws:127.0.0.1:${ws}`, `wss:127.0.0.1:${wss}`],
      extraYaml: tlsYaml(),
      logLevel: process.env.DEBUG_WS ? 'debug' : 'info',
    });
    try {
      await body(s, j, { proxy, ws, wss });
    } catch (e) {
      if (process.env.DEBUG_WS) console.log(j.output());
      throw e;
    }
    errors = j.errors();
  } finally {
    await s.close();
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(s.junctionExits, [0]);
}

describe('WebSocket phones (RFC 7118) through Junction', () => {
  before(() => ensureSipp());
  after(() => removeTempDirs());

  for (const d of DEFAULT_SCRIPTS)
    it(
      `a WSS phone registers, receives a call from UDP SIPp, and the caller hangs up, ${d.lang} default script`,
      { timeout: 60_000 },
      () =>
        withWsJunction(async (s, _j, { proxy, wss }) => {
          const phone = await SipPhone.connect(`wss://127.0.0.1:${wss}/`, 'alice', `127.0.0.1:${proxy}`);
          try {
            const reg = await phone.register();
            assert.equal(reg.status, 200);
            assert.match(reg.getHeader('Contact') ?? '', /\.invalid;transport=ws>/);
            const sippPort = await freePort();
            const done = callUser(s, proxy, 'alice', UAC_RR(), sippPort);
            const invite = await phone.nextRequest('INVITE', 10_000);
            const rr = invite.getHeaders('Record-Route').join(', ');
            assert.match(rr, new RegExp(`127\\.0\\.0\\.1:${wss};transport=wss;r2=on`));
            assert.match(rr, new RegExp(`127\\.0\\.0\\.1:${proxy};r2=on`));
            assert.match(invite.topVia.raw, /^SIP\/2\.0\/WSS /);
            phone.answer(invite);
            await phone.nextRequest('ACK');
            const bye = await phone.nextRequest('BYE', 10_000);
            phone.reply(bye, 200);
            assertAllPassed('uac', await done, 1);
          } finally {
            phone.close();
          }
        }, d.script),
    );

  for (const d of DEFAULT_SCRIPTS)
    it(
      `a WSS phone calls a UDP SIPp callee through Junction and hangs up, ${d.lang} default script`,
      { timeout: 60_000 },
      () =>
        withWsJunction(async (s, _j, { proxy, wss }) => {
          const phone = await SipPhone.connect(`wss://127.0.0.1:${wss}/`, 'dave', `127.0.0.1:${proxy}`);
          try {
            assert.equal((await phone.register()).status, 200);
            const uas = { port: await freePort() };
            const callee = s.sipp(
              [
                '-sf',
                UAS(),
                '-i',
                '127.0.0.1',
                '-p',
                String(uas.port),
                '-m',
                '1',
                '-timeout',
                '20s',
                '-timeout_error',
                '-default_behaviors',
                'all,-abortunexp',
              ],
              40_000,
            );
            await waitUdpBound(uas.port);
            const { dialog, final } = await phone.call(`sip:service@127.0.0.1:${uas.port}`);
            assert.equal(final.status, 200);
            // Double Record-Route (WSS in, UDP out), the phone's route set is it reversed.
            assert.equal(dialog.routes.length, 2);
            assert.match(dialog.routes[0], new RegExp(`:${wss};transport=wss;r2=on;lr`));
            const ok = await phone.bye(dialog);
            assert.equal(ok.status, 200);
            assertAllPassed('uas', await callee.done, 1);
          } finally {
            phone.close();
          }
        }, d.script),
    );

  for (const d of DEFAULT_SCRIPTS)
    it(
      `a WS phone answers, then hangs up itself; the BYE reaches the UDP caller, ${d.lang} default script`,
      { timeout: 60_000 },
      () =>
        withWsJunction(async (s, _j, { proxy, ws }) => {
          const phone = await SipPhone.connect(`ws://127.0.0.1:${ws}/`, 'bob', `127.0.0.1:${proxy}`);
          try {
            assert.equal((await phone.register()).status, 200);
            const scenario = writeFile(tempDir('junction-ws-'), 'uac.xml', uacCalleeHangsUp());
            const done = callUser(s, proxy, 'bob', scenario, await freePort());
            const invite = await phone.nextRequest('INVITE', 10_000);
            const dialog = phone.answer(invite);
            await phone.nextRequest('ACK');
            const ok = await phone.bye(dialog);
            assert.equal(ok.status, 200);
            assertAllPassed('uac', await done, 1);
          } finally {
            phone.close();
          }
        }, d.script),
    );
});
