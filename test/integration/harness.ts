/**
 * Integration plumbing: free loopback ports, a Junction server started as a child process with a
 * generated config, and SIPp runs. Everything started here is stopped by PID by the caller's
 * `after` hooks (stop()); nothing is killed by name.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const NODE = process.execPath;

/** Make sure SIPp is installed (Debian sip-tester), through the project's own script. */
export function ensureSipp(): void {
  execFileSync('bash', [join(REPO, 'scripts/ensure-debian.sh'), 'sip-tester'], { stdio: 'inherit' });
}

/** A port free for both UDP and TCP on the address (the OS picks; a race is unlikely on loopback). */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((ok, fail) => {
      const s = createServer();
      s.once('error', fail);
      s.listen(0, address, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => ok(p));
      });
    });
    const udpFree = await new Promise<boolean>((ok) => {
      const u = createSocket(address.includes(':') ? 'udp6' : 'udp4');
      u.once('error', () => ok(false));
      u.bind(port, address, () => u.close(() => ok(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}

export interface RunningServer {
  readonly pid: number;
  readonly port: number;
  readonly output: () => string;
  stop(): Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
}

/** Start `junction start -c <generated config>`; resolves once it logs that it is listening. */
export async function startJunction(opts: {
  port: number;
  script?: string;
  extraYaml?: string;
  tcp?: boolean;
  timeoutMs?: number;
}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'junction-it-'));
  const listen = [`udp:127.0.0.1:${opts.port}`];
  if (opts.tcp !== false) listen.push(`tcp:127.0.0.1:${opts.port}`);
  const cfg = [
    'listen:',
    ...listen.map((l) => `  - ${l}`),
    `script: ${opts.script ?? join(REPO, 'routes/default.ts')}`,
    'log_level: warn',
    'storage: memory',
    'mi: { http: "", fifo: "" }',
    opts.extraYaml ?? '',
  ].join('\n');
  const cfgPath = join(dir, 'junction.yaml');
  writeFileSync(cfgPath, cfg);
  const child: ChildProcess = spawn(join(REPO, 'bin/junction'), ['start', '-c', cfgPath], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const deadline = Date.now() + (opts.timeoutMs ?? 15000);
  while (!out.includes('listening')) {
    if (child.exitCode !== null) throw new Error(`junction exited ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`junction did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid ?? 0,
    port: opts.port,
    output: () => out,
    signal: (sig) => child.kill(sig),
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Counters from SIPp's final statistics screen. */
  successful: number;
  failed: number;
}

/** Run SIPp to completion (bounded by `timeoutMs`); `args` are SIPp's own. */
export function runSipp(args: string[], timeoutMs = 120000): { done: Promise<SippResult>; stop(): void; pid: number } {
  const child = spawn('sipp', [...args, '-nostdin', '-trace_err', '-bind_local'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: mkdtempSync(join(tmpdir(), 'sipp-')),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<SippResult>((ok) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      ok({ code, stdout, stderr, successful: counter(stdout, 'Successful call'), failed: counter(stdout, 'Failed call') });
    });
  });
  return { done, pid: child.pid ?? 0, stop: () => child.kill('SIGTERM') };
}

/** The cumulative column of a SIPp final-statistics line such as "Successful call | 10 | 2000". */
function counter(screen: string, label: string): number {
  const lines = screen.split('\n').filter((l) => l.includes(label));
  const last = lines[lines.length - 1];
  if (last === undefined) return -1;
  const cells = last.split('|').map((c) => c.trim());
  const n = Number(cells[cells.length - 1]);
  return Number.isFinite(n) ? n : -1;
}
