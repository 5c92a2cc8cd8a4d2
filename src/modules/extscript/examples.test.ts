/** The hook examples in examples/m4 answer as documented (HTTP with its stub API, local, persistent). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ProcessRunner } from '../../process/run.ts';
import { encodeRequest } from './contract.ts';
import { HttpHook } from './http_hook.ts';
import { PersistentHook } from './persistent_hook.ts';
import { spawnHook } from './spawn_hook.ts';

const EXAMPLES = fileURLToPath(new URL('../../../examples/m4/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'm4-examples-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const req = (user_id: number, dst: string): string =>
  encodeRequest({ cp_id: 2, user_id, src: '37000000000', dst });

describe('examples/m4', () => {
  it('http_hook.ts: a new source number from the (stub) API, a rejection when the API has none', async () => {
    const [hookPort, apiPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        join(EXAMPLES, 'http_hook.ts'),
        '--listen',
        `127.0.0.1:${hookPort}`,
        '--api',
        `http://127.0.0.1:${apiPort}`,
        '--stub',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, M4_HOOK_LOG: join(dir, 'hook.log') } },
    );
    const hook = new HttpHook();
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('example did not start')), 10000);
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('listening')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      const ok = await hook.call(`http://127.0.0.1:${hookPort}`, req(2, '370'), 2000);
      assert.equal(ok.kind, 'ok', JSON.stringify(ok));
      if (ok.kind === 'ok')
        assert.deepEqual(ok.reply, { status_code: 0, message: 'success', new_src: '+37060211111' });
      const none = await hook.call(`http://127.0.0.1:${hookPort}`, req(500, '370'), 2000);
      assert.equal(none.kind, 'ok');
      if (none.kind === 'ok')
        assert.deepEqual(none.reply, { status_code: 1, message: 'status code failed', reject_call: true });
    } finally {
      await hook.close();
      child.kill();
    }
  });

  it('local_hook.sh and persistent_hook.mjs: same policy, one process per call or one for all', async () => {
    const runner = new ProcessRunner();
    const persistent = new PersistentHook(join(EXAMPLES, 'persistent_hook.mjs'), runner, {
      info: () => undefined,
      warn: () => undefined,
    });
    try {
      for (const call of [
        (line: string) => spawnHook(runner, join(EXAMPLES, 'local_hook.sh'), line, 3000),
        (line: string) => persistent.call(line, 3000),
      ]) {
        const national = await call(req(1, '061234567'));
        assert.equal(national.kind, 'ok', JSON.stringify(national));
        if (national.kind === 'ok') {
          assert.equal(national.reply.new_dst, '37061234567');
          assert.equal(national.reply.src_prefix, '+');
        }
        const premium = await call(req(1, '0900123'));
        assert.equal(premium.kind, 'ok');
        if (premium.kind === 'ok') assert.equal(premium.reply.reject_call, true);
        const other = await call(req(1, '4412'));
        assert.equal(other.kind, 'ok');
        if (other.kind === 'ok') assert.equal(other.reply.new_dst, undefined);
      }
    } finally {
      persistent.stop();
    }
  });
});
