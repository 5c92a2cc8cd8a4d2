/**
 * The `junction` command as operators run it: bin/junction as a child process, exit codes and
 * output checked.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/junction', import.meta.url));
const PKG = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const tmp = mkdtempSync(join(tmpdir(), 'junction-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function junction(args: string[], bin = BIN): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd: tmp, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

/** A config that binds nothing shared: a random high port, no management interfaces. */
function quietConfig(name: string): string {
  const port = 20000 + Math.floor(Math.random() * 30000);
  return file(
    name,
    `listen: [ udp:127.0.0.1:${port}, tcp:127.0.0.1:${port} ]\nstorage: memory\nmi: { http: false, fifo: false }\nlog_level: info\n`,
  );
}

describe('junction check-config', () => {
  it('exits 2 on a bad config and names each bad key with its line', async () => {
    const bad = file(
      'bad.yaml',
      'listen:\n  - udp:127.0.0.1:5060\n  - udp:127.0.0.1:99999\nmodules:\n  tm:\n    fr_timer: -5\n    fr_timr: 1\n',
    );
    const r = await junction(['check-config', '-c', bad]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /bad\.yaml:3:5: listen\[1\]: bad listen spec: .*port 99999 is out of range 1-65535/,
    );
    assert.match(r.stderr, /bad\.yaml:6:5: modules\.tm\.fr_timer: must not be negative, got -5/);
    assert.match(r.stderr, /modules\.tm\.fr_timr: unknown key \(did you mean 'fr_timer'\?\)/);
    assert.match(r.stderr, /3 errors in /);
    assert.equal(r.stdout, '');
  });

  it('exits 0 on a good config, and on none (embedded defaults)', async () => {
    const good = quietConfig('good.yaml');
    const r = await junction(['check-config', '--config', good]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /config OK: .*good\.yaml/);
    const d = await junction(['check-config']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /config OK: embedded defaults/);
  });

  it('--print writes the validated config as JSON', async () => {
    const r = await junction(['check-config', '-c', quietConfig('print.yaml'), '--print']);
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(r.stdout) as {
      storage: { kind: string };
      modules: { tm: { fr_timer: number } };
    };
    assert.equal(config.storage.kind, 'memory');
    assert.equal(config.modules.tm.fr_timer, 30000);
  });

  it('exits 2 when the file is missing', async () => {
    const r = await junction(['check-config', '-c', join(tmp, 'nope.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.yaml: cannot read config file: no such file/);
  });
});

describe('junction usage', () => {
  it('help and version exit 0', async () => {
    const h = await junction(['help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Usage: junction <command>/);
    assert.match(h.stdout, /check-script FILE/);
    const v = await junction(['version']);
    assert.equal(v.code, 0);
    assert.equal(v.stdout, `junction ${PKG.version} (node ${process.version})\n`);
  });

  it('bad command lines exit 2', async () => {
    const none = await junction([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage:/);
    const typo = await junction(['strat']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown command "strat" \(did you mean 'start'\?\)/);
    const opt = await junction(['check-config', '--bogus']);
    assert.equal(opt.code, 2);
    assert.match(opt.stderr, /junction check-config: Unknown option '--bogus'/);
    const missing = await junction(['check-script']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing FILE/);
  });

  it('mi and fifo: exit 1 when no server answers, 2 without a command', async () => {
    const r = await junction(['mi', '--url', 'http://127.0.0.1:1/mi', 'uptime']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^junction mi: .*ECONNREFUSED/);
    const f = await junction(['fifo', '--fifo', join(tmp, 'no_such_fifo'), 'uptime']);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /^junction fifo: /);
    assert.equal((await junction(['mi'])).code, 2);
    const mixed = await junction(['mi', 'ul_show_contact', 'location', 'aor=alice']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /mix of positional and name=value/);
  });

  it('works through a symlink (npm link, node_modules/.bin)', async () => {
    const link = join(tmp, 'junction-link');
    symlinkSync(BIN, link);
    const r = await junction(['version'], link);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^junction /);
  });
});

describe('junction start', () => {
  it('exits 2 on a bad config, before starting anything', async () => {
    const r = await junction(['start', '-c', file('bad-start.yaml', 'log_level: loud\n')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /log_level: unknown log level/);
  });

  it('runs until SIGTERM, then stops gracefully with exit 0', { timeout: 60_000 }, async () => {
    const child = spawn(BIN, ['start', '-c', quietConfig('start.yaml')], {
      cwd: tmp,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        // The signal handlers are installed once the server is up (its 'listening' line with
        // the listeners): a SIGHUP before that would end the process with Node's default action.
        if (stdout.includes('"msg":"listening"') && stdout.includes('"listen":[')) resolve();
      });
      child.on('exit', () => reject(new Error(`exited before starting:\n${stdout}\n${stderr}`)));
    });
    // Give the server a moment to finish starting, then ask for a reload and a stop.
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; level: string; signal?: string });
    assert.ok(lines.some((l) => l.msg === 'junction starting' && l.level === 'info'));
    assert.ok(lines.some((l) => /SIGHUP/.test(l.msg)));
    assert.ok(lines.some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM'));
    assert.ok(lines.some((l) => l.msg === 'stopped'));
  });
});
