/**
 * siputils string tests (is_numeric, is_alphanum, is_alphanumex, is_tel_number, is_e164), char by
 * char: they run on values taken from messages.
 */
import { isAlnum, isDigit } from '../../sip/chars.ts';

function all(s: string, start: number, ok: (c: number) => boolean): boolean {
  if (s.length <= start) return false;
  for (let i = start; i < s.length; i++) if (!ok(s.charCodeAt(i))) return false;
  return true;
}

export function isNumeric(s: string): boolean {
  return typeof s === 'string' && all(s, 0, isDigit);
}

export function isAlphanum(s: string): boolean {
  return typeof s === 'string' && all(s, 0, isAlnum);
}

/** Letters, digits, or one of the characters in `extra`. */
export function isAlphanumex(s: string, extra: string): boolean {
  const ex = typeof extra === 'string' ? extra : '';
  return typeof s === 'string' && all(s, 0, (c) => isAlnum(c) || ex.includes(String.fromCharCode(c)));
}

/** An optional "+" and at least one digit. */
export function isTelNumber(s: string): boolean {
  if (typeof s !== 'string') return false;
  return all(s, s.charCodeAt(0) === 0x2b ? 1 : 0, isDigit);
}

/** E.164: "+" and 2 to 15 digits (Kamailio's is_e164). */
export function isE164(s: string): boolean {
  return (
    typeof s === 'string' && s.length >= 3 && s.length <= 16 && s.charCodeAt(0) === 0x2b && all(s, 1, isDigit)
  );
}
