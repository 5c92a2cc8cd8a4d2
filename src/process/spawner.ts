/**
 * The pre-forked spawner: one small helper process (spawner.pl, Perl — part of every Debian base
 * system) that forks and execs the programs ProcessRunner runs, so that a program costs a fork of
 * a ~5 MB process rather than of the server (Node's spawn forks the whole server: page tables of
 * a 100+ MB process, plus libuv's bookkeeping). Same semantics as spawn with `detached: true`: own
 * session and process group, stdio pipes, the given environment and working directory; the exec
 * error (ENOENT, EACCES ...) comes back as the reason the program could not start.
 *
 * The spawner only starts, feeds, reads and reaps; ProcessRunner keeps every policy (timeouts,
 * killing the process group by the reported pid, caps). It is started on first use and restarted
 * if it dies (runs in flight then fail with a clear error); on close() or when the server exits
 * its stdin closes and it kills what is still running.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./spawner.pl', import.meta.url));
const C_SOURCE = fileURLToPath(new URL('./spawner.c', import.meta.url));
/** Built once per source version, beside the project's other caches. */
const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/junction/', import.meta.url));

let native: string | null | undefined;

/**
 * The native spawner (spawner.c, posix_spawn: cheapest per program), compiled with the system's
 * C compiler on first use and cached by source hash; null when it cannot be built (no compiler),
 * in which case spawner.pl does the same job. Synchronous (a fraction of a second, once per
 * version): call it at startup, not on a hot path.
 */
export function nativeSpawner(): string | null {
  if (native !== undefined) return native;
  try {
    const hash = createHash('sha256').update(readFileSync(C_SOURCE)).digest('hex').slice(0, 16);
    const bin = join(CACHE_DIR, `spawner-${hash}`);
    if (!existsSync(bin)) {
      mkdirSync(CACHE_DIR, { recursive: true });
      const tmp = `${bin}.${process.pid}.tmp`;
      execFileSync('cc', ['-O2', '-o', tmp, C_SOURCE], { stdio: 'pipe', timeout: 60_000 });
      renameSync(tmp, bin);
    }
    native = bin;
  } catch {
    native = null;
  }
  return native;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, n] of Object.entries(constants.signals)) SIGNAL_NAMES.set(n, name as NodeJS.Signals);

export interface SpawnRequest {
  readonly argv: readonly string[];
  /** The whole environment; undefined inherits the spawner's (the server's at spawner start). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly stdin?: string | Buffer;
  readonly maxOutputBytes: number;
}

export type SpawnOutcome =
  | {
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly stdout: Buffer;
      readonly truncated: boolean;
    }
  | { readonly error: string };

export interface SpawnJob {
  /** The program runs as `pid`, leader of its own process group. */
  onStart(pid: number): void;
  onStderr(chunk: Buffer): void;
  onDone(outcome: SpawnOutcome): void;
}

export class Spawner {
  /** 'perl' forces spawner.pl (the fallback, tested on its own); 'auto' prefers the native one. */
  readonly #impl: 'auto' | 'perl';
  #child: ChildProcess | undefined;
  readonly #jobs = new Map<number, SpawnJob>();
  #nextId = 1;
  #pending: Buffer = Buffer.alloc(0);

  constructor(impl: 'auto' | 'perl' = 'auto') {
    this.#impl = impl;
  }

  /** Pid of the spawner process, undefined until the first run. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  submit(req: SpawnRequest, job: SpawnJob): void {
    if (req.argv.some((a) => a.includes('\0'))) {
      job.onDone({ error: 'an argument contains a NUL byte' });
      return;
    }
    const child = this.#ensure();
    if (child === undefined) {
      job.onDone({ error: 'the spawner process could not be started' });
      return;
    }
    const id = this.#nextId++;
    const fields: string[] = [String(req.argv.length), ...req.argv];
    if (req.env === undefined) fields.push('-1');
    else {
      const env: string[] = [];
      for (const k in req.env) {
        const v = req.env[k];
        if (v !== undefined && !k.includes('=') && k !== '')
          env.push(`${k}=${v.includes('\0') ? v.replaceAll('\0', '') : v}`);
      }
      fields.push(String(env.length), ...env);
    }
    fields.push(req.cwd ?? '');
    const payload = Buffer.from(fields.join('\0'), 'utf8');
    const stdin =
      req.stdin === undefined ? undefined : Buffer.isBuffer(req.stdin) ? req.stdin : Buffer.from(req.stdin);
    const head = `R ${id} ${req.maxOutputBytes} ${stdin === undefined ? -1 : stdin.length} ${payload.length}\n`;
    this.#jobs.set(id, job);
    if (this.#jobs.size === 1) this.#hold(child, true);
    child.stdin?.write(
      stdin === undefined
        ? Buffer.concat([Buffer.from(head), payload])
        : Buffer.concat([Buffer.from(head), payload, stdin]),
    );
  }

  /** Stop the spawner: it kills the process groups still running and exits. */
  close(): void {
    const child = this.#child;
    this.#child = undefined;
    child?.stdin?.end();
    this.#failAll('the spawner was closed');
  }

  #ensure(): ChildProcess | undefined {
    if (this.#child !== undefined) return this.#child;
    let child: ChildProcess;
    try {
      const bin = this.#impl === 'perl' ? null : nativeSpawner();
      child =
        bin !== null
          ? spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] })
          : spawn('perl', [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    } catch {
      return undefined;
    }
    this.#child = child;
    this.#pending = Buffer.alloc(0);
    child.stdin?.on('error', () => {});
    child.stdout?.on('data', (chunk: Buffer) => this.#read(chunk));
    child.on('error', () => this.#lost(child, 'the spawner process could not be started'));
    child.on('exit', (code, signal) => this.#lost(child, `the spawner exited (${signal ?? code})`));
    this.#hold(child, false);
    return child;
  }

  /** The spawner keeps the event loop alive only while runs are in flight (an idle one must not hold the server open). */
  #hold(child: ChildProcess, on: boolean): void {
    const pipes = [child.stdin, child.stdout] as unknown as Array<{
      ref?: () => void;
      unref?: () => void;
    } | null>;
    if (on) {
      child.ref();
      for (const p of pipes) p?.ref?.();
    } else {
      child.unref();
      for (const p of pipes) p?.unref?.();
    }
  }

  #settled(): void {
    if (this.#jobs.size === 0 && this.#child !== undefined) this.#hold(this.#child, false);
  }

  #lost(child: ChildProcess, why: string): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.#failAll(why);
  }

  #failAll(why: string): void {
    const jobs = [...this.#jobs.values()];
    this.#jobs.clear();
    for (const j of jobs) j.onDone({ error: why });
  }

  #read(chunk: Buffer): void {
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) break;
      const head = buf.latin1Slice(0, nl).split(' ');
      const kind = head[0];
      const id = Number(head[1]);
      const len = kind === 'S' ? 0 : Number(head[head.length - 1]);
      if (buf.length < nl + 1 + len) break;
      const body = buf.subarray(nl + 1, nl + 1 + len);
      buf = buf.subarray(nl + 1 + len);
      const job = this.#jobs.get(id);
      if (job === undefined) continue;
      if (kind === 'S') job.onStart(Number(head[2]));
      else if (kind === 'E') job.onStderr(Buffer.from(body));
      else if (kind === 'F') {
        this.#jobs.delete(id);
        this.#settled();
        job.onDone({ error: body.toString('utf8') });
      } else if (kind === 'X') {
        this.#jobs.delete(id);
        this.#settled();
        const code = Number(head[2]);
        const sig = Number(head[3]);
        job.onDone({
          code: code < 0 ? null : code,
          signal: sig === 0 ? null : (SIGNAL_NAMES.get(sig) ?? null),
          stdout: Buffer.from(body),
          truncated: head[4] === '1',
        });
      }
    }
    this.#pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }
}
