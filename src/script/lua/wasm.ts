/**
 * The Lua 5.4 VM (wasmoon's WebAssembly build of the reference interpreter), used through its raw
 * C API: one WebAssembly instance per process, one lua_State per script generation. wasmoon's own
 * JS↔Lua layer (proxies, type extensions, a Promise per call) costs microseconds per crossing;
 * the raw API with hand-written string copies costs about 0.1 µs (measured in README.md).
 *
 * Strings cross as bytes in the instance's memory: ASCII (the usual SIP text) is copied byte by
 * byte, anything else through UTF-8 encoding.
 */
import { LuaFactory } from 'wasmoon';

/** The raw exports of the Lua build that Junction uses (pointers are numbers; lua_Integer is i64). */
export interface LuaApi {
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
  HEAP32: Int32Array;
  addFunction(fn: (L: number) => number, sig: string): number;
  _malloc(n: number): number;
  _free(p: number): void;
  _luaL_newstate(): number;
  _luaL_openlibs(L: number): void;
  _lua_close(L: number): void;
  _luaL_loadbufferx(L: number, buf: number, size: number, name: number, mode: number): number;
  _luaL_ref(L: number, t: number): number;
  _luaL_unref(L: number, t: number, ref: number): void;
  _luaL_traceback(L: number, L1: number, msg: number, level: number): void;
  _luaL_where(L: number, level: number): void;
  _luaL_tolstring(L: number, idx: number, len: number): number;
  _lua_newthread(L: number): number;
  _lua_resetthread(L: number): number;
  _lua_resume(L: number, from: number, narg: number, nres: number): number;
  _lua_yieldk(L: number, n: number, ctx: number, k: number): number;
  _lua_isyieldable(L: number): number;
  _lua_error(L: number): number;
  _lua_concat(L: number, n: number): void;
  _lua_gettop(L: number): number;
  _lua_settop(L: number, idx: number): void;
  _lua_type(L: number, idx: number): number;
  _lua_tonumberx(L: number, idx: number, isnum: number): number;
  _lua_toboolean(L: number, idx: number): number;
  _lua_tolstring(L: number, idx: number, len: number): number;
  _lua_touserdata(L: number, idx: number): number;
  _lua_isinteger(L: number, idx: number): number;
  _lua_pushnil(L: number): void;
  _lua_pushnumber(L: number, n: number): void;
  _lua_pushinteger(L: number, n: bigint): void;
  _lua_pushlstring(L: number, s: number, len: number): number;
  _lua_pushboolean(L: number, b: number): void;
  _lua_pushlightuserdata(L: number, p: number): void;
  _lua_pushcclosure(L: number, fn: number, n: number): void;
  _lua_pushvalue(L: number, idx: number): void;
  _lua_createtable(L: number, narr: number, nrec: number): void;
  _lua_setfield(L: number, idx: number, k: number): void;
  _lua_getfield(L: number, idx: number, k: number): number;
  _lua_rawgeti(L: number, idx: number, n: bigint): number;
  _lua_rawseti(L: number, idx: number, n: bigint): void;
  /** lua_Unsigned: a BigInt. */
  _lua_rawlen(L: number, idx: number): bigint;
  _lua_next(L: number, idx: number): number;
  _lua_setglobal(L: number, name: number): void;
  _lua_getglobal(L: number, name: number): number;
  _lua_pcallk(L: number, nargs: number, nres: number, errfunc: number, ctx: number, k: number): number;
}

export const LUA_OK = 0;
export const LUA_YIELD = 1;
export const LUA_REGISTRYINDEX = -1001000;
export const T_NIL = 0;
export const T_BOOLEAN = 1;
export const T_LIGHTUSERDATA = 2;
export const T_NUMBER = 3;
export const T_STRING = 4;
export const T_TABLE = 5;
export const T_FUNCTION = 6;

/** The process's Lua instance with its scratch memory and string helpers. */
export class LuaVm {
  readonly api: LuaApi;
  /** Scratch: an out-parameter (size_t / int) and a buffer for strings passed to Lua. */
  private readonly outPtr: number;
  private scratch: number;
  private scratchSize = 4096;
  /** Interned C strings for names used as keys (field and global names). */
  private readonly cstrings = new Map<string, number>();

  constructor(api: LuaApi) {
    this.api = api;
    this.outPtr = api._malloc(8);
    this.scratch = api._malloc(this.scratchSize);
  }

  /** A NUL-terminated copy of `s` that lives as long as the process (for names). */
  cstring(s: string): number {
    let p = this.cstrings.get(s);
    if (p === undefined) {
      const b = Buffer.from(`${s}\0`, 'utf8');
      p = this.api._malloc(b.length);
      this.api.HEAPU8.set(b, p);
      this.cstrings.set(s, p);
    }
    return p;
  }

  /**
   * Strings read from Lua by address: the literals a script passes (`"failure_route"`, `"$rU"`)
   * live at the same address as long as their function does, so most reads are a hit, checked
   * byte by byte (an address may be reused for another string after Lua's GC), without allocating.
   */
  private readonly seen = new Map<number, string>();

  /** The string at `idx` (which must be a string: lua_tolstring would convert a number in place). */
  readString(L: number, idx: number): string {
    const api = this.api;
    const p = api._lua_tolstring(L, idx, this.outPtr);
    const n = api.HEAPU32[this.outPtr >> 2];
    const heap = api.HEAPU8;
    if (n > 64) return Buffer.from(heap.buffer, heap.byteOffset + p, n).toString('utf8');
    const cached = this.seen.get(p);
    if (cached !== undefined && cached.length === n) {
      let k = 0;
      while (k < n && cached.charCodeAt(k) === heap[p + k]) k++;
      if (k === n) return cached;
    }
    let ascii = true;
    for (let k = 0; k < n; k++) {
      if (heap[p + k] > 127) {
        ascii = false;
        break;
      }
    }
    const s = Buffer.from(heap.buffer, heap.byteOffset + p, n).toString(ascii ? 'latin1' : 'utf8');
    if (ascii) {
      if (this.seen.size >= 4096) this.seen.clear();
      this.seen.set(p, s);
    }
    return s;
  }

  /** Any value at `idx` as Lua's tostring() prints it (for error messages). */
  toDisplayString(L: number, idx: number): string {
    const api = this.api;
    const p = api._luaL_tolstring(L, idx, this.outPtr);
    const n = api.HEAPU32[this.outPtr >> 2];
    const s = Buffer.from(api.HEAPU8.buffer, api.HEAPU8.byteOffset + p, n).toString('utf8');
    api._lua_settop(L, -2);
    return s;
  }

  pushString(L: number, s: string): void {
    const api = this.api;
    const n = s.length;
    if (n <= this.scratchSize) {
      const heap = api.HEAPU8;
      const base = this.scratch;
      let k = 0;
      for (; k < n; k++) {
        const c = s.charCodeAt(k);
        if (c > 127) break;
        heap[base + k] = c;
      }
      if (k === n) {
        api._lua_pushlstring(L, base, n);
        return;
      }
    }
    const b = Buffer.from(s, 'utf8');
    this.ensureScratch(b.length);
    api.HEAPU8.set(b, this.scratch);
    api._lua_pushlstring(L, this.scratch, b.length);
  }

  /** Copy bytes into the scratch buffer; returns its address (valid until the next call). */
  bytes(b: Uint8Array): number {
    this.ensureScratch(b.length);
    this.api.HEAPU8.set(b, this.scratch);
    return this.scratch;
  }

  private ensureScratch(n: number): void {
    if (n <= this.scratchSize) return;
    this.api._free(this.scratch);
    this.scratchSize = Math.max(n, this.scratchSize * 2);
    this.scratch = this.api._malloc(this.scratchSize);
  }

  /** The int at the out-parameter address (after lua_resume: the number of results). */
  get out(): number {
    return this.outPtr;
  }
}

let vmPromise: Promise<LuaVm> | undefined;

/** The process's Lua instance (instantiated on first use). */
export function luaVm(): Promise<LuaVm> {
  vmPromise ??= new LuaFactory()
    .getLuaModule()
    .then((w) => new LuaVm((w as unknown as { module: LuaApi }).module));
  return vmPromise;
}
