/**
 * Local external scripts, M4's way: one process per call (started without a shell through the
 * ProcessRunner), the request as one JSON line on stdin, one JSON line expected on stdout. The
 * timeout applies (the process group is killed). Exit code ≠ 0, no output, output over 64 KiB,
 * a program that cannot be started: failures.
 */
import type { ProcessRunner } from '../../process/run.ts';
import { MAX_REPLY_BYTES } from './contract.ts';
import { failure, fromBody, type HookOutcome, timeout } from './outcome.ts';

export async function spawnHook(
  runner: ProcessRunner,
  path: string,
  line: string,
  timeoutMs: number,
): Promise<HookOutcome> {
  const started = performance.now();
  const r = await runner.run({
    argv: [path],
    stdin: `${line}\n`,
    timeoutMs,
    maxOutputBytes: MAX_REPLY_BYTES + 1,
  });
  if (r.timedOut) return timeout(started);
  if (r.refused) return failure(`not started: ${r.error ?? 'refused'}`, started);
  if (r.error !== undefined && r.exitCode === null) return failure(`not started: ${r.error}`, started);
  if (r.truncated) return failure(`output over ${MAX_REPLY_BYTES} bytes`, started);
  if (r.exitCode !== 0) {
    return failure(r.signal !== null ? `killed by ${r.signal}` : `exit code ${r.exitCode}`, started);
  }
  return fromBody(r.stdout, started);
}
