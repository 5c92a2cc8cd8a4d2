/**
 * M4 number transformation / localization rules: `X` adds prefix X, `-X` cuts prefix X when the
 * number starts with it, `-X+Y` replaces prefix X with Y; rules are separated by `|` and the first
 * rule that applies wins (an `X` rule always applies). `370|-00` therefore always adds 370; write
 * the cutting rules first: `-00|-0+370|370`.
 */

export interface NumberRule {
  /** Prefix that must be present and is cut ('' for an "add prefix" rule). */
  readonly cut: string;
  /** Prefix added after the cut. */
  readonly add: string;
  /** `-X` / `-X+Y` rules apply only when the number starts with X. */
  readonly conditional: boolean;
}

export type NumberRules = readonly NumberRule[];

/** What a prefix may hold: the characters of a plausible number. */
const PREFIX = /^[0-9A-Za-z+*#._]*$/;

/** Parse `-00|-0+370|370`; a string error names the bad rule. */
export function parseRules(text: string): NumberRules | string {
  if (text.trim() === '') return [];
  const out: NumberRule[] = [];
  for (const raw of text.split('|')) {
    const rule = raw.trim();
    if (rule === '') return `empty rule in ${JSON.stringify(text)}`;
    let r: NumberRule;
    if (rule.startsWith('-')) {
      // The cut is at least one character, so `-+` cuts a leading '+'.
      const plus = rule.indexOf('+', 2);
      const cut = plus < 0 ? rule.slice(1) : rule.slice(1, plus);
      const add = plus < 0 ? '' : rule.slice(plus + 1);
      if (cut === '') return `rule ${JSON.stringify(rule)}: nothing to cut after '-'`;
      r = { cut, add, conditional: true };
    } else {
      r = { cut: '', add: rule, conditional: false };
    }
    if (!PREFIX.test(r.cut) || !PREFIX.test(r.add)) {
      return `rule ${JSON.stringify(rule)}: prefixes may hold digits, letters, + * # . _ only`;
    }
    out.push(r);
  }
  return out;
}

/** Apply the first rule that applies; the number unchanged when none does. */
export function applyRules(rules: NumberRules, n: string): string {
  for (const r of rules) {
    if (!r.conditional) return r.add + n;
    if (n.startsWith(r.cut)) return r.add + n.slice(r.cut.length);
  }
  return n;
}
