/**
 * The server's own user agent client (RFC 3261 §8.1, §12.1.2, §12.2.1): sends a request through
 * the transaction layer and reports its final response; retries once per realm with digest
 * credentials from the config on 401/407 (§22.2); builds the dialog a 2xx to an INVITE creates
 * (local and remote tags, remote target from the Contact, route set from the Record-Route,
 * CSeq), so that in-dialog requests (ACK, REFER, BYE, …) carry correct dialog state.
 *
 * Used by t_uac_dlg (src/mi/uac.ts), KSR.uac.uac_req_send, the dialog module (BYE to both sides
 * of a call) and click-to-dial (ctd.ts).
 */
import { randomBytes } from 'node:crypto';
import { nextHopOf, type Resolver } from '../../proxy/target.ts';
import { buildRequest, newBranch, newCallId, newTag, reasonPhrase } from '../../sip/build.ts';
import { isParseError } from '../../sip/errors.ts';
import type { SipMessage } from '../../sip/message.ts';
import { parseMessage } from '../../sip/parse_message.ts';
import type { Credentials, NameAddr } from '../../sip/types.ts';
import type { Endpoint, ListenerInfo } from '../../transport/types.ts';
import { type DigestAlgorithm, digestResponse, ha1 } from '../auth/digest.ts';

/** What the UAC needs of the server (TransportLayer, TransactionLayer and a Resolver fit). */
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
      handler: {
        onProvisional(res: SipMessage, tx: unknown): void;
        onFinal(res: SipMessage, tx: unknown): void;
        onTimeout(tx: unknown): void;
        onTransportError(tx: unknown, err: Error): void;
      },
      opts?: { listenerId?: number },
    ): unknown;
  };
  readonly resolver: Pick<Resolver, 'resolve'>;
}

/** Digest credentials (Kamailio uac `credential`: username, realm, password). */
export interface UacCredential {
  readonly realm: string;
  readonly username: string;
  readonly password: string;
}

export interface UacRequest {
  readonly method: string;
  readonly ruri: string;
  /** From header value; a tag is added when it has none. */
  readonly from: string;
  readonly to: string;
  readonly callId?: string;
  readonly cseq?: number;
  /** Route header values, top first (the route set of a dialog). */
  readonly route?: readonly string[];
  /** Where to send (outbound proxy / $du); default: the top Route, else the Request-URI. */
  readonly nextHop?: string;
  readonly contact?: string;
  readonly maxForwards?: number;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
  readonly contentType?: string;
  /** Answer 401/407 with the configured credentials (default true). */
  readonly authenticate?: boolean;
  /** Every provisional response (ringing …). */
  onProvisional?(res: SipMessage): void;
  /** The INVITE is on its way: `cancel()` sends a CANCEL once a provisional arrived (§9.1). */
  onStarted?(cancel: (reason?: string) => void): void;
}

export interface UacOutcome {
  readonly status: number;
  readonly reason: string;
  /** The final response (undefined for a local 408 / 503). */
  readonly response: SipMessage | undefined;
  /** The request as last sent (after an authentication retry, the retried one). */
  readonly request: SipMessage;
  /** Destination and listener used (ACKs go the same way). */
  readonly dest: Endpoint;
  readonly listenerId: number;
}

/** A send that could not start (bad URI, unresolvable host, no listener). */
export class UacError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface ClientTx {
  cancel(reason?: string): void;
}

const TAG_RE = /;\s*tag=/i;

export class Uac {
  readonly port: UacPort;
  credentials: readonly UacCredential[];
  readonly stats = { requests: 0, finals_2xx: 0, finals_failed: 0, auth_retries: 0, timeouts: 0 };

  constructor(port: UacPort, credentials: readonly UacCredential[] = []) {
    this.port = port;
    this.credentials = credentials;
  }

  /** Where a request to `hopUri` goes, and the listener it leaves from; UacError when it cannot. */
  async route(hopUri: string): Promise<{ dest: Endpoint; listener: ListenerInfo }> {
    const hop = nextHopOf(hopUri);
    if (isParseError(hop)) throw new UacError(400, `bad next hop ${JSON.stringify(hopUri)}: ${hop.phrase}`);
    const resolved = await this.port.resolver.resolve(hop);
    if (resolved === null) throw new UacError(478, `cannot resolve ${hop.host}`);
    const listener = this.port.transport.selectListener(resolved);
    if (listener === undefined)
      throw new UacError(500, `no ${resolved.protocol} listener to reach ${resolved.address}`);
    return { dest: resolved, listener };
  }

  /** `sip:user@host:port` of the listener a request to `uri` leaves from (Contact, controller URI). */
  async localUri(user: string, uri: string): Promise<string> {
    const { listener } = await this.route(uri);
    const h = listener.advertisedHost;
    return `sip:${user}@${h.includes(':') ? `[${h}]` : h}:${listener.advertisedPort}`;
  }

  /** Send `r` and resolve with its final outcome (never rejects once it went out). */
  async send(r: UacRequest): Promise<UacOutcome> {
    const hopUri =
      r.nextHop ?? (r.route !== undefined && r.route.length > 0 ? stripAngle(r.route[0]!) : r.ruri);
    const { dest, listener } = await this.route(hopUri);
    const from = TAG_RE.test(r.from) ? r.from : `${r.from};tag=${newTag()}`;
    const callId = r.callId ?? newCallId(listener.advertisedHost);
    const tried = new Set<string>();
    let cseq = r.cseq ?? 1;
    let auth: Array<[string, string]> = [];
    for (;;) {
      const msg = this.build(r, from, callId, cseq, listener, dest, auth);
      const out = await this.transact(r, msg, dest, listener.id);
      const res = out.response;
      if (res === undefined || (res.status !== 401 && res.status !== 407) || r.authenticate === false)
        return out;
      const next = this.answerChallenge(res, msg, tried);
      if (next === undefined) return out;
      this.stats.auth_retries++;
      auth = [next];
      cseq++;
    }
  }

  private build(
    r: UacRequest,
    from: string,
    callId: string,
    cseq: number,
    listener: ListenerInfo,
    dest: Endpoint,
    auth: ReadonlyArray<[string, string]>,
  ): SipMessage {
    const host = listener.advertisedHost.includes(':')
      ? `[${listener.advertisedHost}]`
      : listener.advertisedHost;
    const via = `SIP/2.0/${dest.protocol.toUpperCase()} ${host}:${listener.advertisedPort};branch=${newBranch()};rport`;
    const data = buildRequest({
      method: r.method,
      uri: r.ruri,
      via: [via],
      from,
      to: r.to,
      callId,
      cseq,
      ...(r.maxForwards === undefined ? {} : { maxForwards: r.maxForwards }),
      ...(r.route === undefined ? {} : { route: r.route }),
      ...(r.contact === undefined ? {} : { contact: r.contact }),
      headers: [...(r.headers ?? []), ...auth],
      ...(r.body === undefined ? {} : { body: r.body, contentType: r.contentType ?? 'text/plain' }),
    });
    const msg = parseMessage(data);
    if (isParseError(msg)) throw new UacError(400, `the request does not parse: ${msg.phrase}`);
    return msg;
  }

  private transact(r: UacRequest, msg: SipMessage, dest: Endpoint, listenerId: number): Promise<UacOutcome> {
    this.stats.requests++;
    return new Promise<UacOutcome>((resolve, reject) => {
      let done = false;
      const finish = (status: number, reason: string, response: SipMessage | undefined): void => {
        if (done) return;
        done = true;
        if (status >= 200 && status < 300) this.stats.finals_2xx++;
        else this.stats.finals_failed++;
        if (status === 408 && response === undefined) this.stats.timeouts++;
        resolve({ status, reason, response, request: msg, dest, listenerId });
      };
      let tx: ClientTx;
      try {
        tx = this.port.transactions.sendRequest(
          msg.raw,
          msg,
          dest,
          {
            onProvisional: (res) => r.onProvisional?.(res),
            onFinal: (res) => finish(res.status, res.reason, res),
            onTimeout: () => finish(408, reasonPhrase(408), undefined),
            onTransportError: (_tx, err) => finish(503, `${reasonPhrase(503)} (${err.message})`, undefined),
          },
          { listenerId },
        ) as ClientTx;
      } catch (e) {
        reject(new UacError(500, `cannot send: ${(e as Error).message}`));
        return;
      }
      r.onStarted?.((reason) => tx.cancel(reason));
    });
  }

  /** The Authorization / Proxy-Authorization for a challenge, once per realm; undefined when none fits. */
  private answerChallenge(
    res: SipMessage,
    req: SipMessage,
    tried: Set<string>,
  ): [string, string] | undefined {
    const proxy = res.status === 407;
    const challenges = proxy ? res.proxyAuthenticate() : res.wwwAuthenticate();
    if (isParseError(challenges)) return undefined;
    for (const c of challenges) {
      if (c.scheme.toLowerCase() !== 'digest') continue;
      const realm = c.params.get('realm') ?? '';
      if (tried.has(realm)) continue;
      const cred =
        this.credentials.find((x) => x.realm === realm) ?? this.credentials.find((x) => x.realm === '*');
      if (cred === undefined) continue;
      const value = authorization(c, cred, req.method, req.ruri);
      if (value === undefined) continue;
      tried.add(realm);
      return [proxy ? 'Proxy-Authorization' : 'Authorization', value];
    }
    return undefined;
  }

  /** Send an ACK for a 2xx (§13.2.2.4): in the dialog, same CSeq number, no transaction. */
  sendAck(dialog: UacDialog, outcome: UacOutcome, extra?: { body?: string; contentType?: string }): void {
    const msg = outcome.request;
    const ep = outcome.dest;
    const listener = this.port.transport.selectListener(ep);
    const host =
      listener === undefined
        ? '127.0.0.1'
        : listener.advertisedHost.includes(':')
          ? `[${listener.advertisedHost}]`
          : listener.advertisedHost;
    const data = buildRequest({
      method: 'ACK',
      uri: dialog.remoteTarget,
      via: [
        `SIP/2.0/${ep.protocol.toUpperCase()} ${host}:${listener?.advertisedPort ?? 5060};branch=${newBranch()};rport`,
      ],
      from: dialog.localUri,
      to: dialog.remoteUri,
      callId: dialog.callId,
      cseq: msg.cseq,
      route: dialog.routeSet,
      ...(extra?.body === undefined
        ? {}
        : { body: extra.body, contentType: extra.contentType ?? 'application/sdp' }),
    });
    const hop = dialog.routeSet.length > 0 ? stripAngle(dialog.routeSet[0]!) : dialog.remoteTarget;
    const nh = nextHopOf(hop);
    if (isParseError(nh)) return;
    const send = (dest: Endpoint | null): void => {
      if (dest === null) return;
      const l = this.port.transport.selectListener(dest);
      this.port.transport.send(data, dest, l === undefined ? {} : { listenerId: l.id });
    };
    const r = this.port.resolver.resolve(nh);
    if (r instanceof Promise) r.then(send, () => undefined);
    else send(r);
  }

  /** An in-dialog request (§12.2.1.1): remote target, route set, tags, the next local CSeq. */
  inDialog(
    dialog: UacDialog,
    method: string,
    extra: Pick<UacRequest, 'headers' | 'body' | 'contentType' | 'onProvisional' | 'onStarted'> = {},
  ): Promise<UacOutcome> {
    dialog.localCseq++;
    return this.send({
      method,
      ruri: dialog.remoteTarget,
      from: dialog.localUri,
      to: dialog.remoteUri,
      callId: dialog.callId,
      cseq: dialog.localCseq,
      route: dialog.routeSet,
      ...extra,
    });
  }
}

/** The UAC side of a dialog (§12.1.2). */
export interface UacDialog {
  readonly callId: string;
  /** From value with our tag / To value with theirs, as they go in requests we send. */
  readonly localUri: string;
  readonly remoteUri: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Contact of the 2xx. */
  readonly remoteTarget: string;
  /** Route set: the 2xx's Record-Route, reversed (§12.1.2). */
  readonly routeSet: readonly string[];
  localCseq: number;
  /** Highest CSeq of the requests the other side sent in the dialog. */
  remoteCseq: number;
}

/**
 * The dialog a 2xx to our INVITE created; undefined without a To tag. A 2xx without Contact (a
 * broken peer) gets the Request-URI as remote target.
 */
export function dialogFromResponse(outcome: UacOutcome): UacDialog | undefined {
  const res = outcome.response;
  const req = outcome.request;
  if (res === undefined || res.toTag === undefined || req.fromTag === undefined) return undefined;
  const contacts = res.contacts();
  const target =
    contacts === undefined || isParseError(contacts) || contacts.contacts.length === 0
      ? req.ruri
      : contacts.contacts[0]!.uriText;
  const rr = res.recordRoutes();
  const routeSet = isParseError(rr) ? [] : rr.map(routeValue).reverse();
  return {
    callId: req.callId,
    localUri: req.getHeader('From') ?? '',
    remoteUri: res.getHeader('To') ?? '',
    localTag: req.fromTag,
    remoteTag: res.toTag,
    remoteTarget: target,
    routeSet,
    localCseq: req.cseq,
    remoteCseq: 0,
  };
}

/** A Route value for a route-set entry (`<uri>` with its parameters). */
export function routeValue(na: NameAddr): string {
  let v = `<${na.uriText}>`;
  for (const [k, val] of na.params.entries()) v += val === undefined ? `;${k}` : `;${k}=${val}`;
  return v;
}

function stripAngle(v: string): string {
  const a = v.indexOf('<');
  const b = v.indexOf('>', a + 1);
  return a >= 0 && b > a ? v.slice(a + 1, b) : v;
}

/** Authorization value for a digest challenge (MD5 / SHA-256, qop=auth or none). */
export function authorization(
  c: Credentials,
  cred: UacCredential,
  method: string,
  uri: string,
): string | undefined {
  const alg = (c.params.get('algorithm') ?? 'MD5').toUpperCase();
  if (alg !== 'MD5' && alg !== 'SHA-256') return undefined;
  const algorithm = alg as DigestAlgorithm;
  const nonce = c.params.get('nonce');
  if (nonce === undefined) return undefined;
  const realm = c.params.get('realm') ?? '';
  const qops = (c.params.get('qop') ?? '').split(',').map((s) => s.trim().toLowerCase());
  const qop = qops.includes('auth') ? 'auth' : undefined;
  const nc = qop === undefined ? undefined : '00000001';
  const cnonce = qop === undefined ? undefined : randomBytes(8).toString('hex');
  const response = digestResponse({
    algorithm,
    ha1: ha1(algorithm, cred.username, realm, cred.password),
    nonce,
    method,
    uri,
    qop,
    nc,
    cnonce,
  });
  const q = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;
  let v = `Digest username=${q(cred.username)}, realm=${q(realm)}, nonce=${q(nonce)}, uri=${q(uri)}, response=${q(response)}, algorithm=${algorithm}`;
  if (qop !== undefined) v += `, qop=${qop}, nc=${nc}, cnonce=${q(cnonce!)}`;
  const opaque = c.params.get('opaque');
  if (opaque !== undefined) v += `, opaque=${q(opaque)}`;
  return v;
}

let current: Uac | undefined;

/** The server's UAC (installed by the server at start); undefined when none runs (unit tests). */
export function uac(): Uac | undefined {
  return current;
}

export function setUac(u: Uac | undefined): void {
  current = u;
}
