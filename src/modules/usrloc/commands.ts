/**
 * usrloc management commands (OpenSIPS names, Kamailio dotted aliases). The AOR key is the user
 * part alone unless modules.registrar.use_domain is 1 (DESIGN.md).
 */
import { type MiCommand, MiError, type MiParam } from '../../mi/command.ts';
import { isParseError } from '../../sip/errors.ts';
import { parseUri } from '../../sip/uri.ts';
import type { Binding } from '../../storage/types.ts';
import { byPreference } from '../registrar/registrar.ts';
import { locationService } from './service.ts';

const TABLE: MiParam = { name: 'table_name', type: 'string', doc: 'Location table (always "location").' };
const AOR: MiParam = {
  name: 'aor',
  type: 'string',
  doc: 'AOR key: `alice`, or `alice@domain` with use_domain.',
};

function contactView(b: Binding, now: number): Record<string, unknown> {
  const v: Record<string, unknown> = {
    Contact: b.contact,
    Expires: Math.max(0, Math.round((b.expires - now) / 1000)),
    Q: b.q,
    Callid: b.callId,
    Cseq: b.cseq,
    Flags: b.flags,
    'Last-Modified': Math.floor(b.lastModified / 1000),
  };
  if (b.userAgent !== undefined) v['User-agent'] = b.userAgent;
  if (b.received !== undefined) v.Received = b.received;
  if (b.path.length > 0) v.Path = b.path.join(',');
  if (b.socket !== undefined) v.Socket = b.socket;
  if (b.instance !== undefined) v.Instance = b.instance;
  if (b.regId !== undefined) v['Reg-Id'] = b.regId;
  if (b.methods !== undefined) v.Methods = b.methods.join(',');
  return v;
}

function aorParam(params: Readonly<Record<string, unknown>>): string {
  const aor = String(params.aor ?? '').trim();
  if (aor === '') throw new MiError(400, 'missing AOR');
  // Accept a full URI too: sip:alice@host → alice (the registrar's key rules apply).
  if (aor.startsWith('sip:') || aor.startsWith('sips:')) {
    const u = parseUri(aor);
    if (!isParseError(u) && 'user' in u && u.user !== undefined) return u.user;
  }
  return aor;
}

function checkTable(params: Readonly<Record<string, unknown>>): void {
  const t = params.table_name;
  if (t !== undefined && t !== 'location')
    throw new MiError(400, `unknown table ${String(t)} (only "location")`);
}

async function storageCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof MiError) throw e;
    locationService().stats.storage_errors++;
    throw new MiError(500, `location storage error: ${(e as Error).message}`);
  }
}

export const ulDump: MiCommand = {
  name: 'ul_dump',
  aliases: ['ul.dump'],
  help: 'Every AOR and its contacts in the location table.',
  recipes: [[], [{ name: 'brief', type: 'string', optional: true }]],
  async handler() {
    const now = Date.now();
    const all = await storageCall(() => locationService().storage.location.list(now));
    const byAor = new Map<string, Binding[]>();
    for (const b of all) {
      const l = byAor.get(b.aor);
      if (l === undefined) byAor.set(b.aor, [b]);
      else l.push(b);
    }
    // Streamed (MiCommand.handler): each AOR's view is made as the transport writes it, so a
    // dump of 200k bindings never exists whole as views nor as JSON text.
    async function* aors(): AsyncGenerator<{ AOR: string; Contacts: Array<Record<string, unknown>> }> {
      for (const aor of [...byAor.keys()].sort()) {
        yield {
          AOR: aor,
          Contacts: byAor
            .get(aor)!
            .sort(byPreference)
            .map((b) => contactView(b, now)),
        };
      }
    }
    return { Domains: [{ name: 'location', AORs: aors() }] };
  },
};

export const ulShowContact: MiCommand = {
  name: 'ul_show_contact',
  aliases: ['ul.lookup', 'ul.show_contact'],
  help: 'The contacts of one AOR (404 when it has none).',
  recipes: [[TABLE, AOR]],
  async handler(params) {
    checkTable(params);
    const aor = aorParam(params);
    const now = Date.now();
    const list = await storageCall(() => locationService().storage.location.get(aor, now));
    if (list.length === 0) throw new MiError(404, 'AOR not found');
    return { AOR: aor, Contacts: list.sort(byPreference).map((b) => contactView(b, now)) };
  },
};

export const ulAdd: MiCommand = {
  name: 'ul_add',
  aliases: ['ul.add'],
  help: 'Add or replace a contact: table, aor, contact, expires (s), q, [path, flags, cflags, methods].',
  mutating: true,
  recipes: [
    [
      TABLE,
      AOR,
      { name: 'contact', type: 'string' },
      { name: 'expires', type: 'int' },
      { name: 'q', type: 'number' },
      { name: 'path', type: 'string', optional: true },
      { name: 'flags', type: 'int', optional: true },
      { name: 'cflags', type: 'int', optional: true },
      { name: 'methods', type: 'int', optional: true },
    ],
  ],
  async handler(params) {
    checkTable(params);
    const aor = aorParam(params);
    const contact = String(params.contact ?? '').replace(/^<(.*)>$/, '$1');
    if (isParseError(parseUri(contact))) throw new MiError(400, `bad contact URI ${contact}`);
    const expires = Number(params.expires);
    if (!Number.isFinite(expires) || expires < 0) throw new MiError(400, 'bad expires');
    let q = Number(params.q ?? 1);
    if (!Number.isFinite(q)) throw new MiError(400, 'bad q');
    if (q > 1) q = q / 1000; // Kamailio/OpenSIPS scripts pass q as 0..1000 at times
    if (q < 0 || q > 1) throw new MiError(400, 'bad q');
    const path =
      typeof params.path === 'string' && params.path !== '' && params.path !== '0'
        ? params.path.split(',').map((s) => s.trim())
        : [];
    const now = Date.now();
    const svc = locationService();
    // Kamailio: expires 0 means "permanent"; here it is a very long binding (ten years).
    const ttl = expires === 0 ? 10 * 365 * 86400 : expires;
    const b: Binding = {
      aor,
      contact,
      expires: now + ttl * 1000,
      q,
      callId: `mi-${now.toString(36)}`,
      cseq: 1,
      path,
      flags: Number(params.flags ?? 0) | 0,
      lastModified: now,
    };
    await storageCall(() =>
      svc.withAor(aor, () => svc.storage.location.update(aor, { put: [b], remove: [] })),
    );
    svc.stats.registered_contacts++;
    return null;
  },
};

export const ulRm: MiCommand = {
  name: 'ul_rm',
  aliases: ['ul.rm'],
  help: 'Remove an AOR and all its contacts.',
  mutating: true,
  recipes: [[TABLE, AOR]],
  async handler(params) {
    checkTable(params);
    const aor = aorParam(params);
    const svc = locationService();
    const n = await storageCall(() => svc.withAor(aor, () => svc.storage.location.removeAor(aor)));
    if (n === 0) throw new MiError(404, 'AOR not found');
    svc.stats.unregistered_contacts += n;
    return null;
  },
};

export const ulRmContact: MiCommand = {
  name: 'ul_rm_contact',
  aliases: ['ul.rm_contact'],
  help: 'Remove one contact of an AOR.',
  mutating: true,
  recipes: [[TABLE, AOR, { name: 'contact', type: 'string' }]],
  async handler(params) {
    checkTable(params);
    const aor = aorParam(params);
    const contact = String(params.contact ?? '').replace(/^<(.*)>$/, '$1');
    const svc = locationService();
    await storageCall(() =>
      svc.withAor(aor, async () => {
        const list = await svc.storage.location.get(aor, 0);
        if (!list.some((b) => b.contact === contact)) throw new MiError(404, 'Contact not found');
        await svc.storage.location.update(aor, { put: [], remove: [contact] });
      }),
    );
    svc.stats.unregistered_contacts++;
    return null;
  },
};

export const ulFlush: MiCommand = {
  name: 'ul_flush',
  aliases: ['ul.flush'],
  help: 'Remove every binding of the location table.',
  mutating: true,
  recipes: [[]],
  async handler() {
    const n = await storageCall(() => locationService().storage.location.flush());
    return { removed: n };
  },
};

export const ulStats: MiCommand = {
  name: 'ul_stats',
  aliases: ['ul.stats'],
  help: 'usrloc and registrar counters.',
  recipes: [[]],
  async handler() {
    const svc = locationService();
    const all = await storageCall(() => svc.storage.location.list());
    return {
      ...svc.stats,
      registered_users: new Set(all.map((b) => b.aor)).size,
      location_contacts: all.length,
      storage: svc.storage.kind,
    };
  },
};

export const USRLOC_COMMANDS: readonly MiCommand[] = [
  ulDump,
  ulShowContact,
  ulAdd,
  ulRm,
  ulRmContact,
  ulFlush,
  ulStats,
];
