/**
 * One KSR function declaration: the script-facing TypeScript signature (for the generated KSR
 * types), the implementation over RouteContext, and where it may run. Every function in
 * src/modules declares its signature itself, so the generated types always describe what the
 * implementation returns (booleans where Kamailio's KEMI returns booleans, Promises for I/O).
 */
import type { RouteContext, RouteKind } from '../../proxy/context.ts';

/** Any implementation: ctx first, then whatever the script passes. */
export type Impl = (ctx: RouteContext, ...args: never[]) => unknown;

export interface Defined<F extends Impl> {
  readonly fn: F;
  readonly signature: string;
  readonly routes?: readonly RouteKind[];
  readonly doc?: string;
}

export function def<F extends Impl>(
  signature: string,
  fn: F,
  routes?: readonly RouteKind[],
  doc?: string,
): Defined<F> {
  const d: { fn: F; signature: string; routes?: readonly RouteKind[]; doc?: string } = { fn, signature };
  if (routes !== undefined) d.routes = routes;
  if (doc !== undefined) d.doc = doc;
  return d;
}

/** What the `getw` variants return for $null: Kamailio's printable null. */
export const NULL_PRINT = '<null>';

// Signatures that recur.
export const B0 = '() => boolean';
export const N0 = '() => number';
export const V0 = '() => void';
export const B_STR = (arg: string): string => `(${arg}: string) => boolean`;
export const N_STR = (arg: string): string => `(${arg}: string) => number`;
export const N_NUM = (arg: string): string => `(${arg}: number) => number`;
export const B_NUM = (arg: string): string => `(${arg}: number) => boolean`;
/** Getter of a value that may be $null. */
export const S0_NULL = '() => string | null';

/** Kamailio's REQUEST_ROUTE | FAILURE_ROUTE: where a request can be answered or relayed. */
export const REQUEST_FAILURE: readonly RouteKind[] = ['request', 'failure'];
/** Where a local reply to the request can be sent (failure routes reply through the transaction). */
export const REPLY_ROUTES: readonly RouteKind[] = ['request', 'failure', 'branch_failure'];
/** Only the request route. */
export const REQUEST_ONLY: readonly RouteKind[] = ['request'];
