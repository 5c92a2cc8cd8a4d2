/**
 * What the SIPp benches share: the loopback layout of ../shared/bench (proxy 5060, UAC 5070, UAS
 * 5080, the latency probe 5072/5082), find-max.sh's pass rule, the process guard (stop everything
 * started on error, signal or deadline), and waiting for ports (the machine is shared).
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { killAllSync, stopAll } from './procs.ts';
import type { UacResult } from './sipp.ts';

export const PROXY = { host: '127.0.0.1', port: 5060 };
export const UAS = { host: '127.0.0.1', port: 5080 };
export const UAC_PORT = 5070;
export const PROBE_UAC_PORT = 5072;
export const PROBE_UAS_PORT = 5082;
/** find-max.sh: a step passes with not-ok < 0.1 % of calls, retransmissions ≤ 0.5 %, rate ≥ 95 %. */
export const FAIL_MAX = 0.001;
export const RETRANS_MAX = 0.005;

export function passes(sipp: UacResult, rate: number): boolean {
  return (
    !sipp.aborted &&
    sipp.created > 0 &&
    sipp.notOk / sipp.calls < FAIL_MAX &&
    sipp.retrans / sipp.calls <= RETRANS_MAX &&
    sipp.cps >= 0.95 * rate
  );
}

/**
 * Stop every process the bench started on SIGINT/SIGTERM, on exit, and at the deadline. `die`
 * reports why, stops everything and exits; `done` cancels the deadline.
 */
export function guard(
  name: string,
  maxMinutes: number,
): { cleanup: () => Promise<void>; die: (code: number, why: string) => Promise<never>; done: () => void } {
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= stopAll();
    return cleaning;
  };
  const die = async (code: number, why: string): Promise<never> => {
    console.error(`${name}: ${why}; stopping everything it started`);
    await cleanup();
    process.exit(code);
  };
  process.on('SIGINT', () => void die(130, 'SIGINT'));
  process.on('SIGTERM', () => void die(143, 'SIGTERM'));
  process.on('exit', () => killAllSync());
  const deadline = setTimeout(
    () => void die(3, `deadline of ${maxMinutes} min reached`),
    maxMinutes * 60_000,
  );
  return { cleanup, die, done: () => clearTimeout(deadline) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind({ address: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Ports are shared with other users of the machine: wait (bounded) until they are free. */
export async function waitPorts(ports: number[], timeoutMs: number, log: (s: string) => void): Promise<void> {
  const until = performance.now() + timeoutMs;
  let said = false;
  for (;;) {
    const busy: number[] = [];
    for (const p of ports) if (!(await portFree(p))) busy.push(p);
    if (busy.length === 0) return;
    if (performance.now() > until) {
      let who = '';
      try {
        who = execFileSync('ss', ['-Hulnp'], { encoding: 'utf8' })
          .split('\n')
          .filter((l) => busy.some((p) => l.includes(`:${p} `)))
          .join('\n');
      } catch {
        // ss missing: no detail
      }
      throw new Error(`udp port(s) ${busy.join(', ')} still in use after ${timeoutMs / 1000} s\n${who}`);
    }
    if (!said) log(`waiting for udp port(s) ${busy.join(', ')} to be free ...`);
    said = true;
    await sleep(1000);
  }
}
