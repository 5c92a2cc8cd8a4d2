/** KSR.extscript.run() / run_script() and KSR.cp.route() on a fake context (no network). */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../config/load.ts';
import { RoutingPoints, setRoutingPoints } from '../../routing_points/points.ts';
import { fakeContext, request } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { ExtScriptService, setExtScriptService } from './service.ts';

const dir = mkdtempSync(join(tmpdir(), 'extscript-ksr-'));
const hook = join(dir, 'hook.sh');
writeFileSync(
  hook,
  `#!/bin/sh
read -r line
case "$line" in
  *'"dst":"370900'*) echo '{"reject_call":1,"message":"premium"}' ;;
  *) echo '{"new_src":"37011111111","dst_prefix":"00"}' ;;
esac
`,
);
chmodSync(hook, 0o755);
const silent = { info: () => undefined, debug: () => undefined, warn: () => undefined };
const svc = new ExtScriptService(
  { timeoutMs: 2000, rejectOnTimeout: false, rejectOnFailure: false, hangupCauses: {}, updateTo: true },
  silent,
);
const cfg = parseConfig(`
connection_points:
  - { id: 2, user_id: 7, match: { ip: 192.0.2.0/24 }, external_script: ${hook}, localization: { dst: "-0+370" }, termination_points: [10] }
termination_points:
  - { id: 10, uri: "sip:198.51.100.1:5060" }
`);
assert.ok(cfg.ok, JSON.stringify(!cfg.ok && cfg.errors));
setRoutingPoints(new RoutingPoints(cfg.config.connection_points, cfg.config.termination_points));
setExtScriptService(svc);
after(async () => {
  setExtScriptService(undefined);
  setRoutingPoints(new RoutingPoints([], []));
  await svc.close();
  rmSync(dir, { recursive: true, force: true });
});

type K = Record<string, Record<string, (...a: unknown[]) => Promise<number>>>;
const call = (dst: string) =>
  fakeContext(
    request({
      ruri: `sip:${dst}@junction.example.com`,
      from: '<sip:37000000000@192.0.2.10>;tag=f1',
      to: `<sip:${dst}@junction.example.com>`,
    }),
    { source: { address: '192.0.2.10', port: 5060 } },
  );

describe('KSR.extscript', () => {
  it('run(): the connection point hook with localized numbers, applied to R-URI, From and To', async () => {
    const ctx = call('061234567');
    const K = ksr(ctx) as unknown as K;
    assert.equal(await K.extscript!.run!(), 1);
    assert.equal(ctx.request.ruri, 'sip:0037061234567@junction.example.com');
    const out = ctx.request.serialize().toString();
    assert.match(out, /\r\nFrom: <sip:37011111111@192\.0\.2\.10>;tag=f1\r\n/);
    assert.match(out, /\r\nTo: <sip:0037061234567@junction\.example\.com>\r\n/);
    assert.equal(ctx.vars.get('extscript_result'), 'ok');
  });

  it('run(): a rejection is answered with the mapped status and the message', async () => {
    const ctx = call('0900123');
    assert.equal(await (ksr(ctx) as unknown as K).extscript!.run!(), -1);
    assert.deepEqual(
      ctx.replies.map((r) => [r.code, r.reason]),
      [[503, 'premium']],
    );
  });

  it('run_script(): any script, nothing applied, the outcome in $var(extscript_*)', async () => {
    const ctx = call('061234567');
    assert.equal(await (ksr(ctx) as unknown as K).extscript!.run_script!(hook, '1', '2', 9, 9), 1);
    assert.equal(ctx.request.ruri, 'sip:061234567@junction.example.com');
    assert.deepEqual([ctx.vars.get('extscript_src'), ctx.vars.get('extscript_dst')], ['37011111111', '002']);
    assert.equal(await (ksr(ctx) as unknown as K).extscript!.run_script!('relative/path'), -5);
  });

  it('cp.route(): unknown sources get 403; known ones go to their termination point', async () => {
    const stranger = fakeContext(request(), { source: { address: '203.0.113.9', port: 5060 } });
    assert.equal(await (ksr(stranger) as unknown as K).cp!.route!(), -1);
    assert.deepEqual(
      stranger.replies.map((r) => r.code),
      [403],
    );
    const ctx = call('061234567');
    assert.equal(await (ksr(ctx) as unknown as K).cp!.route!(), 1);
    assert.equal(ctx.relays[0]?.ruri, 'sip:0037061234567@198.51.100.1:5060');
  });
});
