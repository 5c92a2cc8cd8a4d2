/**
 * Pseudo-variables inside a string (Kamailio's "format" parameters: `"echo TEST > /tmp/$rU.txt"`).
 * A format is split once into literal text and PV specs (cached, bounded); `expandFormat` then
 * only reads the PVs. What is a PV:
 *
 * - `$$` is a literal `$` (Kamailio's escape, e.g. `$$SIP_OUSER` for a shell variable);
 * - `$name`, `$name(sub)`, `$(name...)` when the name is a supported PV; a name running into text
 *   (`$rU.txt`) is cut back at a `.` to the longest supported PV (`$rU` + `.txt`);
 * - anything else starting with `$` (`$SIP_HF_FROM`, `${HOME}`, `$(date)`) is kept as text, so
 *   the shell that runs the command sees it.
 */
import type { RouteContext } from '../../proxy/context.ts';
import { pvSpec } from './pseudo_variables.ts';
import type { PvSpec, PvValue } from './types.ts';

/** A format split into literal text (strings) and PVs. */
export type FormatPart = string | PvSpec;

function isNameChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x5f /* _ */ ||
    c === 0x2e /* . */
  );
}

/** Index one past the `)` matching the `(` at `open`, -1 when unbalanced. */
function closeParen(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x28) depth++;
    else if (c === 0x29 && --depth === 0) return j + 1;
  }
  return -1;
}

/** The PV starting at `at` (a `$`) and where it ends, or undefined when none starts there. */
function pvAt(text: string, at: number): { spec: PvSpec; end: number } | undefined {
  const next = text.charCodeAt(at + 1);
  if (next === 0x28 /* ( */) {
    const end = closeParen(text, at + 1);
    const spec = end < 0 ? undefined : pvSpec(text.slice(at, end));
    return spec === undefined ? undefined : { spec, end };
  }
  let i = at + 1;
  while (i < text.length && isNameChar(text.charCodeAt(i))) i++;
  if (i === at + 1) return undefined;
  if (text.charCodeAt(i) === 0x28) {
    const end = closeParen(text, i);
    const spec = end < 0 ? undefined : pvSpec(text.slice(at, end));
    return spec === undefined ? undefined : { spec, end };
  }
  // Longest supported name: the whole run, then cut back at each '.'.
  let end = i;
  for (;;) {
    const spec = pvSpec(text.slice(at, end));
    if (spec !== undefined) return { spec, end };
    const dot = text.lastIndexOf('.', end - 1);
    if (dot <= at + 1) return undefined;
    end = dot;
  }
}

function split(text: string): FormatPart[] {
  const parts: FormatPart[] = [];
  let lit = '';
  let i = 0;
  while (i < text.length) {
    const d = text.indexOf('$', i);
    if (d < 0) {
      lit += text.slice(i);
      break;
    }
    lit += text.slice(i, d);
    if (text.charCodeAt(d + 1) === 0x24) {
      lit += '$';
      i = d + 2;
      continue;
    }
    const pv = pvAt(text, d);
    if (pv === undefined) {
      lit += '$';
      i = d + 1;
      continue;
    }
    if (lit !== '') parts.push(lit);
    lit = '';
    parts.push(pv.spec);
    i = pv.end;
  }
  if (lit !== '') parts.push(lit);
  return parts;
}

const cache = new Map<string, FormatPart[]>();
const CACHE_MAX = 1024;

/** The format split into text and PVs (cached: scripts repeat the same literals). */
export function parseFormat(text: string): readonly FormatPart[] {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const parts = split(text);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(text, parts);
  return parts;
}

/** A PV value as text: integers in decimal, $null as ''. */
export function pvText(v: PvValue): string {
  return v === null ? '' : String(v);
}

/**
 * The format with every PV replaced by `render(value)` (by default its text): KSR functions
 * taking Kamailio-style format strings.
 */
export function expandFormat(
  ctx: RouteContext,
  text: string,
  render: (value: string) => string = (v) => v,
): string {
  let out = '';
  for (const p of parseFormat(text)) out += typeof p === 'string' ? p : render(pvText(p.get(ctx)));
  return out;
}
