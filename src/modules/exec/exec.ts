/**
 * KSR.exec: run external programs from routing scripts, Kamailio's exec functions with the same
 * names and return codes, but never blocking (every run is an awaited child of the one
 * ProcessRunner) and always bounded (time_to_kill kills the process group, max_children refuses
 * at once, stdout is capped, stderr goes to the log).
 */

import { ProcessRunner, type RunRequest, type RunResult } from '../../process/run.ts';
import { nativeSpawner } from '../../process/spawner.ts';
import type { RouteContext } from '../../proxy/context.ts';
import { appendBranch } from '../corex/index.ts';
import { pvSet } from '../pv/pseudo_variables.ts';
import { setRequestUri } from '../shared/ruri.ts';
import { buildCommand, shellQuote } from './command.ts';
import { sipVariables } from './env.ts';
import { EXEC_DEFAULTS, type ExecParams } from './params.ts';
import { execDuration, execStats, runningNow } from './stats.ts';

/** Where the module logs (stderr lines of children, refusals, kills); the server installs its logger. */
export interface ExecLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const quiet: ExecLog = { info() {}, warn() {}, error() {} };

let params: ExecParams = EXEC_DEFAULTS;
let log: ExecLog = quiet;
let runner: ProcessRunner = newRunner();

function newRunner(): ProcessRunner {
  return new ProcessRunner({
    maxConcurrent: params.max_children,
    onStderr: (line, argv0) => log.warn({ program: argv0, stderr: line }, 'exec: program wrote to stderr'),
    spawner: params.spawner === 1,
  });
}

/** Install the module parameters and logger (server start); the previous runner is closed. */
export function configureExec(p: Partial<ExecParams> | undefined, logger: ExecLog = quiet): void {
  params = { ...EXEC_DEFAULTS, ...p };
  log = logger;
  serverEnv = snapshotEnv();
  // Build the native spawner now (once per version), not on the first call.
  if (params.spawner === 1 && nativeSpawner() === null)
    log.warn({}, 'exec: no C compiler for the native spawner; using the Perl one');
  const old = runner;
  runner = newRunner();
  old.close();
}

/** Stop the module's runner (server stop): the spawner process exits; running children are killed. */
export function closeExec(): void {
  runner.close();
}

export function execParams(): ExecParams {
  return params;
}

runningNow.read = () => runner.running;

/** One bounded run, counted and logged. */
async function run(what: string, req: RunRequest): Promise<RunResult> {
  const res = await runner.run(req);
  if (res.refused) {
    execStats.refusals++;
    log.warn(
      { function: what, max_children: params.max_children },
      'exec: too many programs running, refused',
    );
    return res;
  }
  execStats.executions++;
  execDuration.observe(res.durationMs);
  if (res.exitCode !== 0) execStats.failures++;
  if (res.timedOut) {
    execStats.kills++;
    log.warn(
      { function: what, time_to_kill: (req.timeoutMs ?? 0) / 1000, ms: Math.round(res.durationMs) },
      'exec: program killed at time_to_kill',
    );
  } else if (res.error !== undefined) {
    log.error({ function: what, error: res.error }, 'exec: program could not be started');
  }
  if (res.truncated) {
    execStats.truncated++;
    log.warn({ function: what, max_output: params.max_output }, 'exec: output cut at max_output');
  }
  return res;
}

/**
 * The server's environment as the programs inherit it, copied once per configuration: reading
 * process.env goes through the C environment on every access, too slow to copy per call.
 */
let serverEnv: Readonly<Record<string, string>> = snapshotEnv();

function snapshotEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

/** The child's environment: the server's, plus the SIP_* variables when setvars is on. */
function environment(ctx: RouteContext, setvars: boolean, extra?: Readonly<Record<string, string>>) {
  if (!setvars && extra === undefined) return undefined;
  const env: Record<string, string> = { ...serverEnv };
  if (setvars) Object.assign(env, sipVariables(ctx, params.bash_safety === 1));
  if (extra !== undefined) Object.assign(env, extra);
  return env;
}

function shellRequest(ctx: RouteContext, command: string, stdin?: Buffer): RunRequest {
  return {
    command,
    ...(stdin === undefined ? {} : { stdin }),
    env: environment(ctx, params.setvars === 1) ?? process.env,
    timeoutMs: params.time_to_kill * 1000,
    maxOutputBytes: params.max_output,
  } as RunRequest;
}

/** Non-empty stdout lines, trimmed. */
function lines(stdout: string): string[] {
  const out: string[] = [];
  for (const l of stdout.split('\n')) {
    const t = l.trim();
    if (t !== '') out.push(t);
  }
  return out;
}

const ok = (r: RunResult): number => (r.exitCode === 0 ? 1 : -1);

function invalidCommand(ctx: RouteContext, fn: string, cmd: unknown): boolean {
  if (typeof cmd === 'string' && cmd.trim() !== '') return false;
  ctx.log('err', `exec.${fn}: empty command`);
  return true;
}

/** exec_msg(cmd): the request as received on the program's stdin; 1 on exit 0, else -1. */
export async function execMsg(ctx: RouteContext, cmd: string): Promise<number> {
  if (invalidCommand(ctx, 'exec_msg', cmd)) return -1;
  const req = ctx.msg.isRequest ? ctx.msg : ctx.request;
  return ok(await run('exec_msg', shellRequest(ctx, buildCommand(ctx, cmd), req.raw)));
}

/**
 * exec_dset(cmd): runs `cmd '<R-URI>'`; on exit 0 the output lines are the new destination set
 * (line 1 the Request-URI, each further line a branch). -1 on a failed run, no URI, or a line that
 * is not a URI (then nothing is changed).
 */
export async function execDset(ctx: RouteContext, cmd: string): Promise<number> {
  if (invalidCommand(ctx, 'exec_dset', cmd)) return -1;
  if (!ctx.msg.isRequest) return -1;
  const command = `${buildCommand(ctx, cmd)} ${shellQuote(ctx.msg.ruri)}`;
  const res = await run('exec_dset', shellRequest(ctx, command));
  if (res.exitCode !== 0) return -1;
  const uris = lines(res.stdout);
  if (uris.length === 0) {
    ctx.log('err', `exec_dset: no URI from ${cmd}`);
    return -1;
  }
  const [first, ...rest] = uris;
  if (!setRequestUri(ctx, first as string)) {
    ctx.log('err', `exec_dset: invalid URI ${JSON.stringify(first)} from ${cmd}`);
    return -1;
  }
  for (const uri of rest) if (appendBranch(ctx, uri) < 0) return -1;
  return 1;
}

/** `"$avp(a), $avp(s:b)"` → PV names; undefined when one is not an AVP. */
function avpNames(list: string): string[] | undefined {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return names.every((n) => n.startsWith('$avp(') && n.endsWith(')')) ? names : undefined;
}

/**
 * exec_avp(cmd[, avplist]): on exit 0, each non-empty output line goes to the next AVP of
 * `avplist` (`"$avp(a),$avp(b)"`; extra lines are dropped), or without a list to $avp(1),
 * $avp(2) … (also readable as Kamailio's integer names $avp(i:1) …). 1 on exit 0, else -1.
 */
export async function execAvp(ctx: RouteContext, cmd: string, avplist?: string): Promise<number> {
  if (invalidCommand(ctx, 'exec_avp', cmd)) return -1;
  let names: string[] | undefined;
  if (avplist !== undefined && avplist !== null && avplist !== '') {
    names = avpNames(String(avplist));
    if (names === undefined) {
      ctx.log('err', `exec_avp: invalid AVP list ${JSON.stringify(avplist)}`);
      return -1;
    }
  }
  const res = await run('exec_avp', shellRequest(ctx, buildCommand(ctx, cmd)));
  if (res.exitCode !== 0) return -1;
  const values = lines(res.stdout);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as string;
    if (names === undefined) {
      pvSet(ctx, `$avp(${i + 1})`, v);
      pvSet(ctx, `$avp(i:${i + 1})`, v);
    } else {
      const name = names[i];
      if (name === undefined) break;
      if (!pvSet(ctx, name, v)) return -1;
    }
  }
  return 1;
}

/** exec_cmd(cmd): run the command with no SIP_* variables; output ignored. 1 on exit 0, else -1. */
export async function execCmd(ctx: RouteContext, cmd: string): Promise<number> {
  if (invalidCommand(ctx, 'exec_cmd', cmd)) return -1;
  return ok(
    await run('exec_cmd', {
      command: buildCommand(ctx, cmd),
      timeoutMs: params.time_to_kill * 1000,
      maxOutputBytes: params.max_output,
    }),
  );
}

/** Options of the shell-free form `KSR.exec.run(argv, opts)`. */
export interface ExecRunOptions {
  /** Written to the program's stdin; `true` sends the SIP request as received (as exec_msg). */
  stdin?: string | true;
  /** Extra environment variables (added after the server's and the SIP_* ones). */
  env?: Record<string, string>;
  /** Seconds before the process group is killed; default time_to_kill; 0 = no limit. */
  timeout?: number;
  /** Set the SIP_* variables; default the setvars parameter. */
  setvars?: boolean;
}

export interface ExecRunResult {
  /** 1 on exit 0, -1 otherwise (Kamailio's convention). */
  rc: number;
  /** Exit code, null when killed by a signal or never started. */
  code: number | null;
  signal: string | null;
  /** stdout (at most max_output bytes). */
  stdout: string;
  timedOut: boolean;
  refused: boolean;
}

/**
 * run(argv, opts): the shell-free form. argv[0] is the program (looked up on PATH), the other
 * elements its arguments, passed as they are: no shell, no pseudo-variable expansion, so values
 * the caller controls cannot become commands.
 */
export async function execRun(
  ctx: RouteContext,
  argv: unknown,
  options?: ExecRunOptions | null,
): Promise<ExecRunResult> {
  const opts: ExecRunOptions = options ?? {};
  const bad = (): ExecRunResult => ({
    rc: -1,
    code: null,
    signal: null,
    stdout: '',
    timedOut: false,
    refused: false,
  });
  if (
    !Array.isArray(argv) ||
    argv.length === 0 ||
    !argv.every((a) => typeof a === 'string') ||
    argv[0] === ''
  ) {
    ctx.log('err', 'exec.run: argv must be a non-empty array of strings');
    return bad();
  }
  const timeout = opts.timeout ?? params.time_to_kill;
  if (typeof timeout !== 'number' || !(timeout >= 0)) {
    ctx.log('err', `exec.run: invalid timeout ${String(timeout)}`);
    return bad();
  }
  const req = ctx.msg.isRequest ? ctx.msg : ctx.request;
  const stdin = opts.stdin === true ? req.raw : opts.stdin;
  const env = environment(ctx, opts.setvars ?? params.setvars === 1, opts.env) ?? process.env;
  const res = await run('run', {
    argv: argv as string[],
    ...(stdin === undefined ? {} : { stdin }),
    env: env as Record<string, string>,
    timeoutMs: timeout * 1000,
    maxOutputBytes: params.max_output,
  });
  return {
    rc: ok(res),
    code: res.exitCode,
    signal: res.signal,
    stdout: res.stdout,
    timedOut: res.timedOut,
    refused: res.refused,
  };
}
