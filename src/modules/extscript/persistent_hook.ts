/**
 * Persistent local mode (beyond M4): one long-running program per script path, speaking JSON
 * lines. Each request line is the M4 request plus an `id` (`{"id":7,"cp_id":2,...}`); each reply
 * line carries the same `id` with the M4 reply fields, in any order, many calls in flight. A
 * request that times out is answered by the policy while the others continue; the program is
 * restarted (with a short back-off) when it exits, and calls in flight then fail.
 *
 * The program is started through the ProcessRunner (no shell string: `/bin/sh -c 'exec "$0" …'`
 * with the path as an argument) with its stdin and stdout on two named pipes this process
 * opens non-blocking, so nothing waits on a thread. It should exit when its stdin closes; on
 * stop it also gets SIGTERM (by the PID it was started with).
 */
import { constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessRunner } from '../../process/run.ts';
import { MAX_REPLY_BYTES } from './contract.ts';
import { Deadlines, Expiring } from './deadlines.ts';
import { failure, fromValue, type HookOutcome, timeout } from './outcome.ts';

/** A request in flight; its timeout is an entry in the hook's deadline lists. */
class Pending extends Expiring {
  readonly id: number;
  readonly started: number;
  readonly resolve: (o: HookOutcome) => void;
  readonly #pending: Map<number, Pending>;

  constructor(id: number, started: number, resolve: (o: HookOutcome) => void, pending: Map<number, Pending>) {
    super();
    this.id = id;
    this.started = started;
    this.resolve = resolve;
    this.#pending = pending;
  }

  expire(): void {
    this.#pending.delete(this.id);
    this.resolve(timeout(this.started));
  }
}

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const WRAPPER = 'echo $$ >"$3"; exec "$0" <"$1" >"$2"';
const OPEN_WAIT_MS = 5000;

export class PersistentHook {
  readonly path: string;
  readonly #runner: ProcessRunner;
  readonly #log: Log;
  readonly #pending = new Map<number, Pending>();
  readonly #deadlines = new Deadlines();
  #nextId = 1;
  #in: Socket | undefined;
  #out: Socket | undefined;
  #ready: Promise<boolean> | undefined;
  #dir: string | undefined;
  #stopped = false;
  #restarts = 0;
  #partial = '';
  #pid = 0;

  constructor(path: string, runner: ProcessRunner, log: Log) {
    this.path = path;
    this.#runner = runner;
    this.#log = log;
  }

  /** Times the program was (re)started. */
  get starts(): number {
    return this.#restarts;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  call(line: string, timeoutMs: number): Promise<HookOutcome> {
    const started = performance.now();
    if (this.#stopped) return Promise.resolve(failure('persistent script stopped', started));
    const id = this.#nextId++;
    return new Promise<HookOutcome>((resolve) => {
      const p = new Pending(id, started, resolve, this.#pending);
      this.#deadlines.add(p, started, timeoutMs);
      this.#pending.set(id, p);
      const msg = `{"id":${id},${line.slice(1)}\n`;
      const ready = this.#ready ?? this.#start();
      if (this.#in?.writable) this.#in.write(msg);
      else
        ready.then((ok) => {
          if (!this.#pending.has(id)) return;
          if (ok && this.#in !== undefined) this.#in.write(msg);
          else this.#settle(id, failure('persistent script not running', started));
        });
    });
  }

  #settle(id: number, o: HookOutcome): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    this.#deadlines.remove(p);
    p.resolve(o);
  }

  #start(): Promise<boolean> {
    this.#restarts++;
    const ready = this.#launch();
    this.#ready = ready;
    return ready;
  }

  async #launch(): Promise<boolean> {
    const dir = mkdtempSync(join(tmpdir(), 'junction-hook-'));
    this.#dir = dir;
    const inPath = join(dir, 'in');
    const outPath = join(dir, 'out');
    const pidPath = join(dir, 'pid');
    const mk = await this.#runner.run({ argv: ['mkfifo', '-m', '600', inPath, outPath], timeoutMs: 5000 });
    if (mk.exitCode !== 0) {
      this.#log.warn({ script: this.path, error: mk.error }, 'persistent external script: mkfifo failed');
      this.#exited();
      return false;
    }
    // Our read end first (non-blocking open succeeds with no writer yet).
    const outFd = openSync(outPath, constants.O_RDONLY | constants.O_NONBLOCK);
    const out = new Socket({ fd: outFd, readable: true, writable: false });
    this.#out = out;
    out.setEncoding('utf8');
    out.on('data', (text: string) => this.#onData(text));
    out.on('error', () => undefined);
    this.#log.info({ script: this.path }, `Starting persistent external script: ${this.path}`);
    void this.#runner
      .run({ argv: ['/bin/sh', '-c', WRAPPER, this.path, inPath, outPath, pidPath] })
      .then((r) => {
        this.#log.warn(
          { script: this.path, exit_code: r.exitCode, signal: r.signal, error: r.error },
          'persistent external script exited',
        );
        this.#exited();
      });
    // The write end opens once the program's shell has opened its stdin.
    const deadline = Date.now() + OPEN_WAIT_MS;
    for (;;) {
      try {
        const fd = openSync(inPath, constants.O_WRONLY | constants.O_NONBLOCK);
        const s = new Socket({ fd, readable: false, writable: true });
        s.on('error', () => undefined);
        this.#in = s;
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > deadline || this.#stopped) {
          this.#log.warn({ script: this.path }, 'persistent external script did not open its stdin');
          return false;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    try {
      this.#pid = Number(readFileSync(pidPath, 'utf8').trim()) || 0;
    } catch {
      this.#pid = 0;
    }
    return true;
  }

  #onData(text: string): void {
    let buf = this.#partial + text;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      this.#onLine(line);
      nl = buf.indexOf('\n');
    }
    // An endless line is dropped rather than kept.
    this.#partial = buf.length > MAX_REPLY_BYTES ? '' : buf;
  }

  #onLine(line: string): void {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      this.#log.warn({ script: this.path }, 'persistent external script: a line that is not JSON');
      return;
    }
    // Parsed once: the id picks the call, the same value is its reply.
    const id = v !== null && typeof v === 'object' ? (v as { id?: unknown }).id : undefined;
    const p = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (p === undefined) return; // a late answer to a request that timed out
    this.#settle(p.id, fromValue(v, line, p.started));
  }

  #exited(): void {
    this.#in?.destroy();
    this.#out?.destroy();
    this.#in = undefined;
    this.#out = undefined;
    this.#pid = 0;
    this.#partial = '';
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
    for (const [id, p] of [...this.#pending])
      this.#settle(id, failure('persistent script exited', p.started));
    if (this.#stopped) return;
    // Restart on the next call, after a short back-off against a program that dies at once.
    const wait = Math.min(2000, 50 * 2 ** Math.min(this.#restarts, 6));
    this.#ready = new Promise((r) => setTimeout(r, wait)).then(() => this.#start());
  }

  stop(): void {
    this.#stopped = true;
    const pid = this.#pid;
    this.#in?.end();
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
}
