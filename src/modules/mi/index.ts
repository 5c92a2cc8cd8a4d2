/**
 * KSR.mi: management commands from the routing script (OpenSIPS 3.2 mi_script).
 *
 * `await KSR.mi.mi("dr_reload extensions")` runs a command with space-separated positional
 * params (no escaping, as in OpenSIPS); `KSR.mi.mi("dlg_list", { index: 0, counter: 10 })` passes
 * named (object) or positional (array) params instead, and then the words after the command
 * name are ignored. The JSON result (compact; pretty with the 4th argument) is stored in
 * `ret_var` (`"$var(r)"`, any writable pseudo-variable) when given; on failure the error text is.
 *
 * Return codes: 1 success; -1 unknown command; -code for a command failure (-404, -500 …);
 * -400 when the params fit none of the command's recipes; -500 when the management interface is
 * not running. The command runs on the event loop like any other I/O: awaiting it never blocks
 * other calls. `KSR.mi.launch(cmd, params?)` starts one detached (the seed's advice for slow
 * reloads) and returns 1 at once (-1 for an unknown command); its failure is logged.
 */
import type { Logger } from '../../log/logger.ts';
import { jsonText } from '../../mi/json_stream.ts';
import type { MiRegistry } from '../../mi/registry.ts';
import { INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND } from '../../mi/registry.ts';
import type { RouteContext } from '../../proxy/context.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import { pvSet } from '../pv/pseudo_variables.ts';
import { def } from '../shared/define.ts';

let registry: MiRegistry | undefined;
let log: Logger | undefined;

/** Set by the server when its management interface starts (undefined when it stops). */
export function bindMiRegistry(r: MiRegistry | undefined, l: Logger | undefined): void {
  registry = r;
  log = l;
}

/** `cmd` split on spaces (OpenSIPS's simple form) and the params to pass. */
export function splitCommand(cmd: string, params: unknown): { name: string; params: unknown } {
  const words = String(cmd).trim().split(/\s+/);
  const name = words[0] ?? '';
  if (params !== undefined && params !== null) return { name, params };
  return { name, params: words.slice(1) };
}

/** The script's rc for an error code. */
export function rcOf(code: number): number {
  if (code === METHOD_NOT_FOUND) return -1;
  if (code === INVALID_PARAMS || code === INVALID_REQUEST) return -400;
  if (code < 0) return -500;
  return -code;
}

async function runMi(
  ctx: RouteContext,
  cmd: string,
  params?: unknown,
  retVar?: string,
  pretty?: unknown,
): Promise<number> {
  const store = (text: string): void => {
    if (typeof retVar === 'string' && retVar !== '') pvSet(ctx, retVar, text);
  };
  if (registry === undefined) {
    ctx.log('err', 'mi: the management interface is not running');
    store('management interface not running');
    return -500;
  }
  const { name, params: p } = splitCommand(cmd, params);
  const out = await registry.call(name, p, { transport: 'script' });
  if (!out.ok) {
    store(out.message);
    if (out.code !== METHOD_NOT_FOUND) ctx.log('dbg', `mi: ${name}: ${out.code} ${out.message}`);
    else ctx.log('err', `mi: command '${name}' not available`);
    return rcOf(out.code);
  }
  // Streamed lists (async iterables) are read to the end: the script gets the whole text.
  const compact = (await jsonText(out.result ?? null)) ?? 'null';
  const json = pretty === true || pretty === 1 ? JSON.stringify(JSON.parse(compact), null, 2) : compact;
  store(json);
  return 1;
}

function launch(ctx: RouteContext, cmd: string, params?: unknown): number {
  if (registry === undefined) {
    ctx.log('err', 'mi: the management interface is not running');
    return -500;
  }
  const { name, params: p } = splitCommand(cmd, params);
  if (registry.lookup(name) === undefined) {
    ctx.log('err', `mi: command '${name}' not available`);
    return -1;
  }
  const r = registry;
  void r.call(name, p, { transport: 'script' }).then((out) => {
    if (!out.ok) log?.error({ command: name, code: out.code }, `launched MI command failed: ${out.message}`);
  });
  return 1;
}

const mi = {
  name: 'mi',
  summary: 'Management commands from the routing script (OpenSIPS mi_script)',
  functions: {
    mi: def(
      '(cmd: string, params?: unknown[] | Record<string, unknown> | null, ret_var?: string, pretty?: boolean) => Promise<number>',
      runMi,
      undefined,
      'Run a management command ("cmd p1 p2" or cmd + params); 1 ok, -1 unknown command, -code on failure; JSON result into ret_var.',
    ),
    launch: def(
      '(cmd: string, params?: unknown[] | Record<string, unknown> | null) => number',
      launch,
      undefined,
      'Start a management command detached (slow reloads); 1 started, -1 unknown command.',
    ),
  },
} satisfies ModuleDefinition;

export default mi;
