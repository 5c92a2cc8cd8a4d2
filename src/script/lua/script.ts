/**
 * A Lua routing script (Kamailio app_lua / KEMI style) as a LoadedScript, so the engine, hot
 * reload, check-script and the test harness treat it like a TypeScript one.
 *
 * One lua_State per generation (a reload builds a new one and never touches the running one; the
 * old state is closed once nothing refers to its script any more). Global functions
 * `ksr_request_route`, `ksr_reply_route`, `ksr_onsend_route` are the routes; any other global
 * function is a handler for KSR.tm.t_on_*('name'). Each message runs in its own coroutine (taken
 * from a pool of finished ones): when a KSR function returns a Promise the coroutine yields and
 * is resumed when it settles, so only that message waits.
 */
import { basename, resolve as resolvePath } from 'node:path';
import type { RouteContext, RouteHandler } from '../../proxy/context.ts';
import { readScriptFile, type ScriptError } from '../errors.ts';
import type { LoadedScript, RouteFunction, ScriptFunction } from '../loader.ts';
import { defaultRegistry, KsrRegistry } from '../registry.ts';
import { bridgeOf, enter, type LuaBridge, type RunState } from './binding.ts';
import { LUA_OK, LUA_REGISTRYINDEX, LUA_YIELD, type LuaVm, luaVm, T_FUNCTION, T_STRING } from './wasm.ts';

/** An error raised by a Lua route, with the script line Lua reported. */
export class LuaRouteError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(message: string, file: string, line: number) {
    super(message);
    this.name = 'LuaError';
    this.file = file;
    this.line = line;
  }
}

/** Lua names the chunk in messages ("routes.lua:12: ..."); the file name keeps them short. */
function chunkName(path: string): string {
  return basename(path);
}

/** "routes.lua:12: message" → line 12 (0 when the message has no position of this chunk). */
function lineOf(message: string, chunk: string): number {
  const at = message.indexOf(`${chunk}:`);
  if (at < 0) return 0;
  let i = at + chunk.length + 1;
  let n = 0;
  while (i < message.length && message.charCodeAt(i) >= 48 && message.charCodeAt(i) <= 57) {
    n = n * 10 + message.charCodeAt(i) - 48;
    i++;
  }
  return message[i] === ':' ? n : 0;
}

/** A state nobody retired explicitly (check-script, tests) is closed once its script is collected. */
const closer = new FinalizationRegistry<{ vm: LuaVm; L: number }>(({ vm, L }) => vm.api._lua_close(L));

const ROUTES = ['ksr_request_route', 'ksr_reply_route', 'ksr_onsend_route'] as const;

/**
 * Run in every new state before the script: the standard functions that would stop or fork the
 * server from inside the VM (Emscripten implements them by throwing through the interpreter) raise
 * a Lua error instead.
 */
const PRELUDE = `
local function unavailable(name, why)
  return function() error(name .. " is not available in Junction routing scripts" .. why, 2) end
end
os.exit = unavailable("os.exit", " (a script cannot stop the server)")
os.execute = unavailable("os.execute", "; run programs with KSR.exec")
io.popen = unavailable("io.popen", "; run programs with KSR.exec")
`;

class LuaScript implements LoadedScript {
  readonly path: string;
  readonly generation: number;
  readonly exports: Readonly<Record<string, ScriptFunction>>;
  readonly requestRoute: RouteFunction;
  readonly replyRoute: RouteFunction | undefined;
  readonly onsendRoute: RouteFunction | undefined;
  readonly files: ReadonlyArray<{ readonly path: string; readonly source: string }>;

  private readonly vm: LuaVm;
  private readonly bridge: LuaBridge;
  private readonly L: number;
  private readonly chunk: string;
  /** Finished coroutines ready for the next message. */
  private readonly pool: number[] = [];
  private readonly handlers = new Map<string, RouteFunction>();
  /** Routes running (or waiting) in this state; retired: replaced by a reload; closed: state freed. */
  private active = 0;
  private retired = false;
  private closed = false;

  constructor(init: {
    path: string;
    generation: number;
    source: string;
    vm: LuaVm;
    L: number;
    functions: readonly string[];
  }) {
    this.path = init.path;
    this.generation = init.generation;
    this.files = [{ path: init.path, source: init.source }];
    this.vm = init.vm;
    this.bridge = bridgeOf(init.vm);
    this.L = init.L;
    this.chunk = chunkName(init.path);
    const exports: Record<string, ScriptFunction> = {};
    for (const name of init.functions) exports[name] = this.routeFunction(name);
    this.exports = exports;
    this.requestRoute = exports.ksr_request_route as RouteFunction;
    this.replyRoute = exports.ksr_reply_route as RouteFunction | undefined;
    this.onsendRoute = exports.ksr_onsend_route as RouteFunction | undefined;
  }

  /** A RouteFunction running the global Lua function `name` (looked up when it runs). */
  private routeFunction(name: string): RouteFunction {
    const cname = this.vm.cstring(name);
    return (ksr) => {
      const ctx = KsrRegistry.contextOf(ksr);
      if (ctx === undefined) throw new TypeError(`${name}: called without a KSR object`);
      return this.run(cname, name, ctx);
    };
  }

  resolveHandler(nameOrFn: RouteHandler): RouteFunction | undefined {
    if (typeof nameOrFn !== 'string') return undefined;
    let fn = this.handlers.get(nameOrFn);
    if (fn === undefined) {
      const api = this.vm.api;
      const isFn = api._lua_getglobal(this.L, this.vm.cstring(nameOrFn)) === T_FUNCTION;
      api._lua_settop(this.L, -2);
      if (!isFn) return undefined;
      fn = this.routeFunction(nameOrFn);
      this.handlers.set(nameOrFn, fn);
    }
    return fn;
  }

  locate(err: unknown): ScriptError | undefined {
    if (err instanceof LuaRouteError && err.line > 0)
      return { file: this.path, line: err.line, column: 0, message: err.message };
    return undefined;
  }

  // ---------------------------------------------------------------- running a route

  private thread(): number {
    const T = this.pool.pop();
    if (T !== undefined) return T;
    const api = this.vm.api;
    const t = api._lua_newthread(this.L);
    // Anchored in the registry (the value popped off the main stack) while the pool holds it.
    api._luaL_ref(this.L, LUA_REGISTRYINDEX);
    return t;
  }

  /**
   * The engine swapped in another generation: free the Lua state as soon as no route of this one
   * is running (at once when none is). WebAssembly memory is only reused, never returned, so
   * waiting for the garbage collector to notice would let reloads pile up states.
   */
  retire(): void {
    this.retired = true;
    if (this.active === 0) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    closer.unregister(this);
    this.pool.length = 0;
    this.vm.api._lua_close(this.L);
  }

  private finished(): void {
    if (--this.active === 0 && this.retired) this.close();
  }

  private run(cname: number, name: string, ctx: RouteContext): Promise<void> | undefined {
    if (this.closed)
      throw new LuaRouteError(
        `${name}: generation ${this.generation} was replaced by a reload`,
        this.path,
        0,
      );
    this.active++;
    let r: Promise<void> | undefined;
    try {
      r = this.start(cname, name, ctx);
    } catch (e) {
      this.finished();
      throw e;
    }
    if (r === undefined) {
      this.finished();
      return undefined;
    }
    return r.then(
      () => this.finished(),
      (e: unknown) => {
        this.finished();
        throw e;
      },
    );
  }

  private start(cname: number, name: string, ctx: RouteContext): Promise<void> | undefined {
    const api = this.vm.api;
    const T = this.thread();
    if (api._lua_getglobal(T, cname) !== T_FUNCTION) {
      api._lua_settop(T, 0);
      this.pool.push(T);
      throw new LuaRouteError(`${name} is not a function any more`, this.path, 0);
    }
    const st: RunState = { ctx, thread: T, exited: false, pending: undefined };
    return this.resume(T, st, 0);
  }

  private resume(T: number, st: RunState, nargs: number): Promise<void> | undefined {
    const api = this.vm.api;
    const prev = enter(st);
    let status: number;
    try {
      status = api._lua_resume(T, 0, nargs, this.vm.out);
    } finally {
      enter(prev);
    }
    if (status === LUA_OK) {
      api._lua_settop(T, 0);
      this.pool.push(T);
      return undefined;
    }
    if (status === LUA_YIELD) {
      const p = st.pending;
      st.pending = undefined;
      api._lua_settop(T, 0);
      if (p === undefined) {
        // coroutine.yield() in the route itself: nothing to wait for.
        this.recycle(T);
        throw new LuaRouteError(
          'coroutine.yield() outside a coroutine of the script ends the route',
          this.path,
          0,
        );
      }
      return Promise.resolve(p).then(
        (v) => {
          this.bridge.push(T, v, 0);
          return this.resume(T, st, 1);
        },
        (e: unknown) => {
          // The route cannot go on without the result: it ends here.
          this.recycle(T);
          throw e;
        },
      );
    }
    // KSR.x.exit() / drop(): a normal end. Any other error is the script's.
    const exited = this.bridge.isExit(T, -1);
    const message = exited ? '' : this.vm.toDisplayString(T, -1);
    this.recycle(T);
    if (exited) return undefined;
    throw new LuaRouteError(message, this.path, lineOf(message, this.chunk));
  }

  /** Reset a coroutine that ended in an error or was abandoned, and pool it again. */
  private recycle(T: number): void {
    const api = this.vm.api;
    api._lua_resetthread(T);
    api._lua_settop(T, 0);
    this.pool.push(T);
  }
}

export interface LuaLoadOptions {
  generation?: number;
  registry?: KsrRegistry;
}

/**
 * Load a Lua routing script in a fresh lua_State: compile, run the main chunk, find the route
 * functions. Never throws for a bad script: returns the errors with file:line.
 */
export async function loadLuaScript(
  path: string,
  opts: LuaLoadOptions = {},
): Promise<LoadedScript | ScriptError[]> {
  const abs = resolvePath(path);
  let source: string;
  try {
    source = await readScriptFile(abs);
  } catch (e) {
    return [{ file: abs, line: 0, column: 0, message: (e as Error).message }];
  }
  const registry = opts.registry ?? (await defaultRegistry());
  const vm = await luaVm();
  const bridge = bridgeOf(vm);
  const api = vm.api;
  const L = api._luaL_newstate();
  let handedOver = false;
  try {
    api._luaL_openlibs(L);
    bridge.installKsr(L, registry);
    const prelude = Buffer.from(PRELUDE, 'utf8');
    if (
      api._luaL_loadbufferx(L, vm.bytes(prelude), prelude.length, vm.cstring('=prelude'), vm.cstring('t')) !==
        LUA_OK ||
      api._lua_pcallk(L, 0, 0, 0, 0, 0) !== LUA_OK
    )
      throw new Error(`Lua prelude: ${vm.toDisplayString(L, -1)}`);
    const chunk = chunkName(abs);
    const compile = (text: string): number => {
      const bytes = Buffer.from(text, 'utf8');
      const buf = api._malloc(bytes.length + 1);
      api.HEAPU8.set(bytes, buf);
      const rc = api._luaL_loadbufferx(L, buf, bytes.length, vm.cstring(`@${chunk}`), vm.cstring('t'));
      api._free(buf);
      return rc;
    };
    let loaded = compile(source);
    const lenient = loaded !== LUA_OK ? slashCommentsAsLua(source) : undefined;
    if (lenient !== undefined) {
      // Published KEMI examples (the seed's route.lua among them) comment lines out with `//`,
      // which no Lua statement can start with: read such lines as `--` comments, same positions.
      const firstError = vm.toDisplayString(L, -1);
      api._lua_settop(L, -2);
      loaded = compile(lenient);
      if (loaded !== LUA_OK) {
        api._lua_settop(L, -2);
        vm.pushString(L, firstError);
      }
    }
    const errorAt = (message: string, suffix = ''): ScriptError[] => {
      const line = lineOf(message, chunk);
      const text =
        line > 0
          ? message
              .slice(message.indexOf(`${chunk}:${line}:`) + chunk.length + String(line).length + 2)
              .trim()
          : message;
      return [{ file: abs, line, column: 0, message: `${text}${suffix}` }];
    };
    if (loaded !== LUA_OK) return errorAt(vm.toDisplayString(L, -1));
    // The main chunk: defines the functions (KSR calls need a message and refuse here).
    const prev = enter({ ctx: undefined, thread: L, exited: false, pending: undefined });
    let status: number;
    try {
      status = api._lua_pcallk(L, 0, 0, 0, 0, 0);
    } finally {
      enter(prev);
    }
    if (status !== LUA_OK) return errorAt(vm.toDisplayString(L, -1), ' (while loading the script)');
    const functions = globalFunctions(vm, L);
    const errors: ScriptError[] = [];
    for (const r of ROUTES) {
      const t = api._lua_getglobal(L, vm.cstring(r));
      api._lua_settop(L, -2);
      if (t !== 0 && t !== T_FUNCTION)
        errors.push({ file: abs, line: 0, column: 0, message: `${r} is defined but is not a function` });
    }
    if (!functions.includes('ksr_request_route') && errors.length === 0)
      errors.push({
        file: abs,
        line: 0,
        column: 0,
        message: 'the script defines no function ksr_request_route (the request route)',
      });
    if (errors.length > 0) return errors;
    const script = new LuaScript({
      path: abs,
      generation: opts.generation ?? 1,
      source,
      vm,
      L,
      functions,
    });
    closer.register(script, { vm, L }, script);
    handedOver = true;
    return script;
  } finally {
    if (!handedOver) api._lua_close(L);
  }
}

/**
 * The source with every line that starts with `//` turned into a `--` comment, or undefined when
 * there is none. Only tried after the source failed to compile as it is.
 */
function slashCommentsAsLua(source: string): string | undefined {
  let changed = false;
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    const t = l.trimStart();
    if (t.startsWith('//')) {
      const at = l.length - t.length;
      lines[i] = `${l.slice(0, at)}--${t.slice(2)}`;
      changed = true;
    }
  }
  return changed ? lines.join('\n') : undefined;
}

/** Names of the global functions (routes and handlers), sorted. */
function globalFunctions(vm: LuaVm, L: number): string[] {
  const api = vm.api;
  const names: string[] = [];
  api._lua_rawgeti(L, LUA_REGISTRYINDEX, 2n); // LUA_RIDX_GLOBALS
  api._lua_pushnil(L);
  while (api._lua_next(L, -2) !== 0) {
    if (api._lua_type(L, -2) === T_STRING && api._lua_type(L, -1) === T_FUNCTION) {
      const name = vm.readString(L, -2);
      // The standard library's functions (print, pcall, ...) are not the script's.
      if (!STD_GLOBALS.has(name)) names.push(name);
    }
    api._lua_settop(L, -2);
  }
  api._lua_settop(L, -2);
  return names.sort();
}

const STD_GLOBALS = new Set([
  'assert',
  'collectgarbage',
  'dofile',
  'error',
  'getmetatable',
  'ipairs',
  'load',
  'loadfile',
  'next',
  'pairs',
  'pcall',
  'print',
  'rawequal',
  'rawget',
  'rawlen',
  'rawset',
  'require',
  'select',
  'setmetatable',
  'tonumber',
  'tostring',
  'type',
  'warn',
  'xpcall',
]);
