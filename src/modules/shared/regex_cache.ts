/**
 * Regular expressions that scripts pass as arguments (t_check_status, hdr.match_content "re"):
 * compiled once per expression, not per message, case-insensitive as Kamailio's POSIX matching is
 * there. An invalid expression is cached as null. Bounded like the PV cache.
 */
const compiled = new Map<string, RegExp | null>();

export function scriptRegex(expr: string): RegExp | null {
  let re = compiled.get(expr);
  if (re === undefined) {
    try {
      re = new RegExp(expr, 'i');
    } catch {
      re = null;
    }
    if (compiled.size >= 1024) compiled.clear();
    compiled.set(expr, re);
  }
  return re;
}
