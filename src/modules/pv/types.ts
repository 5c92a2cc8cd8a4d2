/**
 * Pseudo-variables: what a parsed `$name`, `$name(sub)` or `$(name(sub)[index])` resolves to.
 */
import type { RouteContext } from '../../proxy/context.ts';

/** A PV value as KSR.pv.get returns it: integers as numbers, $null as null. */
export type PvValue = string | number | null;

/** `[n]` (negative counts from the end) or `[*]` (all values). */
export type PvIndex = number | 'all';

/** A PV name resolved once (and cached): read it, and write it when it is writable. */
export interface PvSpec {
  readonly name: string;
  get(ctx: RouteContext): PvValue;
  /** Absent for read-only PVs. `null` means $null (unset). Returns false when the value is refused. */
  set?(ctx: RouteContext, value: PvValue): boolean;
}

/** A PV without a sub-name ($ru, $ci ...). */
export interface SimplePv {
  get(ctx: RouteContext): PvValue;
  set?(ctx: RouteContext, value: PvValue): boolean;
}

/** A PV class with a sub-name ($hdr(Name), $var(x) ...): builds the spec, undefined when `sub` is invalid. */
export type PvClass = (sub: string, index: PvIndex | undefined) => SimplePv | undefined;
