/**
 * A module declares its KSR functions in one place (Kamailio-style): the name under KSR, each
 * function with the route kinds where it may be called, and its implementation over RouteContext.
 * Later issues add management commands, parameters and statistics to the same definition.
 */
import type { MiCommand } from '../mi/command.ts';
import type { RouteContext, RouteKind } from '../proxy/context.ts';

/** Every route kind: the default for functions usable anywhere. */
export const ANY_ROUTE: readonly RouteKind[] = [
  'request',
  'branch',
  'onsend',
  'reply',
  'onreply',
  'failure',
  'branch_failure',
  'event',
];
/** Kamailio's REQUEST_ROUTE | FAILURE_ROUTE | BRANCH_ROUTE — where most request-editing functions live. */
export const REQUEST_ROUTES: readonly RouteKind[] = ['request', 'failure', 'branch'];

export interface KsrFunction {
  /** Route kinds where the function may be called; calling it elsewhere logs an error and returns -1. */
  readonly routes?: readonly RouteKind[];
  // biome-ignore lint/suspicious/noExplicitAny: script arguments are whatever the script passes
  readonly fn: (ctx: RouteContext, ...args: any[]) => unknown;
  /**
   * TypeScript signature of the script-facing function (without ctx) for the generated KSR types,
   * e.g. `(code: number, reason: string) => number`. Optional: Kamailio's KEMI signatures are
   * built in (src/script/kemi_signatures.ts); set it for functions Kamailio does not have.
   */
  readonly signature?: string;
  /** One line of documentation, shown in the generated types. */
  readonly doc?: string;
}

export interface ModuleDefinition {
  /** Name under KSR (`tm` → KSR.tm); '' for the core functions that live on KSR itself. */
  readonly name: string;
  readonly functions: Readonly<Record<string, KsrFunction>>;
  /** One line for `help` and docs. */
  readonly summary?: string;
  /** Management commands the module owns (src/mi/command.ts). */
  readonly commands?: readonly MiCommand[];
}
