import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ProcessRunner, type ProcessRunnerOptions, simpleCommand } from './run.ts';

/** The process state letter, or undefined when it no longer runs (gone, or a zombie awaiting its reaper). */
function liveState(pid: number): string | undefined {
  try {
    const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return state === 'Z' || state === 'X' ? undefined : state;
  } catch {
    return undefined;
  }
}

/** Every test runs on each backend: Node's own spawn, the native spawner, the Perl spawner (same semantics). */
for (const [name, spawner] of [
  ['spawn', false],
  ['spawner', true],
  ['perl spawner', 'perl'],
] as const) {
  const made: ProcessRunner[] = [];
  const make = (o: ProcessRunnerOptions = {}): ProcessRunner => {
    const r = new ProcessRunner({ ...o, spawner });
    made.push(r);
    return r;
  };
  after(() => {
    for (const r of made) r.close();
  });

  test(`argv runs without a shell: metacharacters are plain arguments (${name})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-run-'));
    try {
      const marker = join(dir, 'pwned');
      const r = await make().run({
        argv: ['printf', '%s', `$(touch ${marker}); \`touch ${marker}\``],
      });
      assert.equal(r.exitCode, 0);
      assert.equal(r.stdout, `$(touch ${marker}); \`touch ${marker}\``);
      assert.equal(existsSync(marker), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`command runs through /bin/sh with stdin and the given environment only (${name})`, async () => {
    const r = await make().run({
      command: 'read line; echo "$line/$ONLY/$' + '{HOME:-unset}"',
      stdin: 'hello\n',
      env: { ONLY: 'x', PATH: '/usr/bin:/bin' },
    });
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'hello/x/unset\n');
  });

  test(`non-zero exit and missing programs are described, never thrown (${name})`, async () => {
    const runner = make();
    const bad = await runner.run({ command: 'exit 3' });
    assert.equal(bad.exitCode, 3);
    const missing = await runner.run({ argv: ['/nonexistent/junction-program'] });
    assert.equal(missing.exitCode, null);
    assert.match(missing.error ?? '', /ENOENT/);
    assert.equal(runner.running, 0);
  });

  test(`timeout kills the whole process group, grandchildren included (${name})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-run-'));
    try {
      const pidFile = join(dir, 'pid');
      const runner = make({ killGraceMs: 100 });
      const t0 = performance.now();
      const r = await runner.run({ command: `sleep 30 & echo $! > ${pidFile}; wait`, timeoutMs: 300 });
      const elapsed = performance.now() - t0;
      assert.equal(r.timedOut, true);
      assert.ok(elapsed >= 290 && elapsed < 1500, `took ${elapsed} ms`);
      const grandchild = Number(readFileSync(pidFile, 'utf8'));
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(liveState(grandchild), undefined, 'the grandchild survived the timeout');
      assert.equal(runner.running, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`SIGTERM-ignoring programs are killed after the grace period (${name})`, async () => {
    const r = await make({ killGraceMs: 100 }).run({
      command: "trap '' TERM; while :; do sleep 0.05; done",
      timeoutMs: 200,
    });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, 'SIGKILL');
  });

  test(`stdout is capped; the concurrency cap refuses at once (${name})`, async () => {
    const runner = make({ maxConcurrent: 1 });
    const big = runner.run({ command: 'head -c 100000 /dev/zero | tr "\\0" a', maxOutputBytes: 1000 });
    const refused = await runner.run({ argv: ['true'] });
    assert.equal(refused.refused, true);
    const r = await big;
    assert.equal(r.stdout.length, 1000);
    assert.equal(r.truncated, true);
    assert.equal(runner.running, 0);
  });

  test(`stderr lines reach the sink, bounded (${name})`, async () => {
    const lines: string[] = [];
    await make({ onStderr: (l) => lines.push(l) }).run({
      command: 'for i in $(seq 1 50); do echo "err $i" >&2; done',
    });
    assert.equal(lines.length, 20);
    assert.equal(lines[0], 'err 1');
  });

  test(`a background grandchild holding stdout does not hold the run (${name})`, async () => {
    const t0 = performance.now();
    const r = await make().run({ command: 'echo hi; (sleep 2 &) ; exit 0' });
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'hi\n');
    assert.ok(performance.now() - t0 < 1500);
  });
}

test('simple commands run without the shell; anything with shell syntax goes to /bin/sh', () => {
  assert.deepEqual(simpleCommand("/usr/local/bin/hook.sh 'sip:alice@example.com' x=1 ''"), [
    '/usr/local/bin/hook.sh',
    'sip:alice@example.com',
    'x=1',
    '',
  ]);
  assert.deepEqual(simpleCommand("./a.sh 'it'\\''s'"), undefined);
  for (const c of [
    'hook.sh x',
    'A=/x /bin/true',
    '/bin/echo $HOME',
    '/bin/echo a; /bin/true',
    '/bin/echo a | cat',
    '/bin/echo a > /tmp/x',
    '/bin/echo `id`',
    '/bin/echo "a"',
    '/bin/echo ~',
    '/bin/echo *',
    '/bin/echo a#b',
    "/bin/echo 'unterminated",
    "'/bin/echo' x",
  ])
    assert.equal(simpleCommand(c), undefined, c);
});

test('a simple command behaves as through the shell: exit code, arguments, script without #!', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'junction-run-'));
  try {
    const script = join(dir, 'noshebang');
    writeFileSync(script, 'printf "%s|" "$@"; exit 7\n');
    chmodSync(script, 0o755);
    for (const spawner of [false, true, 'perl'] as const) {
      const runner = new ProcessRunner({ spawner });
      const r = await runner.run({ command: `${script} 'a b' c` });
      runner.close();
      assert.deepEqual([r.exitCode, r.stdout], [7, 'a b|c|'], String(spawner));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
