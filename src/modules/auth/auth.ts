/**
 * KSR.auth and KSR.auth_db: digest challenges and credential checks against the subscriber
 * table (Kamailio auth / auth_db names and return codes).
 */
import type { RouteContext } from '../../proxy/context.ts';
import { isParseError } from '../../sip/errors.ts';
import type { Credentials } from '../../sip/types.ts';
import { isSipUri, unescape as unescapeUri } from '../../sip/uri.ts';
import type { Subscriber } from '../../storage/types.ts';
import { locationService } from '../usrloc/service.ts';
import { type DigestAlgorithm, digestResponse, NonceManager, safeEqualHex } from './digest.ts';

/** Kamailio auth_cfg_result_t. */
export const AUTH_OK = 1;
export const AUTH_ERROR = -1;
export const AUTH_INVALID_PASSWORD = -2;
export const AUTH_USER_UNKNOWN = -3;
export const AUTH_STALE_NONCE = -4;
export const AUTH_NO_CREDENTIALS = -5;
export const AUTH_NONCE_REUSED = -6;
export const AUTH_USER_MISMATCH = -8;

export interface AuthState {
  nonces: NonceManager;
  algorithms: readonly DigestAlgorithm[];
  stats: { challenges: number; successes: number; failures: number; stale: number; replays: number };
}

export const authState: AuthState = {
  nonces: new NonceManager(30),
  algorithms: ['MD5'],
  stats: { challenges: 0, successes: 0, failures: 0, stale: 0, replays: 0 },
};

export function configureAuth(
  p: { nonce_expire?: number; algorithms?: readonly DigestAlgorithm[]; secret?: string } = {},
): void {
  authState.nonces = new NonceManager(p.nonce_expire ?? 30, p.secret);
  authState.algorithms = p.algorithms !== undefined && p.algorithms.length > 0 ? p.algorithms : ['MD5'];
}

/** Per request: the last check said the nonce was stale (the next challenge carries stale=true). */
const staleOf = new WeakSet<object>();

function isRegister(ctx: RouteContext): boolean {
  return ctx.request.method === 'REGISTER';
}

function credentialsOf(ctx: RouteContext, www: boolean): Credentials[] {
  const c = www ? ctx.msg.authorization() : ctx.msg.proxyAuthorization();
  return isParseError(c) ? [] : c.filter((x) => x.scheme.toLowerCase() === 'digest');
}

function realmOr(ctx: RouteContext, realm: string | undefined): string {
  if (realm !== undefined && realm !== '') return realm;
  const na = isRegister(ctx) ? ctx.msg.to() : ctx.msg.from();
  if (isParseError(na) || !isSipUri(na.uri)) return '';
  return na.uri.host.toLowerCase();
}

function quote(s: string): string {
  if (!s.includes('"') && !s.includes('\\')) return `"${s}"`;
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/** nc: exactly 8 hex digits (RFC 2617 §3.2.2), checked without a regex (hot path). */
function isNc(nc: string): boolean {
  if (nc.length !== 8) return false;
  for (let i = 0; i < 8; i++) {
    const c = nc.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return true;
}

/** The challenge header values, preferred algorithm first. */
export function challengeValues(realm: string, stale: boolean, qop = true): string[] {
  const nonce = authState.nonces.issue();
  return authState.algorithms.map((alg) => {
    let v = `Digest realm=${quote(realm)}, nonce=${quote(nonce)}`;
    if (qop) v += ', qop="auth"';
    v += `, algorithm=${alg}`;
    if (stale) v += ', stale=true';
    return v;
  });
}

async function sendChallenge(ctx: RouteContext, realm: string | undefined, www: boolean): Promise<number> {
  const r = realmOr(ctx, realm);
  const stale = staleOf.has(ctx.request);
  const name = www ? 'WWW-Authenticate' : 'Proxy-Authenticate';
  const mark = ctx.replyHeaders.length;
  for (const v of challengeValues(r, stale)) ctx.replyHeaders.push(`${name}: ${v}`);
  authState.stats.challenges++;
  try {
    const rc = await ctx.reply(www ? 401 : 407, www ? 'Unauthorized' : 'Proxy Authentication Required');
    return rc > 0 ? 1 : -1;
  } finally {
    ctx.replyHeaders.splice(mark);
  }
}

/** KSR.auth.auth_challenge(realm, flags): 401 for REGISTER, 407 otherwise. */
export function authChallenge(ctx: RouteContext, realm?: string, _flags?: number): Promise<number> {
  return sendChallenge(ctx, realm, isRegister(ctx));
}

export function wwwChallenge(ctx: RouteContext, realm?: string, _flags?: number): Promise<number> {
  return sendChallenge(ctx, realm, true);
}

export function proxyChallenge(ctx: RouteContext, realm?: string, _flags?: number): Promise<number> {
  return sendChallenge(ctx, realm, false);
}

/** KSR.auth.has_credentials(realm): 1 when the request carries Digest credentials for `realm`. */
export function hasCredentials(ctx: RouteContext, realm?: string): number {
  const r = realm ?? '';
  const all = [...credentialsOf(ctx, true), ...credentialsOf(ctx, false)];
  return all.some((c) => r === '' || c.params.get('realm') === r) ? 1 : -1;
}

/** KSR.auth.consume_credentials(): remove the credentials header the check used. */
export function consumeCredentials(ctx: RouteContext): number {
  const name = isRegister(ctx) ? 'Authorization' : 'Proxy-Authorization';
  return ctx.msg.removeHeaders(name) > 0 ? 1 : -1;
}

function algorithmOf(c: Credentials): DigestAlgorithm | undefined {
  const a = (c.params.get('algorithm') ?? 'MD5').toUpperCase();
  if (a === 'MD5') return 'MD5';
  if (a === 'SHA-256') return 'SHA-256';
  return undefined;
}

function userOf(ctx: RouteContext, to: boolean): string | undefined {
  const na = to ? ctx.msg.to() : ctx.msg.from();
  if (isParseError(na) || !isSipUri(na.uri) || na.uri.user === undefined) return undefined;
  return unescapeUri(na.uri.user);
}

/** Subscriber for a username in a realm (the domain column); `user@domain` usernames too. */
async function findSubscriber(username: string, realm: string): Promise<Subscriber | undefined> {
  const subs = locationService().storage.subscribers;
  const direct = await subs.get(username, realm);
  if (direct !== undefined) return direct;
  const at = username.lastIndexOf('@');
  if (at > 0) return subs.get(username.slice(0, at), username.slice(at + 1));
  return undefined;
}

/**
 * The check behind auth_check / www_authenticate / proxy_authenticate. flags & 1: the
 * authentication username must match the To (REGISTER) or From user (Kamailio auth_check flag 1).
 */
export async function checkCredentials(
  ctx: RouteContext,
  realm: string | undefined,
  www: boolean,
  flags = 0,
): Promise<number> {
  const r = realmOr(ctx, realm);
  const creds = credentialsOf(ctx, www).filter((c) => c.params.get('realm') === r);
  if (creds.length === 0) return AUTH_NO_CREDENTIALS;
  const c = creds.find((x) => algorithmOf(x) !== undefined) ?? creds[0];
  const alg = algorithmOf(c);
  const username = c.params.get('username');
  const nonce = c.params.get('nonce');
  const uri = c.params.get('uri');
  const response = c.params.get('response');
  const qop = c.params.get('qop');
  const nc = c.params.get('nc');
  const cnonce = c.params.get('cnonce');
  const st = authState.stats;
  if (
    alg === undefined ||
    username === undefined ||
    nonce === undefined ||
    uri === undefined ||
    response === undefined
  ) {
    st.failures++;
    return AUTH_ERROR;
  }
  if (
    qop !== undefined &&
    (qop.toLowerCase() !== 'auth' || nc === undefined || cnonce === undefined || !isNc(nc))
  ) {
    st.failures++;
    return AUTH_ERROR;
  }
  const n = authState.nonces.check(nonce);
  if (n === 'invalid') {
    st.failures++;
    return AUTH_ERROR;
  }
  if (n === 'stale') {
    staleOf.add(ctx.request);
    st.stale++;
    return AUTH_STALE_NONCE;
  }
  let sub: Subscriber | undefined;
  try {
    sub = await findSubscriber(username, r);
  } catch (e) {
    locationService().stats.storage_errors++;
    ctx.log('err', `auth: subscriber storage error: ${(e as Error).message}`);
    return AUTH_ERROR;
  }
  if (sub === undefined) {
    st.failures++;
    return AUTH_USER_UNKNOWN;
  }
  const h1 = alg === 'MD5' ? (username.includes('@') ? sub.ha1b : sub.ha1) : sub.ha1Sha256;
  if (h1 === '') {
    st.failures++;
    return AUTH_INVALID_PASSWORD;
  }
  const expected = digestResponse({
    algorithm: alg,
    ha1: h1,
    nonce,
    method: ctx.request.method,
    uri,
    qop: qop === undefined ? undefined : 'auth',
    nc,
    cnonce,
  });
  if (!safeEqualHex(expected, response)) {
    st.failures++;
    return AUTH_INVALID_PASSWORD;
  }
  if (!authState.nonces.use(nonce, qop === undefined ? undefined : nc)) {
    st.replays++;
    return AUTH_NONCE_REUSED;
  }
  if ((flags & 1) !== 0) {
    const u = userOf(ctx, isRegister(ctx));
    const authUser = username.includes('@') ? username.slice(0, username.lastIndexOf('@')) : username;
    if (u !== authUser) {
      st.failures++;
      return AUTH_USER_MISMATCH;
    }
  }
  st.successes++;
  return AUTH_OK;
}

/** KSR.auth_db.auth_check(realm, table, flags): Authorization for REGISTER, Proxy-Authorization otherwise. */
export function authCheck(
  ctx: RouteContext,
  realm?: string,
  _table?: string,
  flags?: number,
): Promise<number> {
  return checkCredentials(ctx, realm, isRegister(ctx), Number(flags ?? 0) | 0);
}

export function wwwAuthenticate(ctx: RouteContext, realm?: string, _table?: string): Promise<number> {
  return checkCredentials(ctx, realm, true);
}

export function proxyAuthenticate(ctx: RouteContext, realm?: string, _table?: string): Promise<number> {
  return checkCredentials(ctx, realm, false);
}

/** Cached subscriber count (refreshed at most once a second) for "authenticate when subscribers exist". */
let countCache: { n: number; at: number; storage: object } | undefined;

export async function subscriberCount(): Promise<number> {
  const storage = locationService().storage;
  const now = Date.now();
  if (countCache !== undefined && countCache.storage === storage && now - countCache.at < 1000)
    return countCache.n;
  const n = await storage.subscribers.count();
  countCache = { n, at: now, storage };
  return n;
}

export function invalidateSubscriberCount(): void {
  countCache = undefined;
}
