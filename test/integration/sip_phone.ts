/**
 * A minimal SIP phone for tests: REGISTER, answering an INVITE and hanging up along the dialog's
 * route set, over WebSocket (RFC 7118, in the manner of JsSIP / SIP.js: one connection with the
 * `sip` subprotocol, a random `.invalid` host in Via and Contact; built on the `ws` package) or
 * over UDP (a phone behind NAT: its own private address in Via and Contact). Junction's own SIP
 * builders and parser do the rest.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
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

/** How a phone reaches its proxy. */
interface Link {
  /** Via transport token. */
  transport: 'UDP' | 'WS' | 'WSS';
  /** Via sent-by and Contact host[:port]. */
  host: string;
  /** Contact URI parameters (`;transport=ws`). */
  contactParams: string;
  send(data: Buffer): void;
  close(): void;
}

export class SipPhone {
  readonly user: string;
  readonly domain: string;
  private readonly link: Link;
  private readonly inbox: SipMessage[] = [];
  private readonly waiters: Array<{ match: (m: SipMessage) => boolean; done: (m: SipMessage) => void }> = [];
  private cseq = 1;

  private constructor(link: Link, user: string, domain: string) {
    this.link = link;
    this.user = user;
    this.domain = domain;
  }

  private receive(data: Buffer): void {
    const m = parseMessage(data, { datagram: true });
    if (isParseError(m)) return;
    const i = this.waiters.findIndex((w) => w.match(m));
    if (i >= 0) this.waiters.splice(i, 1)[0].done(m);
    else this.inbox.push(m);
  }

  /** A WebSocket phone (`ws://` or `wss://` URL; certificates are not checked). */
  static async connect(url: string, user: string, domain: string): Promise<SipPhone> {
    const ws = new WebSocket(url, 'sip', { rejectUnauthorized: false });
    await once(ws, 'open');
    const secure = url.startsWith('wss:');
    const phone = new SipPhone(
      {
        transport: secure ? 'WSS' : 'WS',
        host: `${randomBytes(6).toString('hex')}.invalid`,
        contactParams: ';transport=ws',
        send: (d) => ws.send(d),
        close: () => ws.terminate(),
      },
      user,
      domain,
    );
    ws.on('message', (data: Buffer) => phone.receive(data));
    ws.on('error', () => undefined);
    return phone;
  }

  /** A UDP phone bound to `address:port`, talking to the proxy at `proxy`. */
  static async udp(
    bind: { address: string; port: number },
    proxy: { address: string; port: number },
    user: string,
    domain: string,
  ): Promise<SipPhone> {
    const sock = createSocket('udp4');
    sock.bind(bind.port, bind.address);
    await once(sock, 'listening');
    const phone = new SipPhone(
      {
        transport: 'UDP',
        host: `${bind.address}:${bind.port}`,
        contactParams: '',
        send: (d) => sock.send(d, proxy.port, proxy.address),
        close: () => sock.close(),
      },
      user,
      domain,
    );
    sock.on('message', (data: Buffer) => phone.receive(data));
    return phone;
  }

  get contact(): string {
    return `<sip:${this.user}@${this.link.host}${this.link.contactParams}>`;
  }

  private via(): string {
    const rport = this.link.transport === 'UDP' ? ';rport' : '';
    return `SIP/2.0/${this.link.transport} ${this.link.host}${rport};branch=${newBranch()}`;
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
    this.link.send(data);
  }

  async register(expires = 600): Promise<SipMessage> {
    const callId = newCallId(this.link.host.split(':')[0]);
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

  /**
   * Call `uri` (through the proxy): INVITE, wait for the final response, ACK a 2xx along the route
   * set. The dialog (for bye) and the final response.
   */
  async call(uri: string, timeoutMs = 10_000): Promise<{ dialog: Dialog; final: SipMessage }> {
    const callId = newCallId(this.link.host.split(':')[0]);
    const from = `<sip:${this.user}@${this.domain}>;tag=${newTag()}`;
    const cseq = this.cseq++;
    this.send(
      buildRequest({
        method: 'INVITE',
        uri,
        via: [this.via()],
        from,
        to: `<${uri}>`,
        callId,
        cseq,
        contact: this.contact,
        contentType: 'application/sdp',
        body: 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n',
      }),
    );
    const final = await this.finalResponse(callId, 'INVITE', timeoutMs);
    const rr = final.recordRoutes();
    const contacts = final.contacts();
    const target = contacts === undefined || isParseError(contacts) ? undefined : contacts.contacts[0];
    const dialog: Dialog = {
      callId,
      localTag: from.slice(from.lastIndexOf('=') + 1),
      remote: final.getHeader('To') ?? '',
      local: from,
      remoteTarget: target?.uriText ?? uri,
      // The caller's route set is the Record-Route list reversed (RFC 3261 §12.1.2).
      routes: isParseError(rr) ? [] : rr.map((r) => `<${r.uriText}>`).reverse(),
      cseq,
    };
    if (final.status >= 200 && final.status < 300) {
      this.send(
        buildRequest({
          method: 'ACK',
          uri: dialog.remoteTarget,
          via: [this.via()],
          from: dialog.local,
          to: dialog.remote,
          callId,
          cseq,
          route: dialog.routes,
        }),
      );
    }
    return { dialog, final };
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
    this.link.close();
  }
}
