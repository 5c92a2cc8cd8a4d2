/**
 * KSR.auth_db: credential checks against the subscriber table, and the subscriber management
 * commands (subscriber_add / subscriber_rm / subscriber_list). See README.md.
 */
import { type MiCommand, MiError } from '../../mi/command.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import { isParseError } from '../../sip/errors.ts';
import { isSipUri, parseUri, unescape as unescapeUri } from '../../sip/uri.ts';
import type { Subscriber } from '../../storage/types.ts';
import {
  authCheck,
  invalidateSubscriberCount,
  proxyAuthenticate,
  subscriberCount,
  wwwAuthenticate,
} from '../auth/auth.ts';
import { def, REQUEST_FAILURE } from '../shared/define.ts';
import { locationService } from '../usrloc/service.ts';
import { checkNames, subscriberFromPassword, subscriberView } from './subscribers.ts';

const HEX32 = /^[0-9a-f]{32}$/i;
const HEX64 = /^[0-9a-f]{64}$/i;

async function storage<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof MiError) throw e;
    throw new MiError(500, `subscriber storage error: ${(e as Error).message}`);
  }
}

const subscriberAdd: MiCommand = {
  name: 'subscriber_add',
  aliases: ['subscriber.add'],
  help: 'Add or replace a subscriber: username, domain, password (only its HA1 hashes are stored) — or ha1 [, ha1b, ha1_sha256].',
  mutating: true,
  recipes: [
    [
      { name: 'username', type: 'string' },
      { name: 'domain', type: 'string' },
      { name: 'password', type: 'string' },
    ],
    [
      { name: 'username', type: 'string' },
      { name: 'domain', type: 'string' },
      { name: 'ha1', type: 'string' },
      { name: 'ha1b', type: 'string', optional: true },
      { name: 'ha1_sha256', type: 'string', optional: true },
    ],
  ],
  async handler(params) {
    const username = String(params.username ?? '');
    const domain = String(params.domain ?? '').toLowerCase();
    const bad = checkNames(username, domain);
    if (bad !== undefined) throw new MiError(400, bad);
    let sub: Subscriber;
    if (typeof params.password === 'string') {
      if (params.password === '') throw new MiError(400, 'empty password');
      sub = subscriberFromPassword(username, domain, params.password);
    } else {
      const h = String(params.ha1 ?? '');
      if (!HEX32.test(h)) throw new MiError(400, 'ha1 must be 32 hex digits (MD5)');
      const hb = params.ha1b === undefined ? '' : String(params.ha1b);
      const hs = params.ha1_sha256 === undefined ? '' : String(params.ha1_sha256);
      if (hb !== '' && !HEX32.test(hb)) throw new MiError(400, 'ha1b must be 32 hex digits');
      if (hs !== '' && !HEX64.test(hs)) throw new MiError(400, 'ha1_sha256 must be 64 hex digits');
      sub = { username, domain, ha1: h.toLowerCase(), ha1b: hb.toLowerCase(), ha1Sha256: hs.toLowerCase() };
    }
    await storage(() => locationService().storage.subscribers.put(sub));
    invalidateSubscriberCount();
    return null;
  },
};

const subscriberRm: MiCommand = {
  name: 'subscriber_rm',
  aliases: ['subscriber.rm'],
  help: 'Remove a subscriber: username, domain.',
  mutating: true,
  recipes: [
    [
      { name: 'username', type: 'string' },
      { name: 'domain', type: 'string' },
    ],
  ],
  async handler(params) {
    const ok = await storage(() =>
      locationService().storage.subscribers.remove(
        String(params.username ?? ''),
        String(params.domain ?? ''),
      ),
    );
    invalidateSubscriberCount();
    if (!ok) throw new MiError(404, 'subscriber not found');
    return null;
  },
};

const subscriberList: MiCommand = {
  name: 'subscriber_list',
  aliases: ['subscriber.list'],
  help: 'Every subscriber (username, domain; never a password).',
  recipes: [[]],
  async handler() {
    const list = await storage(() => locationService().storage.subscribers.list());
    return { Subscribers: list.map(subscriberView) };
  },
};

/** KSR.auth_db.is_subscriber(uri, table, flags): 1 when the URI's user@host is a subscriber. */
async function isSubscriber(_ctx: unknown, uri: string, _table?: string, _flags?: number): Promise<number> {
  const u = parseUri(String(uri ?? '').replace(/^<(.*)>$/, '$1'));
  if (isParseError(u) || !isSipUri(u) || u.user === undefined) return -1;
  try {
    const s = await locationService().storage.subscribers.get(unescapeUri(u.user), u.host.toLowerCase());
    return s === undefined ? -1 : 1;
  } catch {
    return -1;
  }
}

const CHECK = '(realm: string, table: string, flags?: number) => Promise<number>';

const authDb = {
  name: 'auth_db',
  summary: 'Digest credential checks against the subscriber table',
  functions: {
    auth_check: def(
      CHECK,
      authCheck,
      REQUEST_FAILURE,
      'Check Authorization (REGISTER) / Proxy-Authorization: 1 ok; -1 error, -2 bad password, -3 unknown user, -4 stale nonce, -5 no credentials, -6 nonce reused, -8 user mismatch (flags & 1).',
    ),
    www_authenticate: def(
      '(realm: string, table: string) => Promise<number>',
      wwwAuthenticate,
      REQUEST_FAILURE,
      'Check the Authorization header (same codes as auth_check).',
    ),
    proxy_authenticate: def(
      '(realm: string, table: string) => Promise<number>',
      proxyAuthenticate,
      REQUEST_FAILURE,
      'Check the Proxy-Authorization header (same codes as auth_check).',
    ),
    is_subscriber: def(
      '(uri: string, table: string, flags?: number) => Promise<number>',
      isSubscriber,
      undefined,
      '1 when user@host of `uri` is in the subscriber table.',
    ),
    subscriber_count: def(
      '(table?: string) => Promise<number>',
      () => subscriberCount(),
      undefined,
      'How many subscribers exist (cached for a second): the default script authenticates only when > 0.',
    ),
  },
  commands: [subscriberAdd, subscriberRm, subscriberList],
} satisfies ModuleDefinition;

export default authDb;
