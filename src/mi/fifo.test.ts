import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fifoExchange, fifoText, miOverFifo } from './client.ts';
import { type FifoServer, startFifoServer } from './fifo.ts';
import { createManagement } from './index.ts';
import { fakeServer, memoryLogger } from './test_support.ts';

describe('FIFO management server', () => {
  let dir: string;
  let server: FifoServer;
  const { log, lines } = memoryLogger();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'junction-mi-fifo-'));
    const big = {
      name: 'big_dump',
      help: 'a 1 MB result',
      recipes: [[]],
      handler: () => 'x'.repeat(1_000_000),
    };
    const { registry } = createManagement({
      server: fakeServer(),
      modules: [{ name: 'big', functions: {}, commands: [big] }],
      log,
      version: '1.2.3',
    });
    server = await startFifoServer({
      path: join(dir, 'junction_fifo'),
      registry,
      replyDir: dir,
      openRetries: 10,
      retryIntervalMs: 10,
      replyTimeoutMs: 300,
      maxRequestBytes: 4096,
      log,
    });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a real FIFO with mode 0660', () => {
    const st = lstatSync(server.path);
    assert.ok(st.isFIFO());
    assert.equal(st.mode & 0o777, 0o660);
  });

  it("answers the seed's `serctl fifo uptime` and `which` over the text protocol", async () => {
    const up = await fifoText(server.path, 'uptime', [], { replyDir: dir });
    assert.match(
      up,
      /^200 OK\nNow: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\nUp Since: .+\nUp time: \d+ \[sec\]\n$/,
    );
    const which = await fifoText(server.path, 'which', [], { replyDir: dir });
    const names = which.split('\n');
    assert.equal(names[0], '200 OK');
    for (const n of ['ps', 'which', 'version', 'uptime']) assert.ok(names.includes(n), n);
    assert.equal(
      await fifoText(server.path, 'foobar', [], { replyDir: dir }),
      "500 command 'foobar' not available\n",
    );
    assert.match(
      await fifoText(server.path, 'which', ['a', 'b', 'c'], { replyDir: dir }),
      /^400 Invalid params/,
    );
  });

  it('speaks JSON-RPC with the OpenSIPS :reply_fifo:json framing', async () => {
    const r = await miOverFifo(server.path, 'version', undefined, { replyDir: dir });
    assert.deepEqual(r.result, { Server: `Junction 1.2.3 (node ${process.version})` });
    const bad = await fifoExchange(
      server.path,
      (name) => `:${name}:{"jsonrpc":"2.0","id":1,"method":"uptime"\n,"params":{"x":1}}\n`,
      {
        replyDir: dir,
      },
    );
    assert.equal((JSON.parse(bad) as { error: { code: number } }).error.code, -32602);
    const parse = await fifoExchange(server.path, (name) => `:${name}:{"jsonrpc": 2.0, nope}\n`, {
      replyDir: dir,
    });
    assert.equal((JSON.parse(parse) as { error: { code: number } }).error.code, -32700);
  });

  it('refuses oversized requests with an error and keeps serving', async () => {
    const big = await fifoExchange(
      server.path,
      (name) => `:${name}:{"jsonrpc":"2.0","id":1,"method":"which","params":["${'x'.repeat(8000)}"]}\n`,
      {
        replyDir: dir,
      },
    );
    assert.ok(big.includes('request larger than 4096 bytes'), big.slice(0, 300));
    assert.match(await fifoText(server.path, 'uptime', [], { replyDir: dir }), /^200 OK/);
  });

  it('gives up on a reply FIFO nobody reads, a missing one, or a symlink, and keeps serving', async () => {
    // A reply FIFO that exists but is never opened for reading (ENXIO on every retry).
    execFileSync('mkfifo', [join(dir, 'never_read')]);
    // A symlink where the reply FIFO should be: never followed.
    const target = join(dir, 'target_file');
    writeFileSync(target, 'untouched');
    symlinkSync(target, join(dir, 'evil'));
    const fs = await import('node:fs');
    const w = fs.openSync(server.path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(w, ':uptime:never_read\n\n:uptime:missing\n\n:uptime:evil\n\n:uptime:../x\n\n');
    fs.closeSync(w);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(fs.readFileSync(target, 'utf8'), 'untouched');
    assert.ok(lines.some((l) => String(l.msg).includes('no reader on the reply FIFO')));
    assert.ok(lines.some((l) => String(l.msg).includes('not a FIFO')));
    assert.match(await fifoText(server.path, 'uptime', [], { replyDir: dir }), /^200 OK/);
  });

  it('abandons a reply the client opened but never reads (bounded), and keeps serving', async () => {
    execFileSync('mkfifo', [join(dir, 'slow_reader')]);
    const fs = await import('node:fs');
    const { constants } = fs;
    const rfd = fs.openSync(join(dir, 'slow_reader'), constants.O_RDONLY | constants.O_NONBLOCK);
    const w = fs.openSync(server.path, constants.O_WRONLY | constants.O_NONBLOCK);
    fs.writeSync(w, ':slow_reader:{"jsonrpc":"2.0","id":1,"method":"big_dump"}\n');
    fs.closeSync(w);
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(lines.some((l) => String(l.msg).includes('the client does not read it')));
    fs.closeSync(rfd);
    assert.match(await fifoText(server.path, 'uptime', [], { replyDir: dir }), /^200 OK/);
  });

  it('writes large results whole (not capped)', async () => {
    const r = await miOverFifo(server.path, 'big_dump', [], { replyDir: dir });
    assert.equal((r.result as string).length, 1_000_000);
  });

  it('refuses a FIFO path that is a symlink or a regular file', async () => {
    const { registry } = createManagement({ server: fakeServer(), modules: [], log, version: '1' });
    const link = join(dir, 'link_fifo');
    symlinkSync(server.path, link);
    await assert.rejects(startFifoServer({ path: link, registry }), /symbolic link/);
    await assert.rejects(startFifoServer({ path: server.path, registry }), /another process is reading it/);
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    await assert.rejects(startFifoServer({ path: file, registry }), /not a FIFO/);
  });
});
