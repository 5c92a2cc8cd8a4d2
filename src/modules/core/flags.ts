/**
 * Message/transaction flags (ctx.flags), branch flags (ctx.bflags for the current branch, the
 * appended branches' own flags by index) and script flags (one process-wide word, as Kamailio's
 * sflags are global to the process). All are 32-bit words; flag numbers are 0..31.
 */
import type { RouteContext } from '../../proxy/context.ts';

let scriptFlags = 0;

function validFlag(flag: unknown): flag is number {
  return typeof flag === 'number' && Number.isInteger(flag) && flag >= 0 && flag <= 31;
}

/** Bit arithmetic in unsigned 32-bit: `1 << 31` is negative in JavaScript. */
function set(word: number, flag: number): number {
  return (word | (1 << flag)) >>> 0;
}

function reset(word: number, flag: number): number {
  return (word & ~(1 << flag)) >>> 0;
}

function test(word: number, flag: number): boolean {
  return ((word >>> flag) & 1) === 1;
}

export function setflag(ctx: RouteContext, flag: number): boolean {
  if (!validFlag(flag)) return false;
  ctx.flags = set(ctx.flags, flag);
  return true;
}

export function resetflag(ctx: RouteContext, flag: number): boolean {
  if (!validFlag(flag)) return false;
  ctx.flags = reset(ctx.flags, flag);
  return true;
}

export function isflagset(ctx: RouteContext, flag: number): boolean {
  return validFlag(flag) && test(ctx.flags, flag);
}

export function setbflag(ctx: RouteContext, flag: number): boolean {
  if (!validFlag(flag)) return false;
  ctx.bflags = set(ctx.bflags, flag);
  return true;
}

export function resetbflag(ctx: RouteContext, flag: number): boolean {
  if (!validFlag(flag)) return false;
  ctx.bflags = reset(ctx.bflags, flag);
  return true;
}

export function isbflagset(ctx: RouteContext, flag: number): boolean {
  return validFlag(flag) && test(ctx.bflags, flag);
}

/**
 * Branch index as Kamailio numbers them: 0 is the Request-URI branch (ctx.bflags), 1..n the
 * branches added by append_branch / lookup (ctx.branches[index - 1]).
 */
function branchWord(ctx: RouteContext, branch: number): number | undefined {
  if (!Number.isInteger(branch) || branch < 0) return undefined;
  if (branch === 0) return ctx.bflags;
  const b = ctx.branches[branch - 1];
  return b === undefined ? undefined : (b.flags ?? 0);
}

function setBranchWord(ctx: RouteContext, branch: number, word: number): void {
  if (branch === 0) ctx.bflags = word;
  else ctx.branches[branch - 1].flags = word;
}

export function setbiflag(ctx: RouteContext, flag: number, branch: number): boolean {
  const w = branchWord(ctx, branch);
  if (!validFlag(flag) || w === undefined) return false;
  setBranchWord(ctx, branch, set(w, flag));
  return true;
}

export function resetbiflag(ctx: RouteContext, flag: number, branch: number): boolean {
  const w = branchWord(ctx, branch);
  if (!validFlag(flag) || w === undefined) return false;
  setBranchWord(ctx, branch, reset(w, flag));
  return true;
}

export function isbiflagset(ctx: RouteContext, flag: number, branch: number): boolean {
  const w = branchWord(ctx, branch);
  return validFlag(flag) && w !== undefined && test(w, flag);
}

export function setsflag(_ctx: RouteContext, flag: number): boolean {
  if (!validFlag(flag)) return false;
  scriptFlags = set(scriptFlags, flag);
  return true;
}

export function resetsflag(_ctx: RouteContext, flag: number): boolean {
  if (!validFlag(flag)) return false;
  scriptFlags = reset(scriptFlags, flag);
  return true;
}

export function issflagset(_ctx: RouteContext, flag: number): boolean {
  return validFlag(flag) && test(scriptFlags, flag);
}

/** The script-flag word ($sf). */
export function getScriptFlags(): number {
  return scriptFlags;
}

export function setScriptFlags(word: number): void {
  scriptFlags = word >>> 0;
}
