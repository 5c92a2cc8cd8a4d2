/**
 * `t_uac_dlg` (SER FIFO / OpenSIPS MI; Kamailio `tm.t_uac_start`): send any request through the
 * transaction layer and answer with its final status, as OpenSIPS does:
 * `{ "Status": "200 OK", "Message": "<the final reply>" }`. A 2xx to an INVITE is ACKed (the
 * dialog itself is the caller's: send the BYE with another t_uac_dlg, as SER's ctd.sh did).
 *
 * Headers are given as text, one per line (SER style), From and To required; Call-ID, CSeq,
 * Max-Forwards and a From tag are added when missing, Via always. The request goes through the
 * server's UAC (src/modules/uac/client.ts): a 401/407 is answered with the configured credentials.
 */
import {
  dialogFromResponse,
  Uac,
  UacError,
  type UacOutcome,
  type UacPort,
  uac,
} from '../modules/uac/client.ts';
import { type MiCommand, MiError } from './command.ts';

export type { UacPort };

export interface UacResult {
  readonly Status: string;
  readonly Message?: string;
}

const METHOD_RE = /^[A-Za-z!%*_+`'~.-]+$/;
const MANAGED = new Set(['via', 'v', 'content-length', 'l']);

/** `Name: value` lines → pairs (folded lines joined); CR/LF never reach a header value. */
export function parseHeaderLines(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '' || raw === '.') continue;
    if ((raw.startsWith(' ') || raw.startsWith('\t')) && out.length > 0) {
      const last = out[out.length - 1]!;
      last[1] = `${last[1]} ${raw.trim()}`;
      continue;
    }
    const colon = raw.indexOf(':');
    if (colon <= 0) throw new MiError(400, `bad header line: ${JSON.stringify(raw)}`);
    const name = raw.slice(0, colon).trim();
    if (!/^[A-Za-z0-9!%*_+`'~.-]+$/.test(name))
      throw new MiError(400, `bad header name: ${JSON.stringify(name)}`);
    out.push([name, raw.slice(colon + 1).trim()]);
  }
  return out;
}

function take(headers: Array<[string, string]>, ...names: string[]): string | undefined {
  const i = headers.findIndex(([n]) => names.includes(n.toLowerCase()));
  if (i < 0) return undefined;
  const v = headers[i]![1];
  headers.splice(i, 1);
  return v;
}

function headersText(h: unknown): string {
  if (h === undefined || h === null) return '';
  if (Array.isArray(h)) return h.map(String).join('\n');
  if (typeof h === 'object') {
    return Object.entries(h as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join('\n');
  }
  return String(h);
}

export async function sendUacRequest(
  port: UacPort,
  p: Readonly<Record<string, unknown>>,
): Promise<UacResult> {
  const method = String(p.method).toUpperCase();
  if (!METHOD_RE.test(method) || method === 'ACK' || method === 'CANCEL') {
    throw new MiError(
      400,
      `bad method ${JSON.stringify(p.method)} (ACK and CANCEL are not transactions of their own)`,
    );
  }
  const ruri = String(p.ruri).trim();
  if (/[\s]/.test(ruri)) throw new MiError(400, 'bad Request-URI');
  const nextHopText =
    typeof p.next_hop === 'string' && p.next_hop !== '.' && p.next_hop.trim() !== ''
      ? p.next_hop.trim()
      : undefined;
  const headers = parseHeaderLines(headersText(p.headers));
  const from = take(headers, 'from', 'f');
  const to = take(headers, 'to', 't');
  if (from === undefined || to === undefined) throw new MiError(400, 'From and To headers are required');
  const callId = take(headers, 'call-id', 'i');
  const cseqText = take(headers, 'cseq');
  let cseq = 1;
  if (cseqText !== undefined) {
    const n = Number(cseqText.trim().split(/\s+/)[0]);
    if (!Number.isInteger(n) || n < 0 || n > 2 ** 31)
      throw new MiError(400, `bad CSeq ${JSON.stringify(cseqText)}`);
    cseq = n;
  }
  const mf = take(headers, 'max-forwards');
  const contentType = take(headers, 'content-type', 'c');
  const rest = headers.filter(([n]) => !MANAGED.has(n.toLowerCase()));
  const body = typeof p.body === 'string' && p.body !== '' ? p.body : undefined;
  // The server's UAC (with the configured credentials) when it runs; else one over this port.
  const client = uac() ?? new Uac(port);
  let out: UacOutcome;
  try {
    out = await client.send({
      method,
      ruri,
      from,
      to,
      cseq,
      ...(callId === undefined ? {} : { callId }),
      ...(nextHopText === undefined
        ? {}
        : { nextHop: nextHopText.startsWith('<') ? nextHopText.slice(1, -1) : nextHopText }),
      ...(mf === undefined ? {} : { maxForwards: Number(mf) || 70 }),
      headers: rest,
      ...(body === undefined ? {} : { body, contentType: contentType ?? 'text/plain' }),
    });
  } catch (e) {
    if (e instanceof UacError) throw new MiError(e.status, e.message);
    throw e;
  }
  if (method === 'INVITE' && out.status >= 200 && out.status < 300) {
    const dialog = dialogFromResponse(out);
    if (dialog !== undefined) client.sendAck(dialog, out);
  }
  return out.response === undefined
    ? { Status: `${out.status} ${out.reason}` }
    : { Status: `${out.status} ${out.reason}`, Message: out.response.toString() };
}

export function uacCommand(port: UacPort): MiCommand {
  return {
    name: 't_uac_dlg',
    aliases: ['tm.t_uac_start', 'tm.t_uac_wait'],
    help: 'Send a request (method, Request-URI, headers, optional next hop and body); returns the final reply status.',
    recipes: [
      [
        { name: 'method', type: 'string' },
        { name: 'ruri', type: 'string' },
        { name: 'headers', type: 'json' },
        { name: 'next_hop', type: 'string', optional: true },
        { name: 'socket', type: 'string', optional: true },
        { name: 'body', type: 'string', optional: true },
      ],
    ],
    text: {
      lines: ['method', 'ruri', 'next_hop'],
      blocks: ['headers', 'body'],
      reply(result) {
        const r = result as UacResult;
        const sp = r.Status.indexOf(' ');
        const code = Number(r.Status.slice(0, sp));
        const lines = r.Message === undefined ? [] : r.Message.replace(/\r\n$/, '').split('\r\n');
        return { code, reason: r.Status.slice(sp + 1), lines };
      },
    },
    handler: (p) => sendUacRequest(port, p),
  };
}
