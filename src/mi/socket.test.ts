import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createManagement } from './index.ts';
import { type MiSocketServer, startSocketServer } from './socket.ts';
import { fakeServer, memoryLogger } from './test_support.ts';

describe('unix socket management interface (NDJSON)', () => {
  let dir: string;
  let server: MiSocketServer;
  const { log } = memoryLogger();
  const { registry } = createManagement({ server: fakeServer(), modules: [], log, version: '1' });
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'junction-mi-sock-'));
    server = await startSocketServer({ path: join(dir, 'mi.sock'), registry, maxLineBytes: 1000 });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers one JSON line per request line, mode 0660', async () => {
    assert.equal(statSync(server.path).mode & 0o777, 0o660);
    const sock = connect(server.path);
    const lines: string[] = [];
    let buf = '';
    const got = new Promise<void>((resolve) => {
      sock.on('data', (c: Buffer) => {
        buf += c.toString();
        const parts = buf.split('\n');
        buf = parts.pop()!;
        lines.push(...parts);
        if (lines.length === 3) resolve();
      });
    });
    sock.write(
      '{"jsonrpc":"2.0","id":1,"method":"version"}\n{"jsonrpc":"2.0","method":"uptime"}\nnot json\n',
    );
    sock.write('{"jsonrpc":"2.0","id":2,"method":"which","params":["nope"]}\n');
    await got;
    sock.destroy();
    const byId = lines.map((l) => JSON.parse(l) as { id: number | null; error?: { code: number } });
    assert.deepEqual(byId.map((r) => r.id).sort(), [1, 2, null].sort());
    assert.equal(byId.find((r) => r.id === null)?.error?.code, -32700);
    assert.equal(byId.find((r) => r.id === 2)?.error?.code, 404);
  });

  it('refuses a symlink path', async () => {
    const link = join(dir, 'link.sock');
    symlinkSync(server.path, link);
    await assert.rejects(startSocketServer({ path: link, registry }), /symbolic link/);
  });
});
