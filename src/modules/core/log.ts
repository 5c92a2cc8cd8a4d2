/**
 * KSR.dbg / info / notice / warn / err / crit and KSR.log(level, msg): the script's log lines go to
 * the server's logger through ctx.log (which drops one trailing newline, as scripts add "\n").
 */
import type { RouteContext } from '../../proxy/context.ts';

export type LogLevel = 'dbg' | 'info' | 'notice' | 'warn' | 'err' | 'crit' | 'alert';

function text(msg: unknown): string {
  return typeof msg === 'string' ? msg : String(msg);
}

export function logAt(level: LogLevel): (ctx: RouteContext, msg: string) => void {
  return (ctx, msg) => ctx.log(level, text(msg));
}

/**
 * KSR.log(level, msg). Kamailio picks the level from the first letter of `level` (w, i, n, e, c, a;
 * anything else is debug), so "warn", "WARNING" and "w" all work.
 */
export function logWithLevel(ctx: RouteContext, level: string, msg: string): void {
  let l: LogLevel = 'dbg';
  switch (typeof level === 'string' ? level.charCodeAt(0) | 0x20 : 0) {
    case 0x77 /* w */:
      l = 'warn';
      break;
    case 0x69 /* i */:
      l = 'info';
      break;
    case 0x6e /* n */:
      l = 'notice';
      break;
    case 0x65 /* e */:
      l = 'err';
      break;
    case 0x63 /* c */:
      l = 'crit';
      break;
    case 0x61 /* a */:
      l = 'alert';
      break;
  }
  ctx.log(l, text(msg));
}
