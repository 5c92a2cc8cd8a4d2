/**
 * Where the call flow meets dialog tracking (src/modules/dialog): every call from a connection
 * point is a tracked dialog carrying the `cp_id`, `tp_id` and `hook` dialog variables that call
 * records read, and termination point capacity is the size of the dialog profile `tp` with the
 * TP id as value — one counter, kept by the dialog module, freed when the call ends.
 */
import type { TerminationPoint } from '../../config/types.ts';
import type { RouteContext } from '../../proxy/context.ts';
import { setDialogVar } from '../dialog/index.ts';
import { dialogs } from '../dialog/service.ts';

/** The dialog profile counting calls per termination point. */
export const TP_PROFILE = 'tp';

export function setCallVar(ctx: RouteContext, name: 'cp_id' | 'tp_id' | 'hook', value: string): void {
  ctx.avps.set(name, [value]);
  setDialogVar(ctx, name, value);
}

/** Calls in progress at a termination point. */
export function tpCalls(id: number): number {
  return dialogs().profileSize(TP_PROFILE, String(id));
}

/** Room for one more call at the termination point (capacity 0: unlimited). */
export function capacityFree(ctx: RouteContext, tp: TerminationPoint): boolean {
  if (tp.capacity <= 0) return true;
  const d = dialogs().forContext(ctx);
  // This call already counts at `tp` (it never does on a first try, only defensively).
  const mine = d?.profiles.some(([n, v]) => n === TP_PROFILE && v === String(tp.id));
  return tpCalls(tp.id) - (mine === true ? 1 : 0) < tp.capacity;
}

/** The call now goes to `tp`: it counts there (and no longer at a TP it failed over from). */
export function noteTp(ctx: RouteContext, tp: TerminationPoint, previous: number | undefined): void {
  setCallVar(ctx, 'tp_id', String(tp.id));
  const d = dialogs().forContext(ctx);
  if (d === undefined) return;
  if (previous !== undefined) dialogs().unsetProfile(d, TP_PROFILE, String(previous));
  dialogs().setProfile(d, TP_PROFILE, String(tp.id));
}
