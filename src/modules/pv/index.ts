/**
 * KSR.pv: get, set and test pseudo-variables by their Kamailio names ("$ru", "$var(x)" ...).
 * The names and what they mean are in pseudo_variables.ts and README.md.
 */
import type { RouteContext } from '../../proxy/context.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import { def, NULL_PRINT } from '../shared/define.ts';
import { type PvValue, pvGet, pvSet, pvSpec } from './pseudo_variables.ts';

/** Kamailio's str2sint: an optional sign and leading digits; 0 when there are none. */
function toInt(v: PvValue): number {
  if (v === null) return 0;
  if (typeof v === 'number') return Math.trunc(v);
  let i = 0;
  let sign = 1;
  if (v.charCodeAt(0) === 0x2d || v.charCodeAt(0) === 0x2b) {
    sign = v.charCodeAt(0) === 0x2d ? -1 : 1;
    i = 1;
  }
  let n = 0;
  for (; i < v.length; i++) {
    const d = v.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  return sign * n;
}

const PV = 'string | number';

const pv = {
  name: 'pv',
  summary: 'Pseudo-variables: get/set/test $ru, $var(x), $avp(x), $hdr(Name) ...',
  functions: {
    get: def(
      `(name: string) => ${PV} | null`,
      (ctx: RouteContext, name: string): PvValue => pvGet(ctx, name),
    ),
    gete: def(
      `(name: string) => ${PV}`,
      (ctx: RouteContext, name: string): string | number => pvGet(ctx, name) ?? '',
    ),
    getw: def(
      `(name: string) => ${PV}`,
      (ctx: RouteContext, name: string): string | number => pvGet(ctx, name) ?? NULL_PRINT,
    ),
    getvn: def(
      `(name: string, vn: number) => ${PV}`,
      (ctx: RouteContext, name: string, vn: number): string | number => pvGet(ctx, name) ?? vn,
    ),
    getvs: def(
      `(name: string, vs: string) => ${PV}`,
      (ctx: RouteContext, name: string, vs: string): string | number => pvGet(ctx, name) ?? vs,
    ),
    geti: def(
      '(name: string) => number',
      (ctx: RouteContext, name: string): number => toInt(pvGet(ctx, name)),
      undefined,
      'Value of a pseudo-variable as an integer (0 when $null or not a number).',
    ),
    sets: def(
      '(name: string, value: string) => boolean',
      (ctx: RouteContext, name: string, value: string): boolean =>
        pvSet(ctx, name, typeof value === 'string' ? value : String(value)),
      undefined,
      'Set a pseudo-variable to a string; false when it is read-only or the value is refused.',
    ),
    seti: def(
      '(name: string, value: number) => boolean',
      (ctx: RouteContext, name: string, value: number): boolean => {
        const n = typeof value === 'number' ? Math.trunc(value) : toInt(String(value));
        return Number.isFinite(n) && pvSet(ctx, name, n);
      },
      undefined,
      'Set a pseudo-variable to an integer; false when it is read-only or the value is refused.',
    ),
    unset: def(
      '(name: string) => boolean',
      (ctx: RouteContext, name: string): boolean => pvSet(ctx, name, null),
      undefined,
      'Set a pseudo-variable to $null ($var becomes 0, as in Kamailio).',
    ),
    is_null: def('(name: string) => boolean', (ctx: RouteContext, name: string): boolean => {
      // An invalid name counts as $null, as in Kamailio.
      const spec = pvSpec(name);
      return spec === undefined || spec.get(ctx) === null;
    }),
  },
} satisfies ModuleDefinition;

export default pv;
