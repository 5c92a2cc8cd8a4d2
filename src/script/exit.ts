/**
 * KSR.x.exit() ends a route the way Kamailio's `exit` does: it throws a private sentinel that
 * unwinds the script. The sentinel is a frozen plain object, not an Error, so it carries no stack
 * (cheap to throw on every exit) and error loggers never mistake it for a crash. A script that
 * catches it with try/catch cannot resume: the KSR object is marked exited and every later KSR
 * call on it throws the sentinel again (see registry.ts).
 */
import type { RouteContext } from '../proxy/context.ts';

const EXIT_SENTINEL: object = Object.freeze({ junctionRouteExit: true });

/** The value thrown by KSR.x.exit() / KSR.x.drop(). */
export function exitSentinel(): object {
  return EXIT_SENTINEL;
}

/** True for the value KSR.x.exit() throws: swallow it, it is a normal end of route. */
export function isExitSentinel(e: unknown): boolean {
  return e === EXIT_SENTINEL;
}

export function markExited(ctx: RouteContext): void {
  ctx.exited = true;
}

/** What KSR.x.exit() / KSR.x.drop() do to the context, in every engine (then the route unwinds). */
export function endRoute(ctx: RouteContext, drop: boolean): void {
  if (drop) ctx.dropped = true;
  markExited(ctx);
}

/** Whether a route on this context ended through KSR.x.exit() or KSR.x.drop(). */
export function wasExited(ctx: RouteContext): boolean {
  return ctx.exited === true;
}
