/**
 * Calls over TLS through Junction (issue 10): a SIPp caller whose connection reaches Junction's
 * `tls:` listener (through tls_tunnel.ts: Debian's SIPp has no TLS, see there) → Junction → a UDP
 * SIPp callee. Record-Route is doubled (TLS in, UDP out), so the ACK and BYE follow the right
 * transport each way. The default routing script; certificates generated at test time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertAllPassed, UAC_RR, UAS } from './call_flow.ts';
import { ensureSipp, freePort, removeTempDirs, Session, sippUac, waitSippBound } from './harness.ts';
import { messageTable, rows, showTable } from './scenarios.ts';
import { tlsTunnel, tlsYaml } from './tls_tunnel.ts';

describe('calls over TLS (SIPp → TLS → Junction → UDP → SIPp)', () => {
  before(() => ensureSipp());
  after(() => removeTempDirs());

  it('200 calls, INVITE/ACK/BYE routed across TLS and UDP by double Record-Route', {
    timeout: 120_000,
  }, async () => {
    const s = new Session();
    let errors: object[] = [];
    try {
      const proxy = await freePort();
      const tlsPort = await freePort();
      const j = await s.junction({
        port: proxy,
        listen: [`tls:127.0.0.1:${tlsPort}`],
        extraYaml: tlsYaml(),
      });
      const tunnel = await tlsTunnel({ host: '127.0.0.1', port: tlsPort });
      try {
        const calls = 200;
        const uas = { scenario: UAS(), port: await freePort(), calls, timeoutS: 60, trace: true };
        const callee = s.uas(uas);
        await waitSippBound(uas);
        const caller = sippUac({
          scenario: UAC_RR(),
          port: await freePort(),
          calls,
          timeoutS: 60,
          callee: uas.port,
          proxy: tunnel.port,
          rate: 100,
          args: ['-t', 't1'],
          trace: true,
        });
        const [rc, rs] = await Promise.all([caller.done, callee.done]);
        assertAllPassed('uac', rc, calls);
        assertAllPassed('uas', rs, calls);
        const t = messageTable(rs.stdout);
        assert.equal(rows(t, 'recv', 'BYE')[0]?.messages, calls, showTable(t));
        // The callee saw both Record-Route entries: UDP (its side) on top, TLS (the caller's) below.
        assert.match(rs.messages, new RegExp(`Record-Route: <sip:127\\.0\\.0\\.1:${proxy};r2=on;lr`));
        assert.match(rs.messages, new RegExp(`<sip:127\\.0\\.0\\.1:${tlsPort};transport=tls;r2=on;lr`));
        assert.equal(tunnel.opened, 1);
        errors = j.errors();
      } finally {
        await tunnel.close();
      }
    } finally {
      await s.close();
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(s.junctionExits, [0]);
  });
});
