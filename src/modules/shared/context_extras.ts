/**
 * Optional RouteContext capabilities. A few KSR functions need state that the RouteContext contract
 * does not (yet) expose; when the context provides one of these methods the module uses it, and
 * otherwise falls back to what it can track itself (documented in each module's README). Kept
 * structural so the proxy can add them without this folder being involved.
 */
import type { RouteContext, RouteHandler } from '../../proxy/context.ts';
import type { Endpoint } from '../../transport/types.ts';

export type HandlerKind = 'branch' | 'onreply' | 'failure' | 'branch_failure';

export interface RouteContextExtras {
  /** The handler t_on_* installed for this transaction (t_is_set). */
  getHandler?(kind: HandlerKind): RouteHandler | undefined;
  /** Undo record_route() for this transaction (remove_record_route); true when something was undone. */
  removeRecordRoute?(): boolean;
  /** In reply routes: the endpoint the response came from (its branch's destination). */
  replySource?(): Endpoint | undefined;
}

export function extras(ctx: RouteContext): RouteContextExtras {
  return ctx as RouteContext & RouteContextExtras;
}
