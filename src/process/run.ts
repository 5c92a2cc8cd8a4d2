/**
 * Running external programs without blocking the event loop: the one place Junction starts
 * children (exec module, M4 local hook scripts). Every run is bounded: a timeout that kills the
 * child's whole process group (SIGTERM, then SIGKILL), a cap on captured stdout, a cap on
 * concurrent children. A run never rejects: failures are described by the result.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Spawner } from './spawner.ts';

export interface RunRequest {
  /** Program and arguments, started without a shell (argv[0] looked up on PATH). */
  readonly argv?: readonly string[];
  /** A command line the operator wrote, run by `/bin/sh -c`. Exactly one of argv / command. */
  readonly command?: string;
  /** Written to the child's stdin, which is then closed. Without it stdin is /dev/null. */
  readonly stdin?: string | Buffer;
  /** The child's whole environment (not merged with process.env). Default: process.env. */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill after this many ms; 0 or absent = no limit. */
  readonly timeoutMs?: number;
  /** Keep at most this many bytes of stdout (the rest is read and dropped). Default 1 MiB. */
  readonly maxOutputBytes?: number;
  /** Working directory. */
  readonly cwd?: string;
}

export interface RunResult {
  /** Exit code, or null when the child was killed by a signal or never started. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  /** stdout exceeded maxOutputBytes and was cut. */
  readonly truncated: boolean;
  /** The timeout fired and the process group was killed. */
  readonly timedOut: boolean;
  /** The concurrency cap was reached: nothing was started. */
  readonly refused: boolean;
  /** Why the program could not be started (ENOENT, EACCES ...), when it could not. */
  readonly error?: string;
  readonly durationMs: number;
}

export interface ProcessRunnerOptions {
  /** Children running at once; beyond it a run is refused at once. Default 256. */
  readonly maxConcurrent?: number;
  /** Grace between SIGTERM and SIGKILL on timeout, ms. Default 200. */
  readonly killGraceMs?: number;
  /** Each non-empty stderr line of a child (bounded per child), for the log. */
  readonly onStderr?: (line: string, argv0: string) => void;
  /**
   * Start children through a small pre-forked spawner process (spawner.ts) instead of forking
   * this process: same results, a fraction of the CPU per child. `'perl'` forces the Perl
   * implementation (the fallback when no C compiler is available). Default false.
   */
  readonly spawner?: boolean | 'perl';
}

const DEFAULT_MAX_OUTPUT = 1 << 20;
const STDERR_LINES_PER_CHILD = 20;
/** After the child exits, how long to wait for its stdout to close (a background grandchild may hold it). */
const DRAIN_AFTER_EXIT_MS = 100;

export class ProcessRunner {
  #running = 0;
  readonly #maxConcurrent: number;
  readonly #killGraceMs: number;
  readonly #onStderr: ProcessRunnerOptions['onStderr'];
  readonly #spawner: Spawner | undefined;

  constructor(options: ProcessRunnerOptions = {}) {
    this.#maxConcurrent = options.maxConcurrent ?? 256;
    this.#killGraceMs = options.killGraceMs ?? 200;
    this.#onStderr = options.onStderr;
    this.#spawner =
      options.spawner === true ? new Spawner() : options.spawner === 'perl' ? new Spawner('perl') : undefined;
  }

  /** Children running now. */
  get running(): number {
    return this.#running;
  }

  /** Pid of the spawner process (when `spawner` is on and it has started), for CPU accounting. */
  get spawnerPid(): number | undefined {
    return this.#spawner?.pid;
  }

  /** Release what the runner holds: the spawner process exits, killing what it still runs. */
  close(): void {
    this.#spawner?.close();
  }

  run(req: RunRequest): Promise<RunResult> {
    const started = performance.now();
    if (this.#running >= this.#maxConcurrent) {
      return Promise.resolve(failed(started, { refused: true, error: 'too many running programs' }));
    }
    const argv = programOf(req);
    if (argv === undefined) return Promise.resolve(failed(started, { error: 'empty command' }));
    if (this.#spawner !== undefined) return this.#viaSpawner(this.#spawner, req, argv, started);
    let child: ChildProcess;
    try {
      child = spawn(argv[0] as string, argv.slice(1), {
        // Own process group, so a timeout kills the shell and everything it started.
        detached: true,
        env: req.env ?? process.env,
        stdio: [req.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        ...(req.cwd === undefined ? {} : { cwd: req.cwd }),
      });
    } catch (e) {
      return Promise.resolve(failed(started, { error: (e as Error).message }));
    }
    this.#running++;
    return new Promise<RunResult>((resolve) => {
      const cap = req.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      let timedOut = false;
      let spawnError: string | undefined;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let done = false;
      let killTimer: NodeJS.Timeout | undefined;
      let drainTimer: NodeJS.Timeout | undefined;

      const finish = () => {
        if (done) return;
        done = true;
        this.#running--;
        clearTimeout(timeout);
        clearTimeout(killTimer);
        clearTimeout(drainTimer);
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve({
          exitCode: exit?.code ?? null,
          signal: exit?.signal ?? null,
          stdout: Buffer.concat(chunks).toString('utf8'),
          truncated,
          timedOut,
          refused: false,
          ...(spawnError === undefined ? {} : { error: spawnError }),
          durationMs: performance.now() - started,
        });
      };

      const timeout =
        req.timeoutMs !== undefined && req.timeoutMs > 0
          ? setTimeout(() => {
              timedOut = true;
              killGroup(child, 'SIGTERM');
              killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), this.#killGraceMs);
            }, req.timeoutMs)
          : undefined;

      child.stdout?.on('data', (chunk: Buffer) => {
        if (kept >= cap) {
          truncated = true;
          return;
        }
        const room = cap - kept;
        if (chunk.length > room) {
          truncated = true;
          chunk = chunk.subarray(0, room);
        }
        chunks.push(chunk);
        kept += chunk.length;
      });
      this.#readStderr(child, argv[0] as string);
      child.on('error', (e) => {
        spawnError = e.message;
        // A child that never started emits no 'exit'; one that did is finished by 'close'.
        if (child.pid === undefined) finish();
      });
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        // The group may still hold stdout open (a background grandchild): wait briefly, not forever.
        drainTimer = setTimeout(finish, DRAIN_AFTER_EXIT_MS);
        // After a timeout, make sure nothing of the group survives the leader.
        if (timedOut) killGroup(child, 'SIGKILL');
      });
      child.on('close', finish);

      if (req.stdin !== undefined && child.stdin) {
        // EPIPE when the program does not read its stdin is not a failure of the run.
        child.stdin.on('error', () => {});
        child.stdin.end(req.stdin);
      }
    });
  }

  #readStderr(child: ChildProcess, argv0: string): void {
    const sink = this.#onStderr;
    if (!child.stderr) return;
    if (sink === undefined) {
      child.stderr.resume();
      return;
    }
    const lines = stderrLines(sink, argv0);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', lines.push);
    child.stderr.on('end', lines.end);
  }

  /** run() through the pre-forked spawner: the same bounds, the same result. */
  #viaSpawner(
    spawner: Spawner,
    req: RunRequest,
    argv: readonly string[],
    started: number,
  ): Promise<RunResult> {
    this.#running++;
    return new Promise<RunResult>((resolve) => {
      let pid: number | undefined;
      let timedOut = false;
      let killTimer: NodeJS.Timeout | undefined;
      const lines = this.#onStderr === undefined ? undefined : stderrLines(this.#onStderr, argv[0] as string);
      const timeout =
        req.timeoutMs !== undefined && req.timeoutMs > 0
          ? setTimeout(() => {
              timedOut = true;
              if (pid !== undefined) killPid(pid, 'SIGTERM');
              killTimer = setTimeout(() => {
                if (pid !== undefined) killPid(pid, 'SIGKILL');
              }, this.#killGraceMs);
            }, req.timeoutMs)
          : undefined;
      spawner.submit(
        {
          argv,
          ...(req.env === undefined ? {} : { env: req.env }),
          ...(req.cwd === undefined ? {} : { cwd: req.cwd }),
          ...(req.stdin === undefined ? {} : { stdin: req.stdin }),
          maxOutputBytes: req.maxOutputBytes ?? DEFAULT_MAX_OUTPUT,
        },
        {
          onStart: (p) => {
            pid = p;
            if (timedOut) killPid(p, 'SIGTERM');
          },
          onStderr: (chunk) => lines?.push(chunk.toString('utf8')),
          onDone: (outcome) => {
            this.#running--;
            clearTimeout(timeout);
            clearTimeout(killTimer);
            lines?.end();
            // After a timeout, make sure nothing of the group survives the leader.
            if (timedOut && pid !== undefined) killPid(pid, 'SIGKILL');
            if ('error' in outcome) {
              resolve({ ...failed(started, { error: outcome.error }), timedOut });
              return;
            }
            resolve({
              exitCode: outcome.code,
              signal: outcome.signal,
              stdout: outcome.stdout.toString('utf8'),
              truncated: outcome.truncated,
              timedOut,
              refused: false,
              durationMs: performance.now() - started,
            });
          },
        },
      );
    });
  }
}

/** Splits a child's stderr into lines for the sink: at most STDERR_LINES_PER_CHILD, each ≤ 4 KiB. */
function stderrLines(
  sink: (line: string, argv0: string) => void,
  argv0: string,
): { push: (text: string) => void; end: () => void } {
  let lines = 0;
  let partial = '';
  return {
    push(text) {
      if (lines >= STDERR_LINES_PER_CHILD) return;
      const parts = (partial + text).split('\n');
      partial = (parts.pop() ?? '').slice(0, 4096);
      for (const line of parts) {
        if (line.trim() === '' || lines >= STDERR_LINES_PER_CHILD) continue;
        lines++;
        sink(line.slice(0, 4096), argv0);
      }
    },
    end() {
      if (partial.trim() !== '' && lines < STDERR_LINES_PER_CHILD) sink(partial, argv0);
      partial = '';
    },
  };
}

function programOf(req: RunRequest): readonly string[] | undefined {
  if (req.argv !== undefined) return req.argv.length > 0 && req.argv[0] !== '' ? req.argv : undefined;
  if (req.command !== undefined && req.command.trim() !== '')
    return simpleCommand(req.command) ?? ['/bin/sh', '-c', req.command];
  return undefined;
}

/** Characters that mean nothing to the shell outside quotes (no expansion, globbing, operators). */
function plain(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2f /* / */ ||
    c === 0x2e /* . */ ||
    c === 0x5f /* _ */ ||
    c === 0x2d /* - */ ||
    c === 0x3a /* : */ ||
    c === 0x40 /* @ */ ||
    c === 0x25 /* % */ ||
    c === 0x2b /* + */ ||
    c === 0x2c /* , */ ||
    c === 0x3d /* = */
  );
}

/**
 * The argv `/bin/sh -c command` would execute, when the command is that simple: a program path
 * (with a `/`: no PATH search, no builtin, no function) followed by words made of plain characters
 * and '…' strings, separated by blanks — nothing for the shell to expand, glob, redirect or
 * chain. The shell would only remove the quotes and exec the program (dash and bash exec the
 * last command in place), so running it directly is the same, minus one shell start. Anything
 * else: undefined, and the shell runs it.
 */
export function simpleCommand(command: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  const n = command.length;
  while (i < n) {
    const c = command.charCodeAt(i);
    if (c === 0x20 || c === 0x09) {
      i++;
      continue;
    }
    let word = '';
    while (i < n) {
      const d = command.charCodeAt(i);
      if (d === 0x20 || d === 0x09) break;
      if (d === 0x27 /* ' */) {
        const close = command.indexOf("'", i + 1);
        if (close < 0) return undefined;
        word += command.slice(i + 1, close);
        i = close + 1;
      } else if (plain(d)) {
        word += command[i];
        i++;
      } else return undefined;
    }
    words.push(word);
  }
  const program = words[0];
  // A first word with '=' before any '/' would be an assignment; without '/' a PATH search or builtin.
  if (program === undefined || !program.includes('/') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(program))
    return undefined;
  // The first word must come from plain characters only (a quoted `'a b/c'` is rare: leave it to sh).
  if (!command.trimStart().startsWith(program)) return undefined;
  return words;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid !== undefined) killPid(child.pid, signal);
}

/** Signal the process group led by `pid`. */
function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function failed(started: number, what: { refused?: boolean; error: string }): RunResult {
  return {
    exitCode: null,
    signal: null,
    stdout: '',
    truncated: false,
    timedOut: false,
    refused: what.refused ?? false,
    error: what.error,
    durationMs: performance.now() - started,
  };
}
