/**
 * Answering a request that did not parse (RFC 3261 §8.2.1, §16.3, RFC 4475): a 400 (or 505, 501,
 * 413 …) with the reason, built from the raw header lines that identify the transaction. When the
 * message is a response, or lacks what a response must echo, nothing can be addressed: drop.
 */
import type { ParseError } from '../sip/errors.ts';
import { H, headerIdFromBytes } from '../sip/header_names.ts';

const NEEDED = [H.VIA, H.FROM, H.TO, H.CALL_ID, H.CSEQ] as const;

/** The reason phrase: the error's phrase with anything that could break the status line removed. */
function phraseOf(err: ParseError): string {
  let p = '';
  for (const ch of err.phrase) {
    const c = ch.charCodeAt(0);
    p += c < 0x20 || c === 0x7f ? ' ' : ch;
  }
  return p.length > 120 ? p.slice(0, 120) : p;
}

/** The error response for `raw`, or undefined when no response can be built. */
export function buildErrorResponse(raw: Buffer, err: ParseError, toTag: string): Buffer | undefined {
  let pos = 0;
  while (pos < raw.length && (raw[pos] === 0x0d || raw[pos] === 0x0a)) pos++;
  if (raw.length - pos < 4) return undefined;
  const head = raw.toString('latin1', pos, pos + 4);
  // A response is never answered; neither is an ACK (RFC 3261 §17.2.1, §8.2: no response to ACK).
  if (head === 'SIP/' || head === 'ACK ') return undefined;
  const lines = new Map<number, Buffer[]>();
  let eol = raw.indexOf(0x0a, pos);
  while (eol >= 0) {
    const start = eol + 1;
    if (start >= raw.length || raw[start] === 0x0d || raw[start] === 0x0a) break;
    eol = raw.indexOf(0x0a, start);
    // Folded continuation lines (starting with SP/HT) belong to the header line (§7.3.1): a
    // Via folded before its branch must be echoed whole or the client cannot match the answer.
    while (eol >= 0 && eol + 1 < raw.length && (raw[eol + 1] === 0x20 || raw[eol + 1] === 0x09)) {
      eol = raw.indexOf(0x0a, eol + 1);
    }
    const end = eol < 0 ? raw.length : eol + 1;
    if (raw[start] === 0x20 || raw[start] === 0x09) continue;
    const colon = raw.indexOf(0x3a, start);
    if (colon < 0 || colon >= end) continue;
    let ne = colon;
    while (ne > start && (raw[ne - 1] === 0x20 || raw[ne - 1] === 0x09)) ne--;
    const id = headerIdFromBytes(raw, start, ne);
    if (!(NEEDED as readonly number[]).includes(id)) continue;
    const list = lines.get(id) ?? [];
    list.push(raw.subarray(start, end));
    lines.set(id, list);
  }
  const parts: Buffer[] = [Buffer.from(`SIP/2.0 ${err.status} ${phraseOf(err)}\r\n`)];
  for (const id of NEEDED) {
    const l = lines.get(id);
    if (l === undefined) return undefined;
    // Only Via may repeat; a duplicated single header (multi01) is echoed once.
    for (const line of id === H.VIA ? l : l.slice(0, 1)) {
      const text = line[line.length - 1] === 0x0a ? line : Buffer.concat([line, Buffer.from('\r\n')]);
      if (id === H.TO && !hasTagParam(text)) {
        const body = text.toString('latin1').replace(/\r?\n$/, '');
        parts.push(Buffer.from(`${body};tag=${toTag}\r\n`, 'latin1'));
      } else parts.push(text);
    }
  }
  parts.push(Buffer.from('Content-Length: 0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** A `tag` header parameter on a To line (not a `;tag=` inside the `<URI>`), any case. */
function hasTagParam(line: Buffer): boolean {
  const text = line.toString('latin1');
  const gt = text.lastIndexOf('>');
  return /;\s*tag\s*=/i.test(gt < 0 ? text : text.slice(gt + 1));
}
