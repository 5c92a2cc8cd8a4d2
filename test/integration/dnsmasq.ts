/**
 * A local authoritative DNS server for tests: dnsmasq (Debian dnsmasq-base) on 127.0.0.1 and a
 * free port, answering only the records given (no upstream, no /etc/hosts), stopped by PID.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { freePort, REPO, sleep } from './harness.ts';

export interface DnsRecords {
  /** name → IPv4 address */
  a?: Record<string, string>;
  /** [name, target, port, priority, weight] */
  srv?: Array<[string, string, number, number, number]>;
  /** [name, order, preference, flags, service, regexp, replacement] */
  naptr?: Array<[string, number, number, string, string, string, string]>;
}

export interface LocalDns {
  port: number;
  /** `127.0.0.1:port` for Junction's dns.servers. */
  server: string;
  stop(): Promise<void>;
}

export function ensureDnsmasq(): void {
  execFileSync(join(REPO, 'scripts/ensure-debian.sh'), ['dnsmasq-base'], { stdio: 'inherit' });
}

export async function startDnsmasq(records: DnsRecords): Promise<LocalDns> {
  const port = await freePort();
  const args = [
    '--keep-in-foreground',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--conf-file=/dev/null',
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    `--port=${port}`,
    '--user=root',
    '--pid-file=',
    '--log-facility=-',
  ];
  for (const [name, ip] of Object.entries(records.a ?? {})) args.push(`--host-record=${name},${ip}`);
  for (const [name, target, p, prio, weight] of records.srv ?? [])
    args.push(`--srv-host=${name},${target},${p},${prio},${weight}`);
  for (const [name, order, pref, flags, service, regexp, repl] of records.naptr ?? [])
    args.push(`--naptr-record=${name},${order},${pref},${flags},${service},${regexp},${repl}`);
  const child: ChildProcess = spawn('dnsmasq', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  };
  // Ready when it answers.
  const probe = new Resolver({ timeout: 200, tries: 1 });
  probe.setServers([`127.0.0.1:${port}`]);
  const first = Object.keys(records.a ?? {})[0];
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited ${child.exitCode}: ${out}`);
    try {
      if (first !== undefined) await probe.resolve4(first);
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`dnsmasq did not answer: ${out}`);
      }
      await sleep(50);
    }
  }
  return { port, server: `127.0.0.1:${port}`, stop };
}
