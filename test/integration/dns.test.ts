/**
 * RFC 3263 through Junction with a real DNS server (issue 10): dnsmasq on loopback serves
 * `carrier.test` as NAPTR (SIP+D2U) → SRV (uas1 priority 10, uas2 priority 20) → A. A SIPp caller
 * calls `sip:service@carrier.test`; Junction (default script, `dns.servers` pointing at dnsmasq)
 * tries uas1 first and fails over to uas2 when uas1 answers 503, or when it does not answer at all
 * (timer B, shortened with tm t1 = 50 ms).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { assertAllPassed, onceArgs, UAC_RR, UAS } from './call_flow.ts';
import { ensureDnsmasq, type LocalDns, startDnsmasq } from './dnsmasq.ts';
import {
  ensureSipp,
  freePort,
  removeTempDirs,
  Session,
  type SippRun,
  tempDir,
  waitUdpBound,
  writeFile,
} from './harness.ts';
import { messageTable, rows, showTable, uasReject } from './scenarios.ts';

/** The bench caller with its Request-URI (and To) naming the DNS domain instead of the callee. */
function uacToDomain(domain: string): string {
  const text = readFileSync(UAC_RR(), 'latin1');
  const out = text.replaceAll('sip:[service]@[remote_ip]:[remote_port]', `sip:[service]@${domain}`);
  assert.notEqual(out, text);
  return writeFile(tempDir('junction-dns-'), 'uac-domain.xml', out);
}

function partyArgs(scenario: string, port: number): string[] {
  return onceArgs(scenario, port, undefined, '30s');
}

async function withCarrierDns(
  body: (s: Session, ports: { proxy: number; uas1: number; uas2: number }) => Promise<void>,
): Promise<void> {
  const s = new Session();
  let dns: LocalDns | undefined;
  let errors: object[] = [];
  try {
    const uas1 = await freePort();
    const uas2 = await freePort();
    dns = await startDnsmasq({
      a: { 'uas1.carrier.test': '127.0.0.1', 'uas2.carrier.test': '127.0.0.1' },
      srv: [
        ['_sip._udp.carrier.test', 'uas1.carrier.test', uas1, 10, 0],
        ['_sip._udp.carrier.test', 'uas2.carrier.test', uas2, 20, 0],
      ],
      naptr: [['carrier.test', 10, 10, 's', 'SIP+D2U', '', '_sip._udp.carrier.test']],
    });
    const proxy = await freePort();
    const j = await s.junction({
      port: proxy,
      tcp: false,
      extraYaml: `dns: { servers: ['${dns.server}'], timeout_ms: 500, tries: 1 }\nmodules: { tm: { t1: 50 } }\n`,
    });
    await body(s, { proxy, uas1, uas2 });
    errors = j.errors();
  } finally {
    await s.close();
    await dns?.stop();
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(s.junctionExits, [0]);
}

async function call(s: Session, proxy: number): Promise<SippRun> {
  const port = await freePort();
  return s.sipp([...partyArgs(uacToDomain('carrier.test'), port), `127.0.0.1:${proxy}`], 60_000);
}

describe('RFC 3263: NAPTR → SRV → A from a local DNS server, with failover', () => {
  before(() => {
    ensureSipp();
    ensureDnsmasq();
  });
  after(() => removeTempDirs());

  it('uas1 (priority 10) answers 503: the call completes at uas2 (priority 20)', { timeout: 60_000 }, () =>
    withCarrierDns(async (s, { proxy, uas1, uas2 }) => {
      const reject = writeFile(tempDir('junction-dns-'), 'uas503.xml', uasReject(503, 'Service Unavailable'));
      const first = s.sipp([...partyArgs(reject, uas1), '-default_behaviors', 'all,-abortunexp'], 60_000);
      const second = s.sipp([...partyArgs(UAS(), uas2), '-default_behaviors', 'all,-abortunexp'], 60_000);
      await waitUdpBound(uas1);
      await waitUdpBound(uas2);
      const caller = await call(s, proxy);
      const [rc, r1, r2] = await Promise.all([caller.done, first.done, second.done]);
      assertAllPassed('uac', rc, 1);
      assertAllPassed('uas1 (503)', r1, 1);
      assertAllPassed('uas2', r2, 1);
      const t = messageTable(r2.stdout);
      assert.equal(rows(t, 'recv', 'BYE')[0]?.messages, 1, showTable(t));
      // The caller never saw the 503 (a 503 is retried, not relayed).
      assert.equal(
        messageTable(rc.stdout).some((row) => row.name === '503'),
        false,
      );
    }),
  );

  it('uas1 does not answer: after timer B the call goes to uas2', { timeout: 60_000 }, () =>
    withCarrierDns(async (s, { proxy, uas2 }) => {
      const second = s.sipp([...partyArgs(UAS(), uas2), '-default_behaviors', 'all,-abortunexp'], 60_000);
      await waitUdpBound(uas2);
      const started = Date.now();
      const caller = await call(s, proxy);
      const [rc, r2] = await Promise.all([caller.done, second.done]);
      assertAllPassed('uac', rc, 1);
      assertAllPassed('uas2', r2, 1);
      // Timer B (64 × T1 = 3.2 s here) of the silent uas1's branch first.
      assert.ok(Date.now() - started >= 3000, 'uas2 only after the silent uas1 timed out');
    }),
  );
});
