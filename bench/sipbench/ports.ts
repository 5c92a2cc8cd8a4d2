/** UDP ports the benchmarks need: free now, or wait (bounded) until other users of the machine let go. */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';

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
