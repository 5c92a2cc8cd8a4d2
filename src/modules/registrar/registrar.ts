/**
 * KSR.registrar.save / lookup with Kamailio's semantics (RFC 3261 §10.3, RFC 3327 Path,
 * RFC 5626 instance/reg-id). Bindings live in the location service's storage (../usrloc).
 */

import type { BranchTarget, RouteContext } from '../../proxy/context.ts';
import { isParseError } from '../../sip/errors.ts';
import type { Contact, Uri } from '../../sip/types.ts';
import { isSipUri, parseUri, unescape as unescapeUri } from '../../sip/uri.ts';
import type { Binding } from '../../storage/types.ts';
import { nathelperParams } from '../nathelper/params.ts';
import { Interner, stringInterner } from '../shared/intern.ts';
import { setRequestUri } from '../shared/ruri.ts';
import { type LocationService, locationService } from '../usrloc/service.ts';
import { type RegistrarParams, registrarParams } from './params.ts';

/** save() flags (Kamailio registrar). */
/** 0x01: keep the bindings in the memory cache only (no database write). */
export const REG_SAVE_MEMORY_FL = 0x01;
/** 0x02: do not reply (the script does, or calls reg_send_reply()). */
export const REG_SAVE_NORPL_FL = 0x02;
/** 0x04: one contact per AOR: the REGISTER's contact replaces every other binding. */
export const REG_SAVE_REPL_FL = 0x04;
/** 0x08: do not apply expires_range / default_expires_range. */
export const REG_SAVE_NOVARIATION_FL = 0x08;
/** 0x10: with 0x02, prepare the reply's Contact list for reg_send_reply(). */
export const REG_SAVE_PREPRPL_FL = 0x10;

/** save() results (Kamailio): 1 inserted, 2 updated, 3 deleted, 4 returned (query). */
export const SAVE_INSERTED = 1;
export const SAVE_UPDATED = 2;
export const SAVE_DELETED = 3;
export const SAVE_QUERY = 4;

/** lookup() results (Kamailio): 1 found, -1 not found, -2 method not allowed, -3 internal error. */
export const LOOKUP_OK = 1;
export const LOOKUP_NOT_FOUND = -1;
export const LOOKUP_METHOD = -2;
export const LOOKUP_ERROR = -3;

/** The AOR key of a URI: its unescaped user part, `@host` added with use_domain. */
export function aorOf(uri: Uri, useDomain: boolean): string | undefined {
  if (!isSipUri(uri)) {
    if (uri.scheme === 'tel' && 'number' in uri) return uri.number;
    return undefined;
  }
  if (uri.user === undefined || uri.user === '') return undefined;
  const user = unescapeUri(uri.user);
  return useDomain ? `${user}@${uri.host.toLowerCase()}` : user;
}

export function aorOfText(uri: string, useDomain: boolean): string | undefined {
  const u = parseUri(uri.startsWith('<') ? uri.slice(1, -1) : uri);
  return isParseError(u) ? undefined : aorOf(u, useDomain);
}

class RegError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly headers: string[];
  constructor(code: number, reason: string, headers: string[] = []) {
    super(reason);
    this.code = code;
    this.reason = reason;
    this.headers = headers;
  }
}

/** Contact URI text with brackets stripped (header params are not part of it). */
function contactKey(c: Contact): string {
  return c.uriText;
}

function sameBinding(
  b: Binding,
  c: Contact,
  instance: string | undefined,
  regId: number | undefined,
): boolean {
  if (instance !== undefined && b.instance !== undefined) return b.instance === instance && b.regId === regId;
  return b.contact === contactKey(c);
}

/**
 * The source address to reach the phone through, when it is needed (Kamailio's received, set by
 * fix_nated_register): the REGISTER came over a connection (TCP/TLS/WS: calls must reuse it), or
 * its top Via's sent-by is not where it came from (NAT). Otherwise the Contact is used as is
 * (which also keeps third-party registrations working).
 */
function receivedOf(ctx: RouteContext): string | undefined {
  // nathelper fix_nated_register stored the source in the received AVP.
  const avp = ctx.avps.get(nathelperParams().received_avp)?.[0];
  if (typeof avp === 'string' && avp !== '') return avp;
  const s = ctx.info.source;
  const via = ctx.msg.topVia;
  const viaHost = via.host.startsWith('[') ? via.host.slice(1, -1) : via.host;
  const natted = s.protocol !== 'udp' || viaHost !== s.address || (via.port ?? 5060) !== s.port;
  if (!natted) return undefined;
  const host = s.address.includes(':') ? `[${s.address}]` : s.address;
  return `sip:${host}:${s.port};transport=${s.protocol}`;
}

/** Shared copies of what many bindings repeat: User-Agent strings and method lists. */
const userAgents = stringInterner();
const methodLists = new Interner<readonly string[]>();

/** The methods of an Allow header (upper case), one shared frozen list per distinct Allow. */
function allowedMethods(allow: readonly string[]): readonly string[] {
  return methodLists.get(allow.join(','), () => Object.freeze(allow.map((m) => m.toUpperCase())));
}

/** A `methods` Contact parameter (RFC 3840: `methods="INVITE,BYE"`) as upper-case names. */
function contactMethods(text: string): readonly string[] {
  return methodLists.get(`;${text}`, () => Object.freeze(methodList(text)));
}

function methodList(text: string): string[] {
  const v = text.length > 1 && text.charCodeAt(0) === 34 ? text.slice(1, -1) : text;
  const out: string[] = [];
  for (const m of v.split(',')) {
    const t = m.trim();
    if (t !== '') out.push(t.toUpperCase());
  }
  return out;
}

/** Lower `expires` by a random 0..range % (Kamailio's randomize_expires), never under `floor`. */
function randomizeExpires(expires: number, range: number, floor: number): number {
  if (range <= 0) return expires;
  const min = expires - Math.floor((expires * range) / 100);
  const v = min + Math.floor(Math.random() * (expires - min + 1));
  return Math.max(v, Math.min(floor, expires));
}

const socketNames = new WeakMap<object, string>();

/** `udp:127.0.0.1:5060`: the listener a REGISTER came in on (one string per listener). */
function socketOf(ctx: RouteContext): string {
  const l = ctx.info.listener;
  let name = socketNames.get(l);
  if (name === undefined) {
    const host = l.address.includes(':') ? `[${l.address}]` : l.address;
    name = `${l.protocol}:${host}:${l.port}`;
    socketNames.set(l, name);
  }
  return name;
}

/** The Contact header value the 200 OK lists for a binding. */
export function contactLine(b: Binding, now: number): string {
  let v = `<${b.contact}>;expires=${Math.max(0, Math.round((b.expires - now) / 1000))}`;
  if (b.q !== 1) v += `;q=${formatQ(b.q)}`;
  if (b.instance !== undefined) v += `;+sip.instance="${b.instance.replace(/"/g, '')}"`;
  if (b.regId !== undefined) v += `;reg-id=${b.regId}`;
  return v;
}

function formatQ(q: number): string {
  return String(Math.round(q * 1000) / 1000);
}

/** Order for lookup and the 200 OK: q descending, then the most recently written first. */
export function byPreference(a: Binding, b: Binding): number {
  return b.q - a.q || b.lastModified - a.lastModified;
}

interface Plan {
  put: Binding[];
  remove: string[];
  result: number;
}

function plan(
  ctx: RouteContext,
  aor: string,
  existing: Binding[],
  contacts: readonly Contact[] | 'star',
  hdrExpires: number | undefined,
  p: RegistrarParams,
  flags: number,
  now: number,
): Plan {
  const msg = ctx.msg;
  const callId = msg.callId;
  const cseq = msg.cseq;
  const put: Binding[] = [];
  const remove: string[] = [];
  if (contacts === 'star') {
    for (const b of existing) {
      if (b.callId === callId && cseq <= b.cseq) {
        if (cseq < b.cseq) throw new RegError(500, 'Out of order request');
        continue;
      }
      remove.push(b.contact);
    }
    return { put, remove, result: SAVE_DELETED };
  }
  const rawUa = msg.userAgent;
  const ua = rawUa === undefined ? undefined : userAgents(rawUa);
  const path = pathOf(ctx);
  const received = receivedOf(ctx);
  const socket = socketOf(ctx);
  const allow = msg.allow();
  if (isParseError(allow)) throw new RegError(400, 'Bad Allow header');
  const allowed = allow === undefined ? undefined : allowedMethods(allow);
  const vary = (flags & REG_SAVE_NOVARIATION_FL) === 0;
  let inserted = 0;
  let updated = 0;
  let deleted = 0;
  for (const c of contacts) {
    const asked = c.expires ?? hdrExpires;
    let expires = asked ?? p.default_expires;
    if (expires > 0 && p.min_expires > 0 && expires < p.min_expires) {
      throw new RegError(423, 'Interval Too Brief', [`Min-Expires: ${p.min_expires}`]);
    }
    if (p.max_expires > 0 && expires > p.max_expires) expires = p.max_expires;
    if (vary && expires > 0)
      expires = randomizeExpires(
        expires,
        asked === undefined ? p.default_expires_range : p.expires_range,
        p.min_expires,
      );
    const rawInstance = c.params.get('+sip.instance');
    const instance = rawInstance === undefined || rawInstance === '' ? undefined : rawInstance;
    const regIdText = c.params.get('reg-id');
    const regId = regIdText === undefined || !/^\d+$/.test(regIdText) ? undefined : Number(regIdText);
    const match = existing.find((b) => sameBinding(b, c, instance, regId));
    if (match !== undefined && match.callId === callId) {
      if (cseq < match.cseq) throw new RegError(500, 'Out of order request');
      if (cseq === match.cseq) continue; // a retransmission: the binding is already what it asks for
    }
    if (expires === 0) {
      if (match !== undefined) {
        remove.push(match.contact);
        deleted++;
      }
      continue;
    }
    if (match !== undefined && match.contact !== contactKey(c)) remove.push(match.contact);
    const methodsParam = c.params.get('methods');
    const methods =
      methodsParam !== undefined && methodsParam !== '' ? contactMethods(methodsParam) : allowed;
    // Optional fields only when set: a binding reads back from every backend exactly as written.
    const b: { -readonly [K in keyof Binding]: Binding[K] } = {
      aor,
      contact: contactKey(c),
      expires: now + expires * 1000,
      q: c.q ?? 1,
      callId,
      cseq,
      path,
      socket,
      flags: ctx.bflags,
      lastModified: now,
    };
    if (received !== undefined) b.received = received;
    if (ua !== undefined) b.userAgent = ua;
    if (instance !== undefined) b.instance = instance;
    if (regId !== undefined) b.regId = regId;
    if (methods !== undefined) b.methods = methods;
    put.push(b);
    if (match === undefined) inserted++;
    else updated++;
  }
  if ((flags & REG_SAVE_REPL_FL) !== 0 && put.length > 0) {
    // One contact per AOR: the last one of this REGISTER replaces every other.
    const last = put[put.length - 1];
    for (const b of existing)
      if (b.contact !== last.contact && !remove.includes(b.contact)) remove.push(b.contact);
    put.splice(0, put.length - 1);
  }
  if (p.max_contacts > 0 && inserted > 0 && boundAfter(existing, put, remove) > p.max_contacts) {
    throw new RegError(503, 'Too Many Registered Contacts');
  }
  const result =
    inserted > 0 ? SAVE_INSERTED : updated > 0 ? SAVE_UPDATED : deleted > 0 ? SAVE_DELETED : SAVE_UPDATED;
  return { put, remove, result };
}

/** How many bindings the AOR has once `put` and `remove` are applied to `existing`. */
function boundAfter(
  existing: readonly Binding[],
  put: readonly Binding[],
  remove: readonly string[],
): number {
  let n = put.length;
  for (const b of existing) if (!remove.includes(b.contact) && !put.some((x) => x.contact === b.contact)) n++;
  return n;
}

const NO_PATH: readonly string[] = Object.freeze([]);

function pathOf(ctx: RouteContext): readonly string[] {
  const paths = ctx.msg.paths();
  if (isParseError(paths)) throw new RegError(400, 'Bad Path header');
  return paths.length === 0 ? NO_PATH : paths.map((na) => `<${na.uriText}>`);
}

function sendReply(
  ctx: RouteContext,
  code: number,
  reason: string,
  headers: string[],
): Promise<number> | number {
  const mark = ctx.replyHeaders.length;
  ctx.replyHeaders.push(...headers);
  try {
    return ctx.reply(code, reason);
  } finally {
    ctx.replyHeaders.splice(mark);
  }
}

/** A reply save() did not send (flag 0x02), for reg_send_reply(). */
interface HeldReply {
  code: number;
  reason: string;
  headers: string[];
}
const heldReplies = new WeakMap<object, HeldReply>();

/**
 * KSR.registrar.save(table[, flags[, uri]]): process the REGISTER and reply (200 with the bindings,
 * or 400 / 423 / 500 / 503 and -1). Flags (Kamailio): 0x01 memory cache only, 0x02 no reply (the
 * script replies, or calls reg_send_reply()), 0x04 one contact per AOR, 0x08 no expires_range,
 * 0x10 with 0x02: the 200 for reg_send_reply() lists the bindings.
 */
export async function save(
  ctx: RouteContext,
  _table?: string,
  flags?: number,
  uri?: string,
): Promise<number> {
  const svc = locationService();
  const p = registrarParams();
  const fl = Number(flags ?? 0) | 0;
  const noReply = (fl & REG_SAVE_NORPL_FL) !== 0;
  const reply = (code: number, reason: string, headers: string[]): Promise<number> | number => {
    if (!noReply) return sendReply(ctx, code, reason, headers);
    heldReplies.set(ctx.request, { code, reason, headers });
    return 1;
  };
  const fail = async (e: RegError): Promise<number> => {
    svc.stats.rejected_regs++;
    await reply(e.code, e.reason, e.headers);
    return -1;
  };
  const msg = ctx.msg;
  if (!msg.isRequest || msg.method !== 'REGISTER') {
    ctx.log('err', 'registrar.save: not a REGISTER request');
    return -1;
  }
  let aor: string | undefined;
  if (uri !== undefined && uri !== '') aor = aorOfText(uri, p.use_domain === 1);
  else {
    const to = msg.to();
    if (isParseError(to)) return fail(new RegError(400, 'Bad To header'));
    aor = aorOf(to.uri, p.use_domain === 1);
  }
  if (aor === undefined) return fail(new RegError(400, 'Bad To URI: no user part'));
  const contacts = msg.contacts();
  if (isParseError(contacts)) return fail(new RegError(400, 'Bad Contact header'));
  const hdrExpires = msg.expires();
  if (isParseError(hdrExpires)) return fail(new RegError(400, 'Bad Expires header'));
  if (contacts?.star === true && (hdrExpires !== 0 || msg.getHeaders('Contact').length > 1)) {
    return fail(new RegError(400, 'Invalid Contact: * needs Expires: 0 and no other contact'));
  }
  const key = aor;
  const memoryOnly = (fl & REG_SAVE_MEMORY_FL) !== 0;
  let outcome: { result: number; bindings: Binding[]; now: number };
  try {
    outcome = await svc.withAor(key, async () => {
      const now = Date.now();
      const existing = await svc.storage.location.get(key, now);
      if (contacts === undefined) return { result: SAVE_QUERY, bindings: existing, now };
      const pl = plan(ctx, key, existing, contacts.star ? 'star' : contacts.contacts, hdrExpires, p, fl, now);
      if (pl.put.length > 0 || pl.remove.length > 0)
        await svc.storage.location.update(
          key,
          memoryOnly ? { put: pl.put, remove: pl.remove, memoryOnly } : { put: pl.put, remove: pl.remove },
        );
      svc.stats.registered_contacts += pl.put.length;
      svc.stats.unregistered_contacts += pl.remove.length;
      return { result: pl.result, bindings: afterUpdate(existing, pl), now };
    });
  } catch (e) {
    if (e instanceof RegError) return fail(e);
    svc.stats.storage_errors++;
    ctx.log('err', `registrar.save: storage error for ${key}: ${(e as Error).message}`);
    return fail(new RegError(500, 'Server Internal Error - location storage unavailable'));
  }
  svc.stats.accepted_regs++;
  const headers: string[] = [];
  if (!noReply || (fl & REG_SAVE_PREPRPL_FL) !== 0) {
    const bindings = outcome.bindings;
    if (bindings.length > 1) bindings.sort(byPreference);
    for (const b of bindings) headers.push(`Contact: ${contactLine(b, outcome.now)}`);
    const path = msg.getHeaders('Path');
    for (const v of path) headers.push(`Path: ${v}`);
  }
  await reply(200, 'OK', headers);
  return outcome.result;
}

/** The AOR's bindings once `pl` is applied to `existing`. */
function afterUpdate(existing: Binding[], pl: Plan): Binding[] {
  if (pl.remove.length === 0 && existing.length === 0) return pl.put;
  const after = new Map<string, Binding>();
  for (const b of existing) if (!pl.remove.includes(b.contact)) after.set(b.contact, b);
  for (const b of pl.put) after.set(b.contact, b);
  return [...after.values()];
}

/**
 * KSR.registrar.reg_send_reply(): send the reply save(…, 0x02) held back (the 200, or its error).
 * -1 when no save() of this request held one.
 */
export async function regSendReply(ctx: RouteContext): Promise<number> {
  const held = heldReplies.get(ctx.request);
  if (held === undefined) return -1;
  heldReplies.delete(ctx.request);
  const rc = await sendReply(ctx, held.code, held.reason, held.headers);
  return rc < 0 ? -1 : 1;
}

/** Remaining (lower-q) contact groups of a lookup, tried by next_contacts() in failure routes. */
const serialGroups = new WeakMap<object, Binding[][]>();

function targetOf(b: Binding): BranchTarget {
  const t: BranchTarget = { uri: b.contact, q: b.q, flags: b.flags };
  if (b.path.length > 0) t.path = [...b.path];
  else if (b.received !== undefined) t.dstUri = b.received;
  return t;
}

/** Use a group of equal-q bindings: the first becomes the R-URI ($du, route set), the rest branches. */
function applyGroup(ctx: RouteContext, group: Binding[]): boolean {
  const [best, ...rest] = group;
  if (!setRequestUri(ctx, best.contact)) return false;
  const t = targetOf(best);
  ctx.dstUri = t.dstUri;
  ctx.ruriPath = t.path;
  for (const b of rest) ctx.branches.push(targetOf(b));
  ctx.bflags = best.flags;
  return true;
}

/** The bindings whose contact accepts `method` (no methods stored = every method). */
function acceptingMethod(bindings: Binding[], method: string): Binding[] {
  const m = method.toUpperCase();
  return bindings.filter((b) => b.methods === undefined || b.methods.includes(m));
}

/** Group bindings by q (descending): equal q forks in parallel, lower q waits (serial forking). */
export function groupByQ(bindings: Binding[]): Binding[][] {
  const sorted = [...bindings].sort(byPreference);
  const groups: Binding[][] = [];
  for (const b of sorted) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[0].q === b.q) last.push(b);
    else groups.push([b]);
  }
  return groups;
}

/**
 * KSR.registrar.lookup(table[, uri]): R-URI (or `uri`) → its bindings. The best q group becomes
 * the R-URI and parallel branches; lower q groups are kept for next_contacts() (serial forking).
 */
export async function lookup(
  ctx: RouteContext,
  _table?: string,
  uri?: string,
  svc: LocationService = locationService(),
): Promise<number> {
  const p = registrarParams();
  const target = uri !== undefined && uri !== '' ? uri : ctx.msg.ruri;
  const aor = aorOfText(target, p.use_domain === 1);
  if (aor === undefined) return LOOKUP_NOT_FOUND;
  let bindings: Binding[];
  try {
    bindings = await svc.storage.location.get(aor);
  } catch (e) {
    svc.stats.storage_errors++;
    ctx.log('err', `registrar.lookup: storage error for ${aor}: ${(e as Error).message}`);
    return LOOKUP_ERROR;
  }
  if (bindings.length === 0) return LOOKUP_NOT_FOUND;
  if (p.method_filtering === 1 && ctx.msg.toTag === undefined) {
    bindings = acceptingMethod(bindings, ctx.msg.method);
    if (bindings.length === 0) return LOOKUP_METHOD;
  }
  const groups = groupByQ(bindings);
  if (!applyGroup(ctx, groups[0])) return LOOKUP_ERROR;
  serialGroups.set(ctx.request, groups.slice(1));
  return LOOKUP_OK;
}

/**
 * KSR.registrar.next_contacts(): in a failure route, load the next lower-q group of the last
 * lookup (Kamailio's t_next_contacts after t_load_contacts). 1 when loaded, -1 when none is left.
 */
export function nextContacts(ctx: RouteContext): number {
  const groups = serialGroups.get(ctx.request);
  const next = groups?.shift();
  if (next === undefined) return -1;
  return applyGroup(ctx, next) ? 1 : -1;
}

/** KSR.registrar.registered(table[, uri]): 1 when the AOR has a binding. */
export async function registered(ctx: RouteContext, _table?: string, uri?: string): Promise<number> {
  const p = registrarParams();
  const aor = aorOfText(uri !== undefined && uri !== '' ? uri : ctx.msg.ruri, p.use_domain === 1);
  if (aor === undefined) return -1;
  try {
    return (await locationService().storage.location.get(aor)).length > 0 ? 1 : -1;
  } catch {
    return -1;
  }
}

/** KSR.registrar.unregister(table, uri[, ruid]): remove every binding of the AOR in `uri`. */
export async function unregister(ctx: RouteContext, _table: string, uri: string): Promise<number> {
  const p = registrarParams();
  const aor = aorOfText(uri, p.use_domain === 1);
  if (aor === undefined) return -1;
  const svc = locationService();
  try {
    const n = await svc.withAor(aor, () => svc.storage.location.removeAor(aor));
    svc.stats.unregistered_contacts += n;
    return n > 0 ? 1 : -1;
  } catch (e) {
    svc.stats.storage_errors++;
    ctx.log('err', `registrar.unregister: storage error: ${(e as Error).message}`);
    return -1;
  }
}
