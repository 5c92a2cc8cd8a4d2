/**
 * Where the call flow meets dialog tracking: the `cp_id`, `tp_id` and `hook` dialog variables
 * that call records read, and termination point capacity. Until dialog profiles are available
 * these keep the values as per-transaction AVPs and never refuse for capacity.
 */
import type { TerminationPoint } from '../../config/types.ts';
import type { RouteContext } from '../../proxy/context.ts';

export function setCallVar(ctx: RouteContext, name: 'cp_id' | 'tp_id' | 'hook', value: string): void {
  ctx.avps.set(name, [value]);
}

export function capacityFree(_ctx: RouteContext, _tp: TerminationPoint): boolean {
  return true;
}

export function noteTp(ctx: RouteContext, tp: TerminationPoint): void {
  setCallVar(ctx, 'tp_id', String(tp.id));
}

/** Calls in progress at a termination point (capacity), as dialog profiles count them. */
export function tpCalls(_id: number): number {
  return 0;
}
