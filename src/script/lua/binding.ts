/**
 * The global `KSR` of a Lua script, generated from the same module declarations as the TypeScript
 * KSR object (the registry): `KSR.<fn>` for core functions, `KSR.<module>.<fn>` for the rest, every
 * one a C closure over ONE dispatcher with the function's index as its upvalue. Nothing is listed
 * per module: a module added to the registry appears in Lua as it appears in TypeScript, and a
 * module that is not loaded is `nil` (`if not KSR.auth then ... end`).
 *
 * The message a call acts on is not passed through Lua: the route runner sets `current` (the run
 * state: context, exit flag, the pending Promise) before it resumes a route's coroutine and clears
 * it after, so a call costs one WebAssembly→JS crossing plus the argument copies — no table, proxy
 * or closure per message.
 *
 * A function that returns a Promise (t_relay, exec, registrar, MI, storage) yields the route's
 * coroutine; the runner resumes it with the result once the Promise settles, so waiting suspends
 * only that message. Synchronous functions return directly.
 *
 * KSR.x.exit() / KSR.x.drop() raise a private error value (a light userdata) that unwinds the
 * route: the runner treats it as a normal end. A `pcall` around the call catches it, as in
 * Kamailio; the route is then marked exited and every later KSR call raises it again.
 */
import type { RouteContext } from '../../proxy/context.ts';
import { endRoute, isExitSentinel } from '../exit.ts';
import type { KsrFunction } from '../module.ts';
import {
  controlOf,
  KIND_BITS,
  type KsrRegistry,
  maskOf,
  pathOf,
  refuseRoute,
  routeNames,
} from '../registry.ts';
import { type LuaVm, T_BOOLEAN, T_FUNCTION, T_NIL, T_NUMBER, T_STRING, T_TABLE } from './wasm.ts';

/** One KSR function as the dispatcher calls it. */
interface Callable {
  readonly path: string;
  // biome-ignore lint/suspicious/noExplicitAny: script arguments are whatever the script passes
  readonly fn: (ctx: RouteContext, ...args: any[]) => unknown;
  readonly mask: number;
  readonly allowed: string;
  /** 0: a function; 1: KSR.x.exit; 2: KSR.x.drop. */
  readonly control: 0 | 1 | 2;
}

/** What the dispatcher acts on while a route's coroutine runs. */
export interface RunState {
  /** undefined while the script's main chunk runs (no message yet). */
  readonly ctx: RouteContext | undefined;
  /** The route's coroutine: a KSR call that waits must yield this one, not a coroutine of the script. */
  readonly thread: number;
  exited: boolean;
  pending: PromiseLike<unknown> | undefined;
}

let current: RunState | undefined;

/** Set the run state for the duration of a resume; returns the previous one (restore it after). */
export function enter(st: RunState | undefined): RunState | undefined {
  const prev = current;
  current = st;
  return prev;
}

/** lua_pushinteger takes an i64 (a BigInt): the return codes and small numbers are made once. */
const SMALL_MIN = -64;
const SMALL = Array.from({ length: 1024 - SMALL_MIN }, (_, i) => BigInt(i + SMALL_MIN));
/** Nesting limit when converting tables and objects. */
const MAX_DEPTH = 16;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}

/** Lua ↔ JS value conversion and the dispatcher, for one VM (one per process). */
export class LuaBridge {
  readonly vm: LuaVm;
  /** One C function per KSR function (made once per declaration, shared by every generation). */
  private readonly pointers = new Map<KsrFunction, Map<string, number>>();
  /** Address of the value KSR.x.exit raises. */
  readonly exitMark: number;

  constructor(vm: LuaVm) {
    this.vm = vm;
    this.exitMark = vm.api._malloc(1);
  }

  /** The C function of a KSR function: the dispatcher bound to its declaration. */
  private pointerOf(def: KsrFunction, e: Callable): number {
    let byPath = this.pointers.get(def);
    if (byPath === undefined) {
      byPath = new Map();
      this.pointers.set(def, byPath);
    }
    let p = byPath.get(e.path);
    if (p === undefined) {
      p = this.vm.api.addFunction((L) => this.dispatch(L, e), 'ii');
      byPath.set(e.path, p);
    }
    return p;
  }

  /** Build the global `KSR` in state L from the registry. */
  installKsr(L: number, registry: KsrRegistry): void {
    const api = this.vm.api;
    const add = (module: string, fname: string): void => {
      const def = registry.definition(module, fname);
      if (def === undefined) return;
      const control = controlOf(module, fname);
      const e: Callable = {
        path: pathOf(module, fname),
        fn: def.fn,
        mask: maskOf(def.routes),
        allowed: routeNames(def.routes),
        control: control === 'exit' ? 1 : control === 'drop' ? 2 : 0,
      };
      api._lua_pushcclosure(L, this.pointerOf(def, e), 0);
      api._lua_setfield(L, -2, this.vm.cstring(fname));
    };
    const core = registry.functionNames('');
    const modules = registry.moduleNames();
    api._lua_createtable(L, 0, core.length + modules.length);
    for (const f of core) add('', f);
    for (const m of modules) {
      const fns = registry.functionNames(m);
      api._lua_createtable(L, 0, fns.length);
      for (const f of fns) add(m, f);
      api._lua_setfield(L, -2, this.vm.cstring(m));
    }
    api._lua_setglobal(L, this.vm.cstring('KSR'));
  }

  // ---------------------------------------------------------------- the dispatcher

  private dispatch(L: number, e: Callable): number {
    const api = this.vm.api;
    const st = current;
    if (st === undefined) return this.raise(L, 'KSR functions can only be called by a running script');
    if (st.exited) return this.raiseExit(L);
    const ctx = st.ctx;
    if (ctx === undefined)
      return this.raise(L, `${e.path}() can only be called in a route (not while the script loads)`);
    if (e.control !== 0) {
      st.exited = true;
      endRoute(ctx, e.control === 2);
      return this.raiseExit(L);
    }
    if ((e.mask & KIND_BITS[ctx.kind]) === 0) {
      this.push(L, refuseRoute(ctx, e.path, e.allowed), 0);
      return 1;
    }
    const n = api._lua_gettop(L);
    let r: unknown;
    let failed = false;
    let error: unknown;
    try {
      if (n === 0) r = e.fn(ctx);
      else if (n === 1) r = e.fn(ctx, this.toJs(L, 1, 0));
      else if (n === 2) r = e.fn(ctx, this.toJs(L, 1, 0), this.toJs(L, 2, 0));
      else {
        const args: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) args[i] = this.toJs(L, i + 1, 0);
        r = e.fn(ctx, ...args);
      }
    } catch (err) {
      failed = true;
      error = err;
    }
    // Raised outside the try: lua_error unwinds with a longjmp (a JS exception) through this frame.
    if (failed) {
      if (isExitSentinel(error)) {
        st.exited = true;
        return this.raiseExit(L);
      }
      return this.raise(L, `${e.path}(): ${error instanceof Error ? error.message : String(error)}`);
    }
    if (isThenable(r)) {
      if (L !== st.thread || api._lua_isyieldable(L) === 0) {
        // Nobody would resume us: let the operation finish on its own, report the misuse.
        (r as Promise<unknown>).then(undefined, () => undefined);
        return this.raise(
          L,
          `${e.path}() waits for I/O and must be called from the route itself, not inside a coroutine, metamethod or iterator of the script`,
        );
      }
      st.pending = r;
      return api._lua_yieldk(L, 0, 0, 0);
    }
    if (r === undefined) return 0;
    this.push(L, r, 0);
    return 1;
  }

  /** Raise a Lua error "<where>: message" (where = the calling line of the script). Never returns. */
  raise(L: number, message: string): number {
    const api = this.vm.api;
    api._luaL_where(L, 1);
    this.vm.pushString(L, message);
    api._lua_concat(L, 2);
    return api._lua_error(L);
  }

  private raiseExit(L: number): number {
    this.vm.api._lua_pushlightuserdata(L, this.exitMark);
    return this.vm.api._lua_error(L);
  }

  /** Whether the value at idx is what KSR.x.exit raised. */
  isExit(L: number, idx: number): boolean {
    const api = this.vm.api;
    return api._lua_type(L, idx) === 2 && api._lua_touserdata(L, idx) === this.exitMark;
  }

  // ---------------------------------------------------------------- conversions

  /** The Lua value at idx as a JS value: nil → undefined, tables → arrays or plain objects. */
  toJs(L: number, idx: number, depth: number): unknown {
    const api = this.vm.api;
    switch (api._lua_type(L, idx)) {
      case T_STRING:
        return this.vm.readString(L, idx);
      case T_NUMBER:
        return api._lua_tonumberx(L, idx, 0);
      case T_BOOLEAN:
        return api._lua_toboolean(L, idx) !== 0;
      case T_NIL:
        return undefined;
      case T_TABLE:
        return this.tableToJs(L, idx, depth);
      case T_FUNCTION:
        throw new TypeError('a function cannot be passed to a KSR function: pass its name (a string)');
      default:
        throw new TypeError(
          `a ${this.vm.toDisplayString(L, idx).split(':')[0]} cannot be passed to a KSR function`,
        );
    }
  }

  private tableToJs(L: number, idx: number, depth: number): unknown {
    if (depth >= MAX_DEPTH) throw new TypeError('table nested too deeply');
    const api = this.vm.api;
    const t = idx < 0 ? api._lua_gettop(L) + idx + 1 : idx;
    const n = Number(api._lua_rawlen(L, t));
    const obj: Record<string, unknown> = {};
    const arr: unknown[] = [];
    let isArray = true;
    let count = 0;
    api._lua_pushnil(L);
    while (api._lua_next(L, t) !== 0) {
      // key at -2, value at -1
      const kt = api._lua_type(L, -2);
      const v = this.toJs(L, -1, depth + 1);
      if (kt === T_NUMBER) {
        const k = api._lua_tonumberx(L, -2, 0);
        if (Number.isInteger(k) && k >= 1 && k <= n) arr[k - 1] = v;
        else isArray = false;
        obj[String(k)] = v;
      } else if (kt === T_STRING) {
        isArray = false;
        obj[this.vm.readString(L, -2)] = v;
      } else isArray = false;
      count++;
      api._lua_settop(L, -2);
    }
    return isArray && count === n ? arr : obj;
  }

  /** Push a JS value: integers as Lua integers (so "5060" prints without ".0"), objects as tables. */
  push(L: number, v: unknown, depth: number): void {
    const api = this.vm.api;
    switch (typeof v) {
      case 'number':
        if (v >= SMALL_MIN && v < 1024 && (v | 0) === v) api._lua_pushinteger(L, SMALL[v - SMALL_MIN]);
        else if (Number.isSafeInteger(v)) api._lua_pushinteger(L, BigInt(v));
        else api._lua_pushnumber(L, v);
        return;
      case 'string':
        this.vm.pushString(L, v);
        return;
      case 'boolean':
        api._lua_pushboolean(L, v ? 1 : 0);
        return;
      case 'bigint':
        api._lua_pushinteger(L, v);
        return;
      case 'undefined':
        api._lua_pushnil(L);
        return;
      case 'object':
        if (v === null) api._lua_pushnil(L);
        else if (depth >= MAX_DEPTH) api._lua_pushnil(L);
        else this.pushObject(L, v, depth);
        return;
      default:
        api._lua_pushnil(L);
    }
  }

  private pushObject(L: number, v: object, depth: number): void {
    const api = this.vm.api;
    if (Array.isArray(v)) {
      api._lua_createtable(L, v.length, 0);
      for (let i = 0; i < v.length; i++) {
        this.push(L, v[i], depth + 1);
        api._lua_rawseti(L, -2, BigInt(i + 1));
      }
      return;
    }
    if (v instanceof Map) {
      api._lua_createtable(L, 0, v.size);
      for (const [k, x] of v) {
        this.push(L, x, depth + 1);
        api._lua_setfield(L, -2, this.keyPtr(String(k)));
      }
      return;
    }
    if (Buffer.isBuffer(v)) {
      this.vm.pushString(L, v.toString('utf8'));
      return;
    }
    const keys = Object.keys(v);
    api._lua_createtable(L, 0, keys.length);
    for (const k of keys) {
      this.push(L, (v as Record<string, unknown>)[k], depth + 1);
      api._lua_setfield(L, -2, this.keyPtr(k));
    }
  }

  /** A NUL-terminated key in scratch memory (short-lived, unlike vm.cstring). */
  private keyPtr(k: string): number {
    return this.vm.bytes(Buffer.from(`${k}\0`, 'utf8'));
  }
}

const bridges = new WeakMap<LuaVm, LuaBridge>();

/** The bridge of a VM (one dispatcher per WebAssembly instance). */
export function bridgeOf(vm: LuaVm): LuaBridge {
  let b = bridges.get(vm);
  if (b === undefined) {
    b = new LuaBridge(vm);
    bridges.set(vm, b);
  }
  return b;
}
