/**
 * The pseudo-variable engine behind KSR.pv (and kx): a table of PV names with their getters and
 * setters, and a parser for the names scripts write — `$ru`, `$hdr(From)`, `$avp(s:x)`,
 * `$(avp(x)[1])`, `$(hdr(Via)[*])`, `$T_req($fu)`. A name is parsed once and the resolved spec is
 * cached, so the per-message cost of KSR.pv.get("$fu") is one Map lookup plus the getter.
 *
 * Not supported: transformations (`$(ru{uri.user})`), `$sel`, `$xavp` — such names are invalid
 * (KSR.pv.get logs an error and returns null, as Kamailio does for a bad name).
 */
import type { RouteContext } from '../../proxy/context.ts';
import { isAlnum } from '../../sip/chars.ts';
import { hdrClass, hdrcClass } from './pv_headers.ts';
import { MESSAGE_PVS } from './pv_message.ts';
import { avpClass, envClass, shvClass, varClass, vnClass } from './pv_store.ts';
import { localTimeClass, TIME_PVS, tvClass, utcTimeClass } from './pv_time.ts';
import type { PvClass, PvIndex, PvSpec, PvValue, SimplePv } from './types.ts';

export type { PvIndex, PvSpec, PvValue } from './types.ts';

/** PVs without a sub-name. A Map, so that names like "constructor" never hit Object.prototype. */
const SIMPLE = new Map<string, SimplePv>([...Object.entries(MESSAGE_PVS), ...Object.entries(TIME_PVS)]);

/** $T_req(pv): the inner PV read on the transaction's request (useful in reply and failure routes). */
const tReqClass: PvClass = (sub, index) => {
  const inner = index === undefined ? pvSpec(sub) : undefined;
  if (inner === undefined) return undefined;
  return { get: (ctx) => inner.get(onRequest(ctx)) };
};

/** PV classes taking a sub-name: `$name(sub)`. */
const CLASSES = new Map<string, PvClass>([
  ['hdr', hdrClass],
  ['hdrc', hdrcClass],
  ['var', varClass],
  ['vz', varClass],
  ['vn', vnClass],
  ['avp', avpClass],
  ['shv', shvClass],
  ['env', envClass],
  ['time', localTimeClass],
  ['utime', utcTimeClass],
  ['TV', tvClass],
  ['T_req', tReqClass],
]);

/**
 * Add a PV class owned by another module (`$dlg_var(name)` by the dialog module). Call at import
 * time; a class name is registered once.
 */
export function registerPvClass(name: string, cls: PvClass): void {
  if (CLASSES.has(name)) throw new Error(`pseudo-variable class $${name}(...) registered twice`);
  CLASSES.set(name, cls);
  cache.clear();
}

/** The context seen with the transaction's request as the current message. */
function onRequest(ctx: RouteContext): RouteContext {
  if (ctx.msg === ctx.request) return ctx;
  // A prototype view: every other property and method still resolves on the real context.
  return Object.create(ctx, { msg: { value: ctx.request } }) as RouteContext;
}

// ---------------------------------------------------------------- name parsing

interface ParsedName {
  cls: string;
  sub: string | undefined;
  index: PvIndex | undefined;
}

function isNameChar(c: number): boolean {
  return isAlnum(c) || c === 0x5f /* _ */ || c === 0x2e /* . */;
}

/** `$name`, `$name(sub)`, `$(name)`, `$(name(sub)[index])`; undefined when malformed. */
function parseName(text: string): ParsedName | undefined {
  if (text.length < 2 || text.charCodeAt(0) !== 0x24 /* $ */) return undefined;
  let body: string;
  let indexAllowed = false;
  if (text.charCodeAt(1) === 0x28 /* ( */) {
    if (text.charCodeAt(text.length - 1) !== 0x29) return undefined;
    body = text.slice(2, -1);
    indexAllowed = true;
  } else {
    body = text.slice(1);
  }
  const n = body.length;
  let i = 0;
  while (i < n && isNameChar(body.charCodeAt(i))) i++;
  if (i === 0) return undefined;
  const cls = body.slice(0, i);
  let sub: string | undefined;
  if (i < n && body.charCodeAt(i) === 0x28) {
    // Sub-names may hold a PV themselves ($T_req($hdr(From))): match parentheses.
    let depth = 0;
    let j = i;
    for (; j < n; j++) {
      const c = body.charCodeAt(j);
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) break;
    }
    if (j >= n) return undefined;
    sub = body.slice(i + 1, j);
    i = j + 1;
  }
  let index: PvIndex | undefined;
  if (i < n && body.charCodeAt(i) === 0x5b /* [ */) {
    const close = body.indexOf(']', i);
    if (!indexAllowed || close < 0) return undefined;
    const t = body.slice(i + 1, close);
    if (t === '*') index = 'all';
    else {
      const v = t === '' ? Number.NaN : Number(t);
      if (!Number.isInteger(v)) return undefined;
      index = v;
    }
    i = close + 1;
  }
  // Anything left (a transformation, stray characters) makes the name invalid.
  return i === n ? { cls, sub, index } : undefined;
}

function resolve(name: string): PvSpec | undefined {
  const p = parseName(name);
  if (p === undefined) return undefined;
  let pv: SimplePv | undefined;
  if (p.sub === undefined) pv = p.index === undefined ? SIMPLE.get(p.cls) : undefined;
  else pv = CLASSES.get(p.cls)?.(p.sub, p.index);
  if (pv === undefined) return undefined;
  return pv.set === undefined ? { name, get: pv.get } : { name, get: pv.get, set: pv.set };
}

// ---------------------------------------------------------------- cache

/**
 * Resolved names, invalid ones included (null) so a script repeating a bad name is not re-parsed.
 * Bounded: a script building names dynamically cannot grow it without limit.
 */
const cache = new Map<string, PvSpec | null>();
const CACHE_MAX = 4096;

/** The resolved PV for a name, undefined when the name is not a supported PV. */
export function pvSpec(name: string): PvSpec | undefined {
  if (typeof name !== 'string') return undefined;
  const hit = cache.get(name);
  if (hit !== undefined) return hit ?? undefined;
  const spec = resolve(name);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(name, spec ?? null);
  return spec;
}

// ---------------------------------------------------------------- access

/** Value of a PV; null for $null and for an invalid name (logged, as Kamailio does). */
export function pvGet(ctx: RouteContext, name: string): PvValue {
  const spec = pvSpec(name);
  if (spec === undefined) {
    ctx.log('err', `invalid pseudo-variable name: ${String(name)}`);
    return null;
  }
  return spec.get(ctx);
}

/** Assign a PV (null = $null). False for an invalid or read-only name, or a refused value. */
export function pvSet(ctx: RouteContext, name: string, value: PvValue): boolean {
  const spec = pvSpec(name);
  if (spec === undefined) {
    ctx.log('err', `invalid pseudo-variable name: ${String(name)}`);
    return false;
  }
  if (spec.set === undefined) {
    ctx.log('err', `pseudo-variable ${name} is read-only`);
    return false;
  }
  return spec.set(ctx, value);
}

/** Names of the PVs without a sub-name, and of the classes (`hdr`, `var` ...), for docs and tests. */
export function supportedPvNames(): { simple: string[]; classes: string[] } {
  return { simple: [...SIMPLE.keys()], classes: [...CLASSES.keys()] };
}
