/**
 * Integration plumbing: free loopback ports, a Junction server started as a child process with a
 * generated config, SIPp runs, and temporary folders for scenarios and routing scripts.
 * Everything started here is stopped by PID by the caller's `after` hooks / `finally` blocks
 * (stop()); nothing is killed by name. Every child also has its own kill timer.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const NODE = process.execPath;

/**
 * The shared folder (`../shared` beside the repository, as in CI, or $JUNCTION_SHARED): SIPp
 * scenarios and the SIP corpus. A missing folder or file fails loudly: a test that silently skips
 * proves nothing.
 */
export const SHARED_DIR = process.env.JUNCTION_SHARED ?? resolve(REPO, '../shared');

/** A path inside the shared folder, checked to exist. */
export function shared(...parts: string[]): string {
  const p = join(SHARED_DIR, ...parts);
  if (!existsSync(p))
    throw new Error(
      `${p} not found (the shared folder belongs beside the repository, or set JUNCTION_SHARED)`,
    );
  return p;
}

/** Make sure SIPp is installed (Debian sip-tester), through the project's own script. */
export function ensureSipp(): void {
  execFileSync('bash', [join(REPO, 'scripts/ensure-debian.sh'), 'sip-tester'], { stdio: 'inherit' });
}

// ---------------------------------------------------------------- temporary folders

const tempDirs: string[] = [];

/** A fresh temporary folder, removed by removeTempDirs(). */
export function tempDir(prefix = 'junction-it-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/** Write `text` to `dir/name` and return the path. */
export function writeFile(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Remove every folder tempDir() made in this process (call it in `after`). */
export function removeTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

// ---------------------------------------------------------------- ports

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
    if (await udpFree(port, address)) return port;
  }
  throw new Error('no free port');
}

function udpFree(port: number, address: string): Promise<boolean> {
  return new Promise<boolean>((ok) => {
    const u = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    u.once('error', () => ok(false));
    u.bind(port, address, () => u.close(() => ok(true)));
  });
}

/** Wait until something (a SIPp UAS) has bound the UDP port. */
export async function waitUdpBound(port: number, address = '127.0.0.1', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await udpFree(port, address)) {
    if (Date.now() > deadline) throw new Error(`nothing bound udp ${address}:${port} within ${timeoutMs} ms`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------- Junction

/** One JSON log line of the server. */
export interface LogRecord {
  level: string;
  msg?: string;
  [key: string]: unknown;
}

export interface RunningServer {
  readonly pid: number;
  readonly port: number;
  /** The folder holding the generated config. */
  readonly dir: string;
  readonly output: () => string;
  /** The JSON log lines so far (non-JSON lines are skipped). */
  readonly logs: () => LogRecord[];
  /** Log lines at level error or fatal. */
  readonly errors: () => LogRecord[];
  stop(): Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
}

/** Start `junction start -c <generated config>`; resolves once the server logs that it is listening. */
export async function startJunction(opts: {
  port: number;
  script?: string;
  /** More top-level YAML (keys not written here: listen, script, log_level, storage, mi). */
  extraYaml?: string;
  /** The `storage:` value (default memory). */
  storage?: string;
  /** The `mi:` value (default `{ http: false, fifo: false }`). */
  mi?: string;
  tcp?: boolean;
  /** Default info: the readiness line ('listening') is logged at info. */
  logLevel?: string;
  timeoutMs?: number;
}): Promise<RunningServer> {
  const dir = tempDir('junction-it-');
  const listen = [`udp:127.0.0.1:${opts.port}`];
  if (opts.tcp !== false) listen.push(`tcp:127.0.0.1:${opts.port}`);
  const cfg = [
    'listen:',
    ...listen.map((l) => `  - ${l}`),
    `script: ${opts.script ?? join(REPO, 'routes/default.ts')}`,
    `log_level: ${opts.logLevel ?? 'info'}`,
    `storage: ${opts.storage ?? 'memory'}`,
    `mi: ${opts.mi ?? '{ http: false, fifo: false }'}`,
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
  const logs = (): LogRecord[] => {
    const recs: LogRecord[] = [];
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        recs.push(JSON.parse(line) as LogRecord);
      } catch {
        // a partial last line
      }
    }
    return recs;
  };
  // The server's own line (it has `listen`), logged once the whole stack is wired; the transport
  // logs a 'listening' line per socket before that.
  const ready = (): boolean => logs().some((r) => r.msg === 'listening' && Array.isArray(r.listen));
  const deadline = Date.now() + (opts.timeoutMs ?? 15000);
  while (!ready()) {
    if (child.exitCode !== null) throw new Error(`junction exited ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`junction did not start:\n${out}`);
    }
    await sleep(50);
  }
  return {
    pid: child.pid ?? 0,
    port: opts.port,
    dir,
    output: () => out,
    logs,
    errors: () => logs().filter((r) => r.level === 'error' || r.level === 'fatal'),
    signal: (sig) => child.kill(sig),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

// ---------------------------------------------------------------- SIPp

export interface SippResult {
  code: number | null;
  /** Set when the harness's kill timer fired. */
  killed: boolean;
  stdout: string;
  stderr: string;
  /** Counters from SIPp's final statistics screen (-1 when absent). */
  successful: number;
  failed: number;
  /** The folder SIPp ran in (trace files), and the -trace_err file's text ('' when none). */
  dir: string;
  errors: string;
  /** The -trace_msg log ('' unless the run was traced). */
  messages: string;
}

export interface SippRun {
  done: Promise<SippResult>;
  /** SIGTERM, then SIGKILL after 2 s; resolves when it has exited. */
  stop(): Promise<void>;
  pid: number;
  dir: string;
}

/**
 * Run SIPp to completion, bounded by `timeoutMs` (SIGKILL); `args` are SIPp's own. Unexpected
 * messages are logged to `<dir>/errors.log`; pass `-trace_msg -message_file <dir>/...` for more.
 */
export function runSipp(args: string[], timeoutMs = 120000, opts: { trace?: boolean } = {}): SippRun {
  const dir = tempDir('sipp-');
  const errFile = join(dir, 'errors.log');
  const msgFile = join(dir, 'messages.log');
  const trace = opts.trace === true ? ['-trace_msg', '-message_file', msgFile] : [];
  const child = spawn(
    'sipp',
    [...args, ...trace, '-nostdin', '-trace_err', '-error_file', errFile, '-bind_local'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: dir,
    },
  );
  let stdout = '';
  let stderr = '';
  let killed = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise<SippResult>((ok) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      ok({
        code,
        killed,
        stdout,
        stderr,
        successful: counter(stdout, 'Successful call'),
        failed: counter(stdout, 'Failed call'),
        dir,
        errors: existsSync(errFile) ? readFileSync(errFile, 'latin1') : '',
        messages: existsSync(msgFile) ? readFileSync(msgFile, 'latin1') : '',
      });
    });
  });
  return {
    done,
    pid: child.pid ?? 0,
    dir,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await done;
      clearTimeout(t);
    },
  };
}

/** One SIPp party on 127.0.0.1 (UDP unless `tcp`: SIPp's -t t1, one connection). */
export interface SippParty {
  scenario: string;
  port: number;
  /** -m: the run ends after this many calls. */
  calls: number;
  /** -timeout … -timeout_error: SIPp gives up (and fails) after this; the harness kills it 15 s later. */
  timeoutS: number;
  tcp?: boolean;
  /** -trace_msg into the result's `messages`. */
  trace?: boolean;
  /** More SIPp options. */
  args?: string[];
}

function partyArgs(p: SippParty): string[] {
  return [
    '-sf',
    p.scenario,
    '-i',
    '127.0.0.1',
    '-p',
    String(p.port),
    '-m',
    String(p.calls),
    '-timeout',
    `${p.timeoutS}s`,
    '-timeout_error',
    ...(p.tcp === true ? ['-t', 't1'] : []),
    ...(p.args ?? []),
  ];
}

/** A SIPp callee: runs `scenario` for every call that arrives. */
export function sippUas(p: SippParty): SippRun {
  // A UAC ACKs every retransmission of the 2xx (RFC 3261 §13.2.2.4): when the machine is loaded the
  // callee retransmits its 200 and then sees a second ACK during its pause. That is legitimate, so
  // the callee must not abort the call on it (the shared bench runs its UAS the same way).
  return runSipp([...partyArgs(p), '-default_behaviors', 'all,-abortunexp'], (p.timeoutS + 15) * 1000, {
    trace: p.trace,
  });
}

/**
 * A SIPp caller whose Request-URI names the callee (`127.0.0.1:<callee>`) while every packet goes
 * to the proxy (-rsa), `rate` calls per second.
 */
export function sippUac(p: SippParty & { callee: number; proxy: number; rate: number }): SippRun {
  return runSipp(
    [...partyArgs(p), `127.0.0.1:${p.callee}`, '-rsa', `127.0.0.1:${p.proxy}`, '-r', String(p.rate)],
    (p.timeoutS + 15) * 1000,
    { trace: p.trace },
  );
}

/** Wait until a SIPp callee is bound (UDP port in use; for TCP, the TCP port accepts). */
export async function waitSippBound(p: SippParty): Promise<void> {
  if (p.tcp === true) await waitTcpListening(p.port);
  else await waitUdpBound(p.port);
}

async function waitTcpListening(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = createServer();
      s.once('error', () => res(true));
      s.listen(port, '127.0.0.1', () => s.close(() => res(false)));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`nothing listening on tcp 127.0.0.1:${port} within ${timeoutMs} ms`);
    await sleep(25);
  }
}

// ---------------------------------------------------------------- one test's processes

/**
 * Everything one test starts: `close()` stops every SIPp and the Junction it started, by PID,
 * whatever happened (call it in `finally` / `after`). `junctionExit` is the server's exit code
 * (0 = graceful stop).
 */
export class Session {
  private readonly runs: SippRun[] = [];
  private readonly servers: RunningServer[] = [];
  readonly junctionExits: Array<number | null> = [];

  async junction(opts: Parameters<typeof startJunction>[0]): Promise<RunningServer> {
    const j = await startJunction(opts);
    this.servers.push(j);
    return j;
  }

  uas(p: SippParty): SippRun {
    const r = sippUas(p);
    this.runs.push(r);
    return r;
  }

  uac(p: SippParty & { callee: number; proxy: number; rate: number }): SippRun {
    const r = sippUac(p);
    this.runs.push(r);
    return r;
  }

  sipp(args: string[], timeoutMs: number, opts: { trace?: boolean } = {}): SippRun {
    const r = runSipp(args, timeoutMs, opts);
    this.runs.push(r);
    return r;
  }

  async close(): Promise<void> {
    await Promise.all(this.runs.splice(0).map((r) => r.stop()));
    for (const s of this.servers.splice(0)) this.junctionExits.push(await s.stop());
  }
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

/** A one-line summary of a SIPp result for assertion messages. */
export function describeSipp(name: string, r: SippResult): string {
  const tail = r.stdout.split('\n').slice(-40).join('\n');
  return `${name}: exit ${r.code}${r.killed ? ' (killed by the harness timer)' : ''}, successful ${r.successful}, failed ${r.failed}\n${r.stderr}\n${tail}\n${r.errors.slice(0, 3000)}`;
}

// ---------------------------------------------------------------- routing scripts

/**
 * Write a routing script (TypeScript) into a fresh temp folder; `body` is the module's code. The
 * KSR type is imported from this repository by absolute path (type-only: erased at load).
 */
export function writeScript(body: string, name = 'route.ts'): string {
  const head = `import type { KSR as Ksr } from '${join(REPO, 'src/script/types.ts')}';\n`;
  return writeFile(tempDir('junction-script-'), name, head + body);
}

/**
 * A SQLite database `junction.db` in `dir` holding one subscriber, added with `junction subscriber
 * add` (through a `cli.yaml` config in `dir`): the storage URL to start Junction with.
 */
export function sqliteWithSubscriber(dir: string, aor: string, password: string): string {
  const db = join(dir, 'junction.db');
  const cfg = writeFile(dir, 'cli.yaml', `storage: sqlite:${db}\n`);
  execFileSync(join(REPO, 'bin/junction'), ['subscriber', 'add', aor, password, '-c', cfg], {
    stdio: 'pipe',
  });
  return `sqlite:${db}`;
}
