/**
 * KSR.dialog: dialog tracking (Kamailio dialog module): dlg_manage, profiles, lifetime, $dlg_var.
 * The table and its programmatic API are in service.ts; see README.md in this folder.
 */
import { defineModuleStatistic } from '../../mi/statistics.ts';
import type { RouteContext } from '../../proxy/context.ts';
import { ANY_ROUTE, type ModuleDefinition } from '../../script/module.ts';
import { pvSet, registerPvClass } from '../pv/pseudo_variables.ts';
import { def, N0, REQUEST_ONLY } from '../shared/define.ts';
import { DIALOG_COMMANDS } from './commands.ts';
import type { Dialog } from './dialog.ts';
import './params.ts';
import { type DialogStats, dialogs } from './service.ts';

/** The call's dialog; on an initial INVITE in the request route it is created (dlg_manage). */
function dlgOf(ctx: RouteContext, create: boolean): Dialog | undefined {
  return dialogs().forContext(ctx, create);
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/** $dlg_var(name): the dialog's variable; setting it on an initial INVITE creates the dialog. */
registerPvClass('dlg_var', (name, index) => {
  if (name === '' || index !== undefined) return undefined;
  return {
    get: (ctx) => {
      const d = dlgOf(ctx, false);
      return d === undefined ? null : (d.vars.get(name) ?? null);
    },
    set: (ctx, v) => {
      const d = dlgOf(ctx, true);
      if (d === undefined) return false;
      dialogs().setVar(d, name, v === null ? undefined : String(v));
      return true;
    },
  };
});

/** Set a dialog variable from code (the programmatic form of KSR.pv.sets("$dlg_var(name)", v)). */
export function setDialogVar(ctx: RouteContext, name: string, value: string | undefined): boolean {
  const d = dlgOf(ctx, true);
  if (d === undefined) return false;
  dialogs().setVar(d, name, value);
  return true;
}

const STATS: Array<[keyof DialogStats, 'counter' | 'gauge', string]> = [
  ['active_dialogs', 'gauge', 'Dialogs tracked now (any state before the end).'],
  ['early_dialogs', 'gauge', 'Dialogs in early state (1xx with a To tag).'],
  ['processed_dialogs', 'counter', 'Dialogs created.'],
  ['expired_dialogs', 'counter', 'Dialogs that reached their lifetime.'],
  ['failed_dialogs', 'counter', 'Dialogs that ended without an answer (final ≥ 300).'],
  ['rejected_dialogs', 'counter', 'Calls left untracked because the table was full (max_dialogs).'],
];
for (const [name, kind, help] of STATS) {
  defineModuleStatistic({ group: 'dialog', name, kind, help, read: () => dialogs().stats[name] });
}

const PROFILE_SIG = '(profile: string, value?: string) => number';

const dialog = {
  name: 'dialog',
  summary: 'Dialog tracking: call state, lifetime, profiles (concurrent-call limits), dialog variables',
  functions: {
    dlg_manage: def(
      N0,
      (ctx: RouteContext): number => (dlgOf(ctx, true) === undefined ? -1 : 1),
      REQUEST_ONLY,
      'Track this initial INVITE as a dialog (-1: not an initial INVITE, or the table is full).',
    ),
    is_known_dlg: def(
      N0,
      (ctx: RouteContext): number => (dlgOf(ctx, false) === undefined ? -1 : 1),
      ANY_ROUTE,
      '1 when the message belongs to a tracked dialog.',
    ),
    set_dlg_profile: def(
      PROFILE_SIG,
      (ctx: RouteContext, profile: string, value?: string): number => {
        const d = dlgOf(ctx, true);
        return d !== undefined && dialogs().setProfile(d, str(profile), str(value)) ? 1 : -1;
      },
      ['request', 'failure', 'branch', 'onreply'],
      'Put the dialog in a profile (creating the dialog on an initial INVITE).',
    ),
    set_dlg_profile_static: def(
      '(profile: string) => number',
      (ctx: RouteContext, profile: string): number => {
        const d = dlgOf(ctx, true);
        return d !== undefined && dialogs().setProfile(d, str(profile)) ? 1 : -1;
      },
      ['request', 'failure', 'branch', 'onreply'],
    ),
    unset_dlg_profile: def(
      PROFILE_SIG,
      (ctx: RouteContext, profile: string, value?: string): number => {
        const d = dlgOf(ctx, false);
        return d !== undefined && dialogs().unsetProfile(d, str(profile), str(value)) ? 1 : -1;
      },
      ANY_ROUTE,
    ),
    is_in_profile: def(
      PROFILE_SIG,
      (ctx: RouteContext, profile: string, value?: string): number => {
        const d = dlgOf(ctx, false);
        const v = value === undefined || value === '' ? undefined : String(value);
        return d !== undefined && dialogs().isInProfile(d, str(profile), v) ? 1 : -1;
      },
      ANY_ROUTE,
    ),
    get_profile_size: def(
      '(profile: string, value: string, pv: string) => number',
      (ctx: RouteContext, profile: string, value: string, pv: string): number => {
        const n = dialogs().profileSize(str(profile), value === '' ? undefined : str(value));
        return pvSet(ctx, pv, n) ? 1 : -1;
      },
      ANY_ROUTE,
      'Store the number of active dialogs in the profile (with that value, unless "") in the PV (Kamailio).',
    ),
    profile_size: def(
      '(profile: string, value?: string) => number',
      (_ctx: RouteContext, profile: string, value?: string): number =>
        dialogs().profileSize(str(profile), value === undefined || value === '' ? undefined : str(value)),
      ANY_ROUTE,
      'The number of active dialogs in the profile (with that value when given): returned, not stored.',
    ),
    dlg_set_timeout: def(
      '(seconds: number) => number',
      (ctx: RouteContext, seconds: number): number => {
        const d = dlgOf(ctx, false);
        const s = Number(seconds);
        if (d === undefined || !Number.isFinite(s) || s <= 0) return -1;
        dialogs().setTimeout(d, s);
        return 1;
      },
      ANY_ROUTE,
      'Lifetime of this dialog, seconds from now.',
    ),
    dlg_bye: def(
      "(side: 'all') => Promise<number>",
      async (ctx: RouteContext, side: string): Promise<number> => {
        const d = dlgOf(ctx, false);
        if (d === undefined || side !== 'all') return -1;
        const r = await dialogs()
          .terminate(d, 'script')
          .catch(() => []);
        return r.length > 0 && r.every((b) => b.status < 300) ? 1 : -1;
      },
      ANY_ROUTE,
      'Send BYE to both sides and end the dialog ("all" only).',
    ),
  },
  commands: DIALOG_COMMANDS,
} satisfies ModuleDefinition;

export default dialog;
