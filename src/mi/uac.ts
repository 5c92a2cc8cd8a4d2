/**
 * `t_uac_dlg` (SER FIFO / OpenSIPS MI; Kamailio `tm.t_uac_start`): send any request through the
 * transaction layer and answer with its final status, as OpenSIPS does:
 * `{ "Status": "200 OK", "Message": "<the final reply>" }`. A 2xx to an INVITE is ACKed (the
 * dialog itself is the caller's: send the BYE with another t_uac_dlg, as SER's ctd.sh did).
 *
 * Headers are given as text, one per line (SER style), From and To required; Call-ID, CSeq,
 * Max-Forwards and a From tag are added when missing, Via always.
 */
import { nextHopOf, type Resolver } from '../proxy/target.ts';
import { buildAck, buildRequest, newBranch, newCallId, newTag, reasonPhrase } from '../sip/build.ts';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { ClientHandler } from '../transaction/transaction.ts';
import type { SendRequestOptions } from '../transaction/transaction_layer.ts';
import type { Endpoint, ListenerInfo } from '../transport/types.ts';
import { type MiCommand, MiError } from './command.ts';

/** What t_uac_dlg needs of the server (TransportLayer, TransactionLayer and a Resolver fit). */
export interface UacPort {
  readonly transport: {
    selectListener(dest: Endpoint): ListenerInfo | undefined;
    send(data: Buffer, dest: Endpoint, opts?: { listenerId?: number }): void;
  };
  readonly transactions: {
    sendRequest(
      data: Buffer,
      request: SipMessage,
      dest: Endpoint,
      handler: ClientHandler,
      opts?: SendRequestOptions,
    ): unknown;
  };
  readonly resolver: Pick<Resolver, 'resolve'>;
}

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
      : ruri;
  const hop = nextHopOf(nextHopText.startsWith('<') ? nextHopText.slice(1, -1) : nextHopText);
  if (isParseError(hop)) throw new MiError(400, `bad next hop ${JSON.stringify(nextHopText)}: ${hop.phrase}`);
  const resolved = await port.resolver.resolve(hop);
  if (resolved === null) throw new MiError(478, `cannot resolve ${hop.host}`);
  const dest: Endpoint = resolved;
  const listener = port.transport.selectListener(dest);
  if (listener === undefined) throw new MiError(500, `no ${dest.protocol} listener to reach ${dest.address}`);

  const headers = parseHeaderLines(headersText(p.headers));
  let from = take(headers, 'from', 'f');
  const to = take(headers, 'to', 't');
  if (from === undefined || to === undefined) throw new MiError(400, 'From and To headers are required');
  if (!/;\s*tag=/i.test(from)) from = `${from};tag=${newTag()}`;
  const callId = take(headers, 'call-id', 'i') ?? newCallId(listener.advertisedHost);
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
  const host = listener.advertisedHost.includes(':')
    ? `[${listener.advertisedHost}]`
    : listener.advertisedHost;
  const via = `SIP/2.0/${dest.protocol.toUpperCase()} ${host}:${listener.advertisedPort};branch=${newBranch()};rport`;
  const data = buildRequest({
    method,
    uri: ruri,
    via: [via],
    from,
    to,
    callId,
    cseq,
    ...(mf === undefined ? {} : { maxForwards: Number(mf) || 70 }),
    headers: rest,
    ...(body === undefined ? {} : { body, contentType: contentType ?? 'text/plain' }),
  });
  const msg = parseMessage(data);
  if (isParseError(msg)) throw new MiError(400, `the request does not parse: ${msg.phrase}`);

  return new Promise<UacResult>((resolve) => {
    let done = false;
    const finish = (r: UacResult): void => {
      if (done) return;
      done = true;
      resolve(r);
    };
    const handler: ClientHandler = {
      onProvisional: () => undefined,
      onFinal: (res) => {
        if (method === 'INVITE' && res.status >= 200 && res.status < 300) {
          port.transport.send(buildAck(msg, res), dest, { listenerId: listener.id });
        }
        finish({ Status: `${res.status} ${res.reason}`, Message: res.toString() });
      },
      onTimeout: () => finish({ Status: `408 ${reasonPhrase(408)}` }),
      onTransportError: (_tx, err) => finish({ Status: `503 ${reasonPhrase(503)}`, Message: err.message }),
    };
    try {
      port.transactions.sendRequest(data, msg, dest, handler, { listenerId: listener.id });
    } catch (e) {
      throw new MiError(500, `cannot send: ${(e as Error).message}`);
    }
  });
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
