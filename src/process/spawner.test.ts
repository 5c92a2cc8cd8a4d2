import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ProcessRunner } from './run.ts';
import { nativeSpawner } from './spawner.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the native spawner is built (with the C compiler, installed when missing)', () => {
  try {
    execFileSync('sh', ['-c', 'command -v cc'], { stdio: 'pipe' });
  } catch {
    execFileSync('bash', [fileURLToPath(new URL('../../scripts/ensure-debian.sh', import.meta.url)), 'gcc'], {
      stdio: 'inherit',
    });
  }
  assert.match(nativeSpawner() ?? '', /spawner-[0-9a-f]{16}$/);
});

test('a spawner that dies fails the runs in flight clearly, and the next run starts a new one', async () => {
  const runner = new ProcessRunner({ spawner: true });
  try {
    assert.equal((await runner.run({ argv: ['true'] })).exitCode, 0);
    const first = runner.spawnerPid;
    assert.ok(first !== undefined && alive(first));
    const inFlight = runner.run({ command: 'sleep 5' });
    await sleep(100);
    process.kill(first, 'SIGKILL');
    const r = await inFlight;
    assert.equal(r.exitCode, null);
    assert.match(r.error ?? '', /spawner exited/);
    assert.equal(runner.running, 0);
    assert.equal((await runner.run({ command: 'echo again' })).stdout, 'again\n');
    assert.notEqual(runner.spawnerPid, first);
  } finally {
    runner.close();
  }
});

test('close() ends the spawner and the process groups it still runs', async () => {
  const runner = new ProcessRunner({ spawner: true });
  const pidFile = join(mkdtempSync(join(tmpdir(), 'junction-spawner-')), 'pid');
  const pending = runner.run({ command: `echo $$ > ${pidFile}; exec sleep 30` });
  await sleep(200);
  const program = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(alive(program));
  const spawner = runner.spawnerPid as number;
  runner.close();
  const r = await pending;
  assert.match(r.error ?? '', /closed/);
  const deadline = Date.now() + 3000;
  while (alive(spawner) && Date.now() < deadline) await sleep(20);
  assert.equal(alive(spawner), false);
  assert.equal(alive(program), false);
});

test('many concurrent runs through one spawner all complete with their own output', async () => {
  const runner = new ProcessRunner({ spawner: true });
  try {
    const runs = Array.from({ length: 50 }, (_, i) =>
      runner.run({ argv: ['sh', '-c', 'cat; echo "$N"'], stdin: `in-${i}:`, env: { N: String(i) } }),
    );
    const results = await Promise.all(runs);
    for (const [i, r] of results.entries()) assert.equal(r.stdout, `in-${i}:${i}\n`);
  } finally {
    runner.close();
  }
});
