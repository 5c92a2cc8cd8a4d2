/**
 * Header lines as Kamailio scripts write them: `"X-Foo: bar\r\n"`, possibly several in one string,
 * possibly without the final CRLF. KEMI's hdr functions take the text raw; Junction edits through
 * the SipMessage API, which wants a name and a value, so the text is split here (no regex: this runs
 * for every hdr.append of every message).
 */
import { isToken, isWsp } from '../../sip/chars.ts';

export interface HeaderLine {
  readonly name: string;
  readonly value: string;
}

function trimRange(s: string, start: number, end: number): string {
  while (start < end && isWsp(s.charCodeAt(start))) start++;
  while (end > start && isWsp(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

/**
 * Split `Name: value` lines (CRLF or LF separated; a line starting with white space continues the
 * previous value). Undefined when the text holds no line, or a line has no `:` or a name that is not
 * a token: a malformed header must not reach the wire.
 */
export function parseHeaderLines(text: string): HeaderLine[] | undefined {
  const out: Array<{ name: string; value: string }> = [];
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = n;
    const lineEnd = eol > pos && text.charCodeAt(eol - 1) === 0x0d ? eol - 1 : eol;
    if (lineEnd > pos) {
      const first = text.charCodeAt(pos);
      if (isWsp(first)) {
        // Folded continuation (RFC 3261 §7.3.1): joins the previous value with one space.
        const prev = out[out.length - 1];
        if (prev === undefined) return undefined;
        const more = trimRange(text, pos, lineEnd);
        if (more !== '') prev.value = prev.value === '' ? more : `${prev.value} ${more}`;
      } else {
        const colon = text.indexOf(':', pos);
        if (colon < 0 || colon >= lineEnd) return undefined;
        const name = trimRange(text, pos, colon);
        if (name === '' || !isToken(name)) return undefined;
        out.push({ name, value: trimRange(text, colon + 1, lineEnd) });
      }
    }
    pos = eol + 1;
  }
  return out.length === 0 ? undefined : out;
}

/** `Name: value\r\n`, the form replies and Kamailio's lumps carry. */
export function formatHeaderLine(h: HeaderLine): string {
  return `${h.name}: ${h.value}\r\n`;
}
