/**
 * Script-owned storage: $var(x) / $vn(x) (per message, on ctx.vars), $avp(x) (per transaction, on
 * ctx.avps) and $shv(x) (process-wide, shared by every message and kept across script reloads).
 *
 * AVP lists are stacks as in Kamailio: ctx.avps.get(name)[0] is the value added last, which is what
 * $avp(name) reads; assigning adds on top; `$(avp(name)[*])` is every value.
 */
import type { RouteContext } from '../../proxy/context.ts';
import type { PvClass, PvIndex, PvValue, SimplePv } from './types.ts';

/** $shv(name): process-wide values (Kamailio's shared variables). */
export const sharedVars = new Map<string, string | number>();

// ---------------------------------------------------------------- $var / $vn

/** $var names: not empty, no "." first (reserved for the core's per-message settings). */
function validVarName(name: string): boolean {
  return name !== '' && name.charCodeAt(0) !== 0x2e;
}

/**
 * $var(x): never $null, as in Kamailio, where script variables start as 0 and assigning $null
 * makes them 0 again. Junction keeps them per message (Kamailio's live per process and leak
 * from one message into the next).
 */
export const varClass: PvClass = (name, index) => {
  if (!validVarName(name) || index !== undefined) return undefined;
  return {
    get: (ctx) => ctx.vars.get(name) ?? 0,
    set: (ctx, v) => {
      ctx.vars.set(name, v ?? 0);
      return true;
    },
  };
};

/** $vn(x): the same storage as $var(x), but it can hold $null (unset or never set). */
export const vnClass: PvClass = (name, index) => {
  if (!validVarName(name) || index !== undefined) return undefined;
  return {
    get: (ctx) => ctx.vars.get(name) ?? null,
    set: (ctx, v) => {
      if (v === null) ctx.vars.delete(name);
      else ctx.vars.set(name, v);
      return true;
    },
  };
};

// ---------------------------------------------------------------- $avp

/**
 * AVP name forms: `x` and `s:x` are the string name x; `i:5` is the integer name 5 (a separate
 * namespace in Kamailio, kept under the key "i:5").
 */
function avpKey(sub: string): string | undefined {
  if (sub.length > 2 && sub.charCodeAt(1) === 0x3a /* : */) {
    const t = sub.charCodeAt(0) | 0x20;
    if (t === 0x73 /* s */) return sub.slice(2);
    if (t === 0x69 /* i */) {
      const n = Number(sub.slice(2));
      return Number.isInteger(n) && n >= 0 ? `i:${n}` : undefined;
    }
  }
  return sub === '' ? undefined : sub;
}

function at(list: Array<string | number>, index: number): number {
  return index < 0 ? list.length + index : index;
}

function avpGet(ctx: RouteContext, key: string, index: PvIndex | undefined): PvValue {
  const list = ctx.avps.get(key);
  if (list === undefined || list.length === 0) return null;
  if (index === 'all') return list.join(',');
  return list[at(list, index ?? 0)] ?? null;
}

function avpSet(ctx: RouteContext, key: string, index: PvIndex | undefined, v: PvValue): boolean {
  let list = ctx.avps.get(key);
  if (v === null) {
    // $avp(x) = $null removes the top value; $(avp(x)[*]) = $null removes them all; [n] removes one.
    if (list === undefined) return true;
    if (index === 'all') list.length = 0;
    else {
      const i = at(list, index ?? 0);
      if (i >= 0 && i < list.length) list.splice(i, 1);
    }
    if (list.length === 0) ctx.avps.delete(key);
    return true;
  }
  if (index === undefined) {
    if (list === undefined) {
      list = [];
      ctx.avps.set(key, list);
    }
    list.unshift(v);
    return true;
  }
  if (index === 'all') {
    // $(avp(x)[*]) = v: replace every value by this one.
    ctx.avps.set(key, [v]);
    return true;
  }
  if (list === undefined) return false;
  const i = at(list, index);
  if (i < 0 || i >= list.length) return false;
  list[i] = v;
  return true;
}

export const avpClass: PvClass = (sub, index) => {
  const key = avpKey(sub);
  if (key === undefined) return undefined;
  return {
    get: (ctx) => avpGet(ctx, key, index),
    set: (ctx, v) => avpSet(ctx, key, index, v),
  };
};

// ---------------------------------------------------------------- $shv

export const shvClass: PvClass = (name, index) => {
  if (name === '' || index !== undefined) return undefined;
  return {
    get: () => sharedVars.get(name) ?? null,
    set: (_ctx, v) => {
      if (v === null) sharedVars.delete(name);
      else sharedVars.set(name, v);
      return true;
    },
  };
};

// ---------------------------------------------------------------- $env

/** $env(NAME): the server's environment (read-only). */
export const envClass: PvClass = (name, index): SimplePv | undefined => {
  if (name === '' || index !== undefined) return undefined;
  return { get: () => process.env[name] ?? null };
};
