import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProcessRunner } from '../../process/run.ts';
import { HttpHook } from './http_hook.ts';
import { PersistentHook } from './persistent_hook.ts';
import { spawnHook } from './spawn_hook.ts';

const REQ = '{"cp_id":2,"user_id":2,"src":"37000000000","dst":"37012345678"}';
const dir = mkdtempSync(join(tmpdir(), 'extscript-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

describe('HTTP hook', () => {
  let received: { method?: string; type?: string; body: string }[] = [];
  let sockets = new Set<unknown>();
  const server: Server = createServer((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      received.push({ method: req.method, type: req.headers['content-type'], body });
      const path = req.url ?? '/';
      if (path === '/ok') res.end('{"status_code":0,"message":"success","new_src":"37011111111"}');
      else if (path === '/500') {
        res.statusCode = 500;
        res.end('{}');
      } else if (path === '/text') res.end('hello');
      else if (path === '/big') res.end(`{"message":"${'x'.repeat(70000)}"}`);
      else if (path === '/slow') setTimeout(() => res.end('{}'), 400);
      else res.end('{}');
    });
  });
  const hook = new HttpHook();
  after(async () => {
    await hook.close();
    server.closeAllConnections();
    server.close();
  });

  it('POSTs the JSON over a kept-alive connection and reads the reply', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    received = [];
    sockets = new Set();
    for (let i = 0; i < 6; i++) {
      const o = await hook.call(`${base}/ok`, REQ, 900);
      assert.equal(o.kind, 'ok');
      if (o.kind === 'ok') assert.equal(o.reply.new_src, '37011111111');
    }
    assert.deepEqual(received[0], { method: 'POST', type: 'application/json', body: REQ });
    // Connections are reused (undici may alternate between two pooled ones).
    assert.ok(sockets.size <= 2, `${sockets.size} connections for six calls`);

    const fail = async (path: string, want: RegExp): Promise<void> => {
      const o = await hook.call(`${base}${path}`, REQ, 900);
      assert.equal(o.kind, 'failure', path);
      if (o.kind === 'failure') assert.match(o.error, want);
    };
    const before = sockets.size;
    await fail('/500', /HTTP status 500/);
    await fail('/500', /HTTP status 500/);
    assert.equal(sockets.size, before, 'a non-2xx reply leaves its connection reusable');
    await fail('/text', /not JSON/);
    await fail('/big', /over 65536/);
    const t0 = performance.now();
    const slow = await hook.call(`${base}/slow`, REQ, 100);
    assert.equal(slow.kind, 'timeout');
    assert.ok(performance.now() - t0 < 300, 'no call waits longer than the timeout');
    // Many calls timing out together (one shared deadline list) each get their answer on time.
    const t1 = performance.now();
    const many = await Promise.all(Array.from({ length: 20 }, () => hook.call(`${base}/slow`, REQ, 100)));
    assert.deepEqual(new Set(many.map((o) => o.kind)), new Set(['timeout']));
    assert.ok(performance.now() - t1 < 300, 'no call waits longer than the timeout');
    const closed = await hook.call('http://127.0.0.1:1/', REQ, 900);
    assert.equal(closed.kind, 'failure');
    if (closed.kind === 'failure') assert.match(closed.error, /connection error/);
  });
});

describe('local hook, one process per call', () => {
  const runner = new ProcessRunner();

  it('writes the JSON line on stdin and reads one JSON line', async () => {
    const echo = script(
      'ok.sh',
      'read line; case "$line" in *\'"src":"37000000000"\'*) echo \'{"new_dst":"999"}\';; *) echo "{}";; esac',
    );
    const o = await spawnHook(runner, echo, REQ, 2000);
    assert.equal(o.kind, 'ok');
    if (o.kind === 'ok') assert.equal(o.reply.new_dst, '999');
  });

  it('fails on exit code, empty output, a missing program; times out and kills', async () => {
    const cases: [string, RegExp][] = [
      [script('exit3.sh', 'echo "{}"; exit 3'), /exit code 3/],
      [script('empty.sh', 'cat >/dev/null'), /empty reply/],
      [join(dir, 'missing'), /not started/],
      [script('junk.sh', 'echo junk'), /not JSON/],
    ];
    for (const [path, want] of cases) {
      const o = await spawnHook(runner, path, REQ, 2000);
      assert.equal(o.kind, 'failure', path);
      if (o.kind === 'failure') assert.match(o.error, want, path);
    }
    const t0 = performance.now();
    const o = await spawnHook(runner, script('sleep.sh', 'sleep 5'), REQ, 150);
    assert.equal(o.kind, 'timeout');
    assert.ok(performance.now() - t0 < 1500);
    assert.equal(runner.running, 0, 'the timed-out child was killed');
  });
});

describe('persistent local hook', () => {
  const runner = new ProcessRunner();
  const log = { info: () => undefined, warn: () => undefined };

  it('answers many calls in flight by id; a timeout does not disturb the others; restarts', async () => {
    // Answers "dst 1" slowly (in the background, so later requests overtake it), others at once;
    // exits after a "dst":"quit" request.
    const prog = script(
      'persist.sh',
      `while IFS= read -r line; do
  id=$(echo "$line" | sed 's/^{"id":\\([0-9]*\\).*/\\1/')
  case "$line" in
    *'"dst":"slow"'*) (sleep 0.3; echo "{\\"id\\":$id,\\"new_dst\\":\\"late\\"}") & ;;
    *'"dst":"quit"'*) exit 0 ;;
    *) echo "{\\"id\\":$id,\\"new_src\\":\\"n$id\\"}" ;;
  esac
done`,
    );
    const hook = new PersistentHook(prog, runner, log);
    try {
      const slow = hook.call('{"cp_id":1,"user_id":1,"src":"1","dst":"slow"}', 100);
      const quick = await Promise.all([1, 2, 3].map(() => hook.call(REQ, 2000)));
      for (const o of quick) assert.equal(o.kind, 'ok');
      const ids = quick.map((o) => (o.kind === 'ok' ? o.reply.new_src : ''));
      assert.equal(new Set(ids).size, 3, `each call got its own answer: ${ids}`);
      assert.equal((await slow).kind, 'timeout');
      assert.equal(hook.starts, 1);
      const quit = await hook.call('{"cp_id":1,"user_id":1,"src":"1","dst":"quit"}', 1000);
      assert.equal(quit.kind, 'failure');
      const again = await hook.call(REQ, 3000);
      assert.equal(again.kind, 'ok', JSON.stringify(again));
      assert.equal(hook.starts, 2);
    } finally {
      hook.stop();
    }
  });
});
