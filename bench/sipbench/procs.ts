/**
 * Processes the benchmark starts, and what /proc says about them.
 *
 * Every child is tracked here and stopped by its PID (never by name): `stopAll()` on a normal end,
 * on an error, on SIGINT/SIGTERM and at the global deadline. A watchdog shell per long-lived child
 * kills it if the benchmark itself dies without cleaning up (SIGKILL).
 */
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export interface Tracked {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Also signal the PID's descendants on stop (multi-process servers such as Kamailio). */
  readonly tree: boolean;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  watchdog?: ChildProcess;
}

const tracked = new Set<Tracked>();

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Spawn and track a child. `watchdog`: kill it if this process dies first. */
export function startTracked(
  name: string,
  cmd: string,
  args: readonly string[],
  options: SpawnOptions & { tree?: boolean; watchdog?: boolean },
): Tracked {
  const child = spawn(cmd, args, { ...options, detached: false });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', () => resolve('spawn-error'));
  });
  const t: Tracked = { name, child, pid: child.pid, tree: options.tree === true, exited };
  tracked.add(t);
  void exited.then(() => tracked.delete(t));
  if (options.watchdog === true) {
    // Polls this process; when it is gone (killed without cleanup), stops the child.
    const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill ${t.pid} 2>/dev/null`;
    t.watchdog = spawn('sh', ['-c', script], { stdio: 'ignore', detached: false });
  }
  return t;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM (the PID and, for a tree, its descendants), wait up to `graceMs`, then SIGKILL what is left. */
export async function stopTracked(t: Tracked, graceMs = 5000): Promise<void> {
  if (t.watchdog?.pid !== undefined && t.watchdog.exitCode === null) {
    try {
      process.kill(t.watchdog.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (t.child.exitCode !== null || t.child.signalCode !== null) return;
  const family = t.tree ? descendants(t.pid) : [t.pid];
  try {
    process.kill(t.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  const done = await Promise.race([t.exited.then(() => true), sleep(graceMs).then(() => false)]);
  for (const pid of family) {
    if (!done || (pid !== t.pid && isAlive(pid))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  if (!done) await Promise.race([t.exited, sleep(2000)]);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...tracked].map((t) => stopTracked(t)));
}

/** Synchronous last resort (process 'exit'): SIGKILL whatever is still tracked. */
export function killAllSync(): void {
  for (const t of tracked) {
    for (const pid of t.tree ? descendants(t.pid) : [t.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (t.watchdog?.pid !== undefined) {
      try {
        process.kill(t.watchdog.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

// ------------------------------------------------------------------ /proc

function statFields(pid: number): string[] | undefined {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may contain spaces and parentheses; split after the last ')'.
  return line.slice(line.lastIndexOf(')') + 2).split(' ');
}

/** The PID and all its descendants (children of children ...). */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    const f = statFields(pid);
    if (f !== undefined) parent.set(pid, Number(f[1]));
  }
  if (!parent.has(root)) return [];
  const want = new Set<number>([root]);
  let changed = true;
  while (changed) {
    changed = false;
    for (const [pid, ppid] of parent) {
      if (!want.has(pid) && want.has(ppid)) {
        want.add(pid);
        changed = true;
      }
    }
  }
  return [...want];
}

/** utime+stime (clock ticks) summed over the PIDs; a vanished PID counts 0. */
export function cpuTicks(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    // after "pid (comm) ": [0]=state [1]=ppid ... [11]=utime [12]=stime
    if (f !== undefined) sum += Number(f[11]) + Number(f[12]);
  }
  return sum;
}

/** utime+stime+cutime+cstime: also the CPU of children the processes started and reaped. */
export function cpuTicksWithChildren(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    if (f !== undefined) sum += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return sum;
}

export const ticksToMs = (ticks: number): number => (ticks * 1000) / CLK_TCK;

export interface Memory {
  /** Sum of VmRSS (KiB): counts memory shared between the processes once per process. */
  rssKb: number;
  /** Sum of Pss (KiB): shared pages split between the processes that map them. */
  pssKb: number;
}

function kbField(text: string, key: string): number {
  const i = text.indexOf(`${key}:`);
  if (i < 0) return 0;
  return Number.parseInt(text.slice(i + key.length + 1).trimStart(), 10) || 0;
}

export function memory(pids: readonly number[], withPss: boolean): Memory {
  let rssKb = 0;
  let pssKb = 0;
  for (const pid of pids) {
    try {
      rssKb += kbField(readFileSync(`/proc/${pid}/status`, 'latin1'), 'VmRSS');
      if (withPss) pssKb += kbField(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'), 'Pss');
    } catch {
      // vanished
    }
  }
  return { rssKb, pssKb: withPss ? pssKb : rssKb };
}

/** Samples a process tree's memory every `everyMs` and keeps the maxima (and every sample). */
export class MemorySampler {
  maxRssKb = 0;
  maxPssKb = 0;
  readonly samples: { t: number; rssKb: number; pssKb: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = performance.now();
  private readonly pids: () => readonly number[];
  private readonly withPss: boolean;

  constructor(pids: () => readonly number[], withPss: boolean) {
    this.pids = pids;
    this.withPss = withPss;
  }

  sample(): Memory {
    const m = memory(this.pids(), this.withPss);
    if (m.rssKb > this.maxRssKb) this.maxRssKb = m.rssKb;
    if (m.pssKb > this.maxPssKb) this.maxPssKb = m.pssKb;
    this.samples.push({ t: (performance.now() - this.t0) / 1000, ...m });
    return m;
  }

  start(everyMs: number): void {
    this.stop();
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** UDP counters from /proc/net/snmp (system-wide). */
export function udpCounters(): { inErrors: number; rcvbufErrors: number } {
  const lines = readFileSync('/proc/net/snmp', 'latin1')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return { inErrors: 0, rcvbufErrors: 0 };
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  const get = (k: string): number => Number(values[names.indexOf(k)] ?? 0);
  return { inErrors: get('InErrors'), rcvbufErrors: get('RcvbufErrors') };
}
