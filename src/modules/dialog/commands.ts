/**
 * Dialog management commands: OpenSIPS names (dlg_list, dlg_end_dlg, profile_get_size,
 * profile_get_values, profile_list_dlgs), Kamailio's dotted names as aliases.
 */
import { type MiCommand, MiError } from '../../mi/command.ts';
import { type Dialog, DLG_CONFIRMED_NA } from './dialog.ts';
import { dialogs } from './service.ts';

const sec = (ms: number | undefined): number => (ms === undefined ? 0 : Math.floor(ms / 1000));

/** One dialog as dlg_list shows it (OpenSIPS field names). */
export function dialogView(d: Dialog, now = Date.now()): Record<string, unknown> {
  return {
    ID: d.id,
    h_entry: 0,
    h_id: d.id,
    state: d.state,
    start_ts: sec(d.startTs),
    answer_ts: sec(d.answerTs),
    timeout: sec(d.expiresAt),
    lifetime: Math.max(0, Math.round((d.expiresAt - now) / 1000)),
    duration: d.durationS(now),
    callid: d.callId,
    from_uri: d.fromUri,
    from_tag: d.fromTag,
    to_uri: d.toUri,
    to_tag: d.toTag ?? '',
    request_uri: d.requestUri,
    caller_contact: d.callerContact,
    callee_contact: d.calleeContact ?? '',
    caller_route_set: d.callerRouteSet.join(','),
    callee_route_set: d.calleeRouteSet.join(','),
    caller_cseq: d.callerCseq,
    callee_cseq: d.calleeCseq,
    source: d.source,
    socket: d.socket,
    variables: Object.fromEntries(d.vars),
    profiles: d.profiles.map(([name, value]) => ({ name, value })),
  };
}

/** A dialog by `dialog_id` (its ID, `h_entry:h_id`) or Call-ID. */
function findDialog(p: Readonly<Record<string, unknown>>): Dialog {
  const svc = dialogs();
  if (p.h_id !== undefined) {
    const d = svc.get(Number(p.h_id));
    if (d === undefined) throw new MiError(404, 'Dialog not found');
    return d;
  }
  const key = String(p.dialog_id ?? '').trim();
  if (key === '') throw new MiError(400, 'missing dialog_id');
  const m = /^(?:\d+:)?(\d+)$/.exec(key);
  const d = m === null ? svc.byCall(key)[0] : svc.get(Number(m[1]));
  if (d === undefined) throw new MiError(404, 'Dialog not found');
  return d;
}

export const dlgList: MiCommand = {
  name: 'dlg_list',
  aliases: ['dlg.list', 'dlg.dlg_list'],
  help: 'Active dialogs: all, one Call-ID (and From tag), or a page (index = first, counter = how many).',
  recipes: [
    [],
    [
      { name: 'index', type: 'int' },
      { name: 'counter', type: 'int' },
    ],
    [
      { name: 'callid', type: 'string' },
      { name: 'from_tag', type: 'string', optional: true },
    ],
  ],
  handler(p) {
    const svc = dialogs();
    const now = Date.now();
    if (p.callid !== undefined) {
      const tag = p.from_tag === undefined ? undefined : String(p.from_tag);
      const list = svc.byCall(String(p.callid)).filter((d) => tag === undefined || d.fromTag === tag);
      return { Dialogs: list.map((d) => dialogView(d, now)) };
    }
    const index = p.index === undefined ? 0 : Number(p.index);
    const counter = p.counter === undefined ? Number.POSITIVE_INFINITY : Number(p.counter);
    if (index < 0 || counter < 0) throw new MiError(400, 'index and counter must not be negative');
    const total = svc.size;
    async function* page(): AsyncGenerator<Record<string, unknown>> {
      let i = 0;
      let n = 0;
      for (const d of [...svc.list()]) {
        if (i++ < index) continue;
        if (n++ >= counter) break;
        if (!d.ended) yield dialogView(d, now);
      }
    }
    return { count: total, Dialogs: page() };
  },
};

export const dlgEndDlg: MiCommand = {
  name: 'dlg_end_dlg',
  aliases: ['dlg.end_dlg', 'dlg.terminate_dlg'],
  help: 'End a dialog: BYE to both sides of an answered call. dialog_id = ID (or h_entry:h_id, or Call-ID).',
  mutating: true,
  recipes: [
    [
      { name: 'h_entry', type: 'int' },
      { name: 'h_id', type: 'int' },
      { name: 'extra_hdrs', type: 'string', optional: true },
    ],
    [{ name: 'dialog_id', type: 'string' }],
  ],
  async handler(p) {
    const d = findDialog(p);
    if (d.state < DLG_CONFIRMED_NA)
      throw new MiError(
        409,
        `dialog ${d.id} is not answered yet (state ${d.state}): there is nothing to BYE`,
      );
    const byes = await dialogs().terminate(d, 'mi');
    return {
      ID: d.id,
      callid: d.callId,
      BYE: byes.map((b) => ({ side: b.side, status: `${b.status} ${b.reason}` })),
    };
  },
};

const PROFILE = { name: 'profile', type: 'string' } as const;
const VALUE = { name: 'value', type: 'string', optional: true } as const;

function knownProfile(p: Readonly<Record<string, unknown>>): string {
  const name = String(p.profile ?? '');
  if (!dialogs().hasProfile(name)) throw new MiError(404, `Profile not found: ${name}`);
  return name;
}

export const profileGetSize: MiCommand = {
  name: 'profile_get_size',
  aliases: ['dlg.profile_get_size'],
  help: 'How many active dialogs are in a profile (with a value: with that value).',
  recipes: [[PROFILE, VALUE]],
  handler(p) {
    const name = knownProfile(p);
    const value = p.value === undefined ? undefined : String(p.value);
    return {
      profile: name,
      ...(value === undefined ? {} : { value }),
      count: dialogs().profileSize(name, value),
    };
  },
};

export const profileGetValues: MiCommand = {
  name: 'profile_get_values',
  aliases: ['dlg.profile_get_values'],
  help: 'Each value of a profile with its count of active dialogs.',
  recipes: [[PROFILE]],
  handler(p) {
    return { profile: knownProfile(p), values: dialogs().profileValues(String(p.profile)) };
  },
};

export const profileListDlgs: MiCommand = {
  name: 'profile_list_dlgs',
  aliases: ['dlg.profile_list'],
  help: 'The dialogs of a profile (with a value: with that value).',
  recipes: [[PROFILE, VALUE]],
  handler(p) {
    const name = knownProfile(p);
    const now = Date.now();
    return {
      Dialogs: dialogs()
        .profileDialogs(name, p.value === undefined ? undefined : String(p.value))
        .map((d) => dialogView(d, now)),
    };
  },
};

export const dlgStatsActive: MiCommand = {
  name: 'dlg_stats_active',
  aliases: ['dlg.stats_active'],
  help: 'Active dialogs by state (starting, connecting, answering, ongoing, all).',
  recipes: [[]],
  handler() {
    const by = [0, 0, 0, 0, 0, 0];
    for (const d of dialogs().list()) by[d.state] = (by[d.state] ?? 0) + 1;
    return {
      starting: by[1],
      connecting: by[2],
      answering: by[3],
      ongoing: by[4],
      all: by[1]! + by[2]! + by[3]! + by[4]!,
    };
  },
};

export const DIALOG_COMMANDS: readonly MiCommand[] = [
  dlgList,
  dlgEndDlg,
  profileGetSize,
  profileGetValues,
  profileListDlgs,
  dlgStatsActive,
];
