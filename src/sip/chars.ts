/**
 * Character classes of the RFC 3261 §25 grammar and the small scanning helpers every header-value
 * parser shares. All scanning is charCodeAt + index arithmetic over one 128-entry class table;
 * nothing here allocates except unquote()/quote() when the text really changes.
 */

/** token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
export const C_TOKEN = 0x01;
/** ALPHA / DIGIT */
export const C_ALNUM = 0x02;
/** HEXDIG (either case) */
export const C_HEX = 0x04;
/** SIP URI user: unreserved / user-unreserved ("&" "=" "+" "$" "," ";" "?" "/"); `%` handled apart. */
export const C_USER = 0x08;
/** SIP URI password: unreserved / "&" "=" "+" "$" ","; `%` handled apart. */
export const C_PASSWORD = 0x10;
/** URI paramchar: unreserved / param-unreserved ("[" "]" "/" ":" "&" "+" "$"); `%` handled apart. */
export const C_PARAM = 0x20;
/** URI headers section: unreserved / hnv-unreserved ("[" "]" "/" "?" ":" "+" "$") / "=" / "&". */
export const C_HEADER = 0x40;
/**
 * Unquoted header-parameter value: token / host chars ("[" "]" ":") and, liberally, "/" and "=" (real
 * stacks send base64 branches such as `z9hG4bKT36Bdh...37U=`). A value may not start with "=" (see
 * scanParamValue).
 */
export const C_PVALUE = 0x80;

/** Class bits by character code (0..127); characters >= 128 have no class. */
export const CHAR_CLASS: Uint8Array = new Uint8Array(128);

function mark(chars: string, bits: number): void {
  for (let i = 0; i < chars.length; i++) CHAR_CLASS[chars.charCodeAt(i)] |= bits;
}

{
  const digits = '0123456789';
  const lower = 'abcdefghijklmnopqrstuvwxyz';
  const upper = lower.toUpperCase();
  const alnum = digits + lower + upper;
  const unreserved = `${alnum}-_.!~*'()`;
  mark(alnum, C_ALNUM);
  mark(`${digits}abcdefABCDEF`, C_HEX);
  mark(`${alnum}-.!%*_+\`'~`, C_TOKEN | C_PVALUE);
  mark('[]:/=', C_PVALUE);
  mark(`${unreserved}&=+$,;?/`, C_USER);
  mark(`${unreserved}&=+$,`, C_PASSWORD);
  mark(`${unreserved}[]/:&+$`, C_PARAM);
  mark(`${unreserved}[]/?:+$=&`, C_HEADER);
}

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True when the code unit has any of the class bits (always false for non-ASCII). */
export function hasClass(c: number, bits: number): boolean {
  return c < 128 && (CHAR_CLASS[c] & bits) !== 0;
}

export function isTokenChar(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c] & C_TOKEN) !== 0;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isAlpha(c: number): boolean {
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x7a;
}

export function isAlnum(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c] & C_ALNUM) !== 0;
}

export function isHexDigit(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c] & C_HEX) !== 0;
}

/** Value of a hex digit, -1 when the code unit is not one. */
export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x57;
  return -1;
}

/** True when s[i] is `%` followed by two hex digits. */
export function isEscapeAt(s: string, i: number): boolean {
  return (
    s.charCodeAt(i) === 0x25 &&
    i + 2 < s.length &&
    isHexDigit(s.charCodeAt(i + 1)) &&
    isHexDigit(s.charCodeAt(i + 2))
  );
}

export function isWsp(c: number): boolean {
  return c === SP || c === HTAB;
}

/** Index of the first character at or after i that is not SP / HTAB (values are already unfolded). */
export function skipLws(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c !== SP && c !== HTAB) break;
    i++;
  }
  return i;
}

/** Index just after the last non-SP/HTAB character before `end` (never below `start`). */
export function trimLwsEnd(s: string, start: number, end: number): number {
  while (end > start) {
    const c = s.charCodeAt(end - 1);
    if (c !== SP && c !== HTAB) break;
    end--;
  }
  return end;
}

/** Index of the first non-token character at or after i. */
export function scanToken(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CHAR_CLASS[c] & C_TOKEN) === 0) break;
    i++;
  }
  return i;
}

/** Index of the first character at or after i whose class has none of `bits`. */
export function scanClass(s: string, i: number, bits: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CHAR_CLASS[c] & bits) === 0) break;
    i++;
  }
  return i;
}

/**
 * End of an unquoted header-parameter value starting at i (C_PVALUE run); returns i when the value
 * would be empty or would start with "=".
 */
export function scanParamValue(s: string, i: number): number {
  const n = s.length;
  if (i < n && s.charCodeAt(i) === 0x3d) return i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CHAR_CLASS[c] & C_PVALUE) === 0) break;
    i++;
  }
  return i;
}

/** True when s[start, end) is a non-empty token. */
export function isToken(s: string, start = 0, end = s.length): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CHAR_CLASS[c] & C_TOKEN) === 0) return false;
  }
  return true;
}

/**
 * s[i] must be `"`. Returns the index just after the closing quote, or -1 when the string is not
 * terminated. A quoted-pair (`\` + any char, RFC 3261 §25.1) never closes the string.
 */
export function scanQuotedString(s: string, i: number): number {
  const n = s.length;
  i++;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE) return i + 1;
    if (c === BACKSLASH) {
      if (i + 1 >= n) return -1;
      i += 2;
    } else {
      i++;
    }
  }
  return -1;
}

/**
 * Content of s[start, end) with quoted-pairs resolved (`\"` → `"`, `\\` → `\`). The range is the text
 * between the quotes. Returns a slice (no copy) when there is no backslash.
 */
export function unquoteRange(s: string, start: number, end: number): string {
  let bs = -1;
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) === BACKSLASH) {
      bs = i;
      break;
    }
  }
  if (bs < 0) return s.slice(start, end);
  let out = s.slice(start, bs);
  let i = bs;
  let from = bs;
  while (i < end) {
    if (s.charCodeAt(i) === BACKSLASH && i + 1 < end) {
      out += s.slice(from, i);
      out += s[i + 1];
      i += 2;
      from = i;
    } else {
      i++;
    }
  }
  return out + s.slice(from, end);
}

/**
 * A quoted-string without its surrounding quotes and with quoted-pairs resolved. Text that is not
 * enclosed in `"` is returned unchanged.
 */
export function unquote(s: string): string {
  const n = s.length;
  if (n >= 2 && s.charCodeAt(0) === DQUOTE && s.charCodeAt(n - 1) === DQUOTE)
    return unquoteRange(s, 1, n - 1);
  return s;
}

/** `"text"` with `"` and `\` escaped as quoted-pairs (for display names and auth-param values). */
export function quote(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE || c === BACKSLASH) {
      out += `${s.slice(from, i)}\\`;
      from = i;
    }
  }
  return `${out + s.slice(from)}"`;
}

/** ASCII case-insensitive equality (only A–Z/a–z fold). */
export function eqIgnoreCase(a: string, b: string): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}

/**
 * True when s[start, end) equals `lower` (an all-lower-case ASCII literal) case-insensitively,
 * without allocating a slice.
 */
export function rangeEqualsLower(s: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Value of the decimal digits s[start, end), or -1 when the range is empty, holds a non-digit or
 * exceeds `max` (leading zeros are allowed; overlong input stops early, no precision loss).
 */
export function parseDecimal(s: string, start: number, end: number, max: number): number {
  if (start >= end) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
    if (v > max) return -1;
  }
  return v;
}

/** A character for an error detail: `"x"`, or `\xNN` / `U+NNNN` for invisible ones, or 'end of text'. */
export function describeChar(s: string, i: number): string {
  if (i >= s.length) return 'end of text';
  const c = s.charCodeAt(i);
  if (c === SP) return 'space';
  if (c === HTAB) return 'tab';
  if (c < 0x20 || c === 0x7f) return `\\x${c.toString(16).padStart(2, '0')}`;
  if (c >= 0x80 && c < 0xa0) return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return `"${s[i]}"`;
}
