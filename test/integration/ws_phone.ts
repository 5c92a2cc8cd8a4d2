/**
 * A minimal SIP-over-WebSocket phone for tests (RFC 7118, in the manner of JsSIP / SIP.js): one
 * WebSocket connection with the `sip` subprotocol, a random `.invalid` host in its Via and
 * Contact, REGISTER, answering an INVITE and hanging up along the dialog's route set. Built on
 * the `ws` package and Junction's own SIP builders and parser.
 */

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { buildRequest, buildResponse, newBranch, newCallId, newTag } from '../../src/sip/build.ts';
import { isParseError } from '../../src/sip/errors.ts';
import type { SipMessage } from '../../src/sip/message.ts';
import { parseMessage } from '../../src/sip/parse_message.ts';

export interface Dialog {
  callId: string;
  localTag: string;
  /** The caller's From header value (our To in requests we send). */
  remote: string;
  /** Our To header value with our tag (our From in requests we send). */
  local: string;
  remoteTarget: string;
  /** Route set for requests we send (the INVITE's Record-Route, in order: we are the callee). */
  routes: string[];
  cseq: number;
}

export class WsPhone {
  readonly ws: WebSocket;
  readonly user: string;
  readonly domain: string;
  readonly host = `${randomBytes(6).toString('hex')}.invalid`;
  readonly transport: 'WS' | 'WSS';
  private readonly inbox: SipMessage[] = [];
  private readonly waiters: Array<{ match: (m: SipMessage) => boolean; done: (m: SipMessage) => void }> = [];
  private cseq = 1;

  private constructor(ws: WebSocket, user: string, domain: string, secure: boolean) {
    this.ws = ws;
    this.user = user;
    this.domain = domain;
    this.transport = secure ? 'WSS' : 'WS';
    ws.on('message', (data: Buffer) => {
      const m = parseMessage(data, { datagram: true });
      if (isParseError(m)) return;
      const i = this.waiters.findIndex((w) => w.match(m));
      if (i >= 0) this.waiters.splice(i, 1)[0].done(m);
      else this.inbox.push(m);
    });
    ws.on('error', () => undefined);
  }

  static async connect(url: string, user: string, domain: string): Promise<WsPhone> {
    const ws = new WebSocket(url, 'sip', { rejectUnauthorized: false });
    await once(ws, 'open');
    return new WsPhone(ws, user, domain, url.startsWith('wss:'));
  }

  get contact(): string {
    return `<sip:${this.user}@${this.host};transport=ws>`;
  }

  private via(): string {
    return `SIP/2.0/${this.transport} ${this.host};branch=${newBranch()}`;
  }

  /** The next message matching `match` (already received, or within `timeoutMs`). */
  next(match: (m: SipMessage) => boolean, what: string, timeoutMs = 5000): Promise<SipMessage> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = {
        match,
        done: (m: SipMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`phone ${this.user}: timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  nextRequest(method: string, timeoutMs?: number): Promise<SipMessage> {
    return this.next((m) => m.isRequest && m.method === method, method, timeoutMs);
  }

  /** The final response to the request with this Call-ID and CSeq method. */
  finalResponse(callId: string, method: string, timeoutMs?: number): Promise<SipMessage> {
    return this.next(
      (m) => !m.isRequest && m.status >= 200 && m.callId === callId && m.cseqMethod === method,
      `a final response to ${method}`,
      timeoutMs,
    );
  }

  send(data: Buffer): void {
    this.ws.send(data);
  }

  async register(expires = 600): Promise<SipMessage> {
    const callId = newCallId(this.host);
    const aor = `<sip:${this.user}@${this.domain}>`;
    this.send(
      buildRequest({
        method: 'REGISTER',
        uri: `sip:${this.domain}`,
        via: [this.via()],
        from: `${aor};tag=${newTag()}`,
        to: aor,
        callId,
        cseq: this.cseq++,
        contact: this.contact,
        headers: [['Expires', String(expires)]],
      }),
    );
    return this.finalResponse(callId, 'REGISTER');
  }

  /** Ring and answer an INVITE; the dialog for hanging up. */
  answer(invite: SipMessage): Dialog {
    const tag = newTag();
    this.send(buildResponse(invite, 180, 'Ringing', { toTag: tag, copyRecordRoute: true }));
    this.send(
      buildResponse(invite, 200, 'OK', {
        toTag: tag,
        copyRecordRoute: true,
        headers: [['Contact', this.contact]],
        contentType: 'application/sdp',
        body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n',
      }),
    );
    const rr = invite.recordRoutes();
    const contacts = invite.contacts();
    const first = contacts === undefined || isParseError(contacts) ? undefined : contacts.contacts[0];
    if (first === undefined || isParseError(rr))
      throw new Error('INVITE without a usable Contact / Record-Route');
    return {
      callId: invite.callId,
      localTag: tag,
      remote: invite.getHeader('From') ?? '',
      local: `${invite.getHeader('To') ?? ''};tag=${tag}`,
      remoteTarget: first.uriText,
      routes: rr.map((r) => `<${r.uriText}>`),
      cseq: 1,
    };
  }

  /** Answer a request with a status (no body). */
  reply(req: SipMessage, status: number): void {
    this.send(buildResponse(req, status));
  }

  /** Hang up: BYE along the route set; resolves with the final response. */
  async bye(d: Dialog): Promise<SipMessage> {
    this.send(
      buildRequest({
        method: 'BYE',
        uri: d.remoteTarget,
        via: [this.via()],
        from: d.local,
        to: d.remote,
        callId: d.callId,
        cseq: ++d.cseq,
        route: d.routes,
      }),
    );
    return this.finalResponse(d.callId, 'BYE');
  }

  close(): void {
    this.ws.terminate();
  }
}
