import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ExtScriptService } from './service.ts';
import { statsView } from './stats.ts';

const dir = mkdtempSync(join(tmpdir(), 'extscript-service-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function program(name: string, out: string, exit = 0): { kind: 'exec'; path: string } {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\ncat >/dev/null\nprintf '%s\\n' '${out}'\nexit ${exit}\n`);
  chmodSync(path, 0o755);
  return { kind: 'exec', path };
}

describe('ExtScriptService', () => {
  const lines: string[] = [];
  const log = {
    info: (_o: object, m: string) => lines.push(m),
    debug: (_o: object, m: string) => lines.push(m),
    warn: (_o: object, m: string) => lines.push(m),
  };
  const settings = {
    timeoutMs: 2000,
    rejectOnTimeout: false,
    rejectOnFailure: true,
    hangupCauses: { 384: 403 },
    updateTo: true,
  };
  const svc = new ExtScriptService(settings, log);
  after(() => svc.close());
  const req = { cp_id: 77, user_id: 1, src: '37000000000', dst: '37012345678' };

  it('applies new_*, then prefix and suffix; logs as M4 does; counts per connection point', async () => {
    const d = await svc.execute(
      program('ok.sh', '{"status_code":0,"message":"success","new_src":"37011111111","dst_suffix":"9"}'),
      'spawn',
      req,
    );
    assert.equal(d.action, 'continue');
    if (d.action === 'continue')
      assert.deepEqual([d.src, d.dst, d.result], ['37011111111', '370123456789', 'ok']);
    assert.ok(lines.some((l) => l.startsWith('Executing external script: /')));
    assert.ok(lines.some((l) => /^External script executed in \d\.\d{6} seconds$/.test(l)));
    assert.ok(lines.includes('External script: changing src from [37000000000] to [37011111111]'));
    assert.ok(
      lines.includes('Status code: 0') &&
        lines.includes('Message: success') &&
        lines.includes('New src: 37011111111'),
    );
  });

  it('rejects with the mapped status (384 → 403) or the default 503 (386), reason from message', async () => {
    const r = await svc.execute(program('rej.sh', '{"reject_call":1,"message":"No credit"}'), 'spawn', req);
    assert.deepEqual(r.action === 'reject' && [r.hgc, r.status, r.reason, r.result], [
      384,
      403,
      'No credit',
      'rejected',
    ]);
    const f = await svc.execute(program('fail.sh', '{}', 2), 'spawn', req);
    assert.deepEqual(f.action === 'reject' && [f.hgc, f.status, f.result], [386, 503, 'failure']);
    const s = statsView(77) as {
      calls: number;
      ok: number;
      rejects: number;
      failures: number;
      latency_ms: { count: number };
    };
    assert.deepEqual([s.calls, s.ok, s.rejects, s.failures, s.latency_ms.count], [3, 2, 2, 1, 3]);
  });
});
