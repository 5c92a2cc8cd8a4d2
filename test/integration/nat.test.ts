/**
 * A phone behind a real NAT (issue 10): network namespaces and nftables masquerading (netns.ts)
 * put the phone on a private address Junction cannot route to. It registers with its private
 * Contact; the default script's NAT logic (nathelper) saves where the REGISTER really came from,
 * pings it (keep-alive OPTIONS every second), routes a call from a UDP SIPp caller to it through
 * the NAT, and routes the caller's ACK and BYE to it by the Contact alias. Root only. Runs once per
 * default script (routes/default.ts, then its Lua port routes/default.lua).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertAllPassed, runOnceAsUser, UAC_RR } from './call_flow.ts';
import {
  DEFAULT_SCRIPTS,
  ensureSipp,
  freePort,
  NODE,
  REPO,
  removeTempDirs,
  Session,
  sleep,
} from './harness.ts';
import { createNat, ensureNatTools, type NatTopology } from './netns.ts';

interface PhoneEvent {
  event?: string;
  error?: string;
  [k: string]: unknown;
}

function collect(child: ChildProcess): {
  events: () => PhoneEvent[];
  exit: Promise<number | null>;
  raw: () => string;
} {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exit = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const events = (): PhoneEvent[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as PhoneEvent);
  return { events, exit, raw: () => out };
}

async function until(cond: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('a phone behind NAT (network namespaces + nftables masquerade)', () => {
  before(() => {
    ensureSipp();
    ensureNatTools();
  });
  after(() => removeTempDirs());

  for (const d of DEFAULT_SCRIPTS)
    it(`registers with a private Contact, is pinged, and receives a call it can hang up, ${d.lang} default script`, {
      timeout: 90_000,
    }, async () => {
      const s = new Session({ script: d.script });
      let nat: NatTopology | undefined;
      let phone: ChildProcess | undefined;
      let errors: object[] = [];
      try {
        nat = createNat();
        const proxy = await freePort();
        const j = await s.junction({
          port: proxy,
          tcp: false,
          listen: [`udp:${nat.publicAddress}:${proxy}`],
          extraYaml: 'modules: { nathelper: { natping_interval: 1 } }\n',
        });
        phone = nat.spawnInPhone(NODE, [
          join(REPO, 'test/integration/nat_phone_main.ts'),
          nat.phoneAddress,
          '5060',
          nat.publicAddress,
          String(proxy),
          'carol',
          `127.0.0.1:${proxy}`,
        ]);
        const p = collect(phone);
        await until(
          () => p.events().some((e) => e.event === 'registered' || e.error !== undefined),
          'REGISTER',
          10_000,
        );
        const reg = p.events().find((e) => e.event === 'registered');
        assert.equal(reg?.status, 200, p.raw());
        // The private Contact is kept as registered; the NAT's address is where calls go.
        assert.match(
          String(reg?.contact),
          new RegExp(`sip:carol@${nat.phoneAddress.replaceAll('.', '\\.')}:5060`),
        );
        await until(() => p.events().some((e) => e.event === 'pinged'), 'a keep-alive OPTIONS', 5_000);

        const rc = await runOnceAsUser(s, proxy, 'carol', UAC_RR());
        if (process.env.DEBUG_NAT) console.log(p.raw(), rc.stdout.slice(-3000), j.output().slice(-6000));
        assertAllPassed('uac', rc, 1);
        assert.equal(await p.exit, 0, p.raw());
        const ev = p.events();
        // The caller's ACK and BYE carried the alias Junction added to the phone's 200 Contact.
        assert.match(String(ev.find((e) => e.event === 'ack')?.ruri), /^sip:carol@192\.168\.\d+\.2:5060$/);
        assert.ok(ev.some((e) => e.event === 'bye'));
        errors = j.errors();
      } finally {
        if (phone !== undefined && phone.exitCode === null) phone.kill('SIGKILL');
        await s.close();
        nat?.remove();
      }
      assert.deepEqual(errors, []);
      assert.deepEqual(s.junctionExits, [0]);
    });
});
