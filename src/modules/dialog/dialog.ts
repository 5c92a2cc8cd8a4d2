/**
 * One tracked call (Kamailio dialog module's dlg_cell): identifiers, state, the two sides'
 * targets and route sets (to send BYE to both), timestamps, dialog variables and profiles.
 *
 * States are Kamailio's numbers, as dlg_list shows them: 1 unconfirmed (INVITE seen, no reply
 * with a To tag), 2 early (1xx with a To tag), 3 confirmed (2xx, no ACK yet), 4 confirmed (ACK
 * seen), 5 deleted (ended).
 */
import type { DialogSlot } from '../../proxy/script_context.ts';
import { isParseError } from '../../sip/errors.ts';
import type { SipMessage } from '../../sip/message.ts';
import { routeValue } from '../uac/client.ts';

export const DLG_UNCONFIRMED = 1;
export const DLG_EARLY = 2;
export const DLG_CONFIRMED_NA = 3;
export const DLG_CONFIRMED = 4;
export const DLG_DELETED = 5;

/** Who or what ended a call (the `hangup` field of call records). */
export type EndedBy = 'caller' | 'callee' | 'timeout' | 'mi' | 'script' | 'server' | 'none';

export interface DialogOwner {
  /** True when the URI is one of ours (to find our own Record-Route entries). */
  isMyself(uri: string): boolean;
  onEarly(d: Dialog): void;
  onConfirmed(d: Dialog, wasEarly: boolean): void;
  /** A final ≥ 300 went upstream (or the transaction ended unanswered). */
  onFailed(d: Dialog, status: number, reason: string): void;
}

export class Dialog implements DialogSlot {
  /** Kamailio's h_entry:h_id, here one increasing id. */
  readonly id: number;
  readonly callId: string;
  readonly fromTag: string;
  toTag: string | undefined = undefined;
  /** From / To header values of the INVITE (To gets its tag from the 2xx). */
  readonly fromHeader: string;
  toHeader: string;
  readonly fromUri: string;
  readonly toUri: string;
  /** Request-URI as received, and as relayed on the answered branch (the callee's target). */
  readonly requestUri: string;
  /** Caller side: its Contact, the route set towards it (the INVITE's Record-Route, in order). */
  readonly callerContact: string;
  readonly callerRouteSet: readonly string[];
  /** Callee side, from the 2xx: its Contact and the route set towards it. */
  calleeContact: string | undefined = undefined;
  calleeRouteSet: readonly string[] = [];
  /** Highest CSeq seen from each side (BYE from us uses the next). */
  callerCseq: number;
  calleeCseq = 0;
  readonly initialCseq: number;
  /** `udp:1.2.3.4:5060` the INVITE came from, and the listener it arrived on. */
  readonly source: string;
  readonly socket: string;
  state = DLG_UNCONFIRMED;
  readonly startTs: number;
  answerTs: number | undefined = undefined;
  endTs: number | undefined = undefined;
  /** Final status: 200 for an answered call, the failure status otherwise. */
  status = 0;
  reason = '';
  endedBy: EndedBy | undefined = undefined;
  /** Lifetime, ms from creation (confirmed dialogs: from the answer). */
  lifetimeMs: number;
  timer: NodeJS.Timeout | undefined = undefined;
  /** When the lifetime ends, epoch ms. */
  expiresAt = 0;
  /** $dlg_var(name). */
  readonly vars = new Map<string, string>();
  /** Profiles the dialog is in: [name, value] ('' for profiles without value). */
  readonly profiles: Array<[string, string]> = [];
  /** Set by dlg_manage() / track_all; profile-only dialogs are tracked the same way. */
  private readonly owner: DialogOwner;

  constructor(
    id: number,
    req: SipMessage,
    source: string,
    socket: string,
    lifetimeMs: number,
    owner: DialogOwner,
  ) {
    this.id = id;
    this.owner = owner;
    this.callId = req.callId;
    this.fromTag = req.fromTag ?? '';
    this.fromHeader = req.getHeader('From') ?? '';
    this.toHeader = req.getHeader('To') ?? '';
    const f = req.from();
    const t = req.to();
    this.fromUri = isParseError(f) ? '' : f.uriText;
    this.toUri = isParseError(t) ? '' : t.uriText;
    this.requestUri = req.ruri;
    const c = req.contacts();
    this.callerContact =
      c === undefined || isParseError(c) || c.contacts.length === 0 ? this.fromUri : c.contacts[0]!.uriText;
    const rr = req.recordRoutes();
    this.callerRouteSet = isParseError(rr) ? [] : rr.map(routeValue);
    this.callerCseq = req.cseq;
    this.initialCseq = req.cseq;
    this.source = source;
    this.socket = socket;
    this.startTs = Date.now();
    this.lifetimeMs = lifetimeMs;
  }

  get ended(): boolean {
    return this.state === DLG_DELETED;
  }

  /** A response to the initial INVITE, on any branch (ProxyTransaction.onResponse). */
  onReply(res: SipMessage): void {
    if (this.state >= DLG_CONFIRMED_NA || res.cseq !== this.initialCseq || res.cseqMethod !== 'INVITE')
      return;
    const status = res.status;
    if (status < 200) {
      if (status > 100 && res.toTag !== undefined && this.state === DLG_UNCONFIRMED) {
        this.state = DLG_EARLY;
        this.toTag = res.toTag;
        this.owner.onEarly(this);
      }
      return;
    }
    if (status >= 300) return; // the final sent upstream decides (onFinalSent)
    this.toTag = res.toTag;
    this.toHeader = res.getHeader('To') ?? this.toHeader;
    const c = res.contacts();
    if (c !== undefined && !isParseError(c) && c.contacts.length > 0)
      this.calleeContact = c.contacts[0]!.uriText;
    const rr = res.recordRoutes();
    if (!isParseError(rr)) {
      // The 2xx's Record-Route: entries added below us, ours, then the caller side's.
      const below: string[] = [];
      for (const na of rr) {
        if (this.owner.isMyself(na.uriText)) break;
        below.push(routeValue(na));
      }
      this.calleeRouteSet = below.length === rr.length ? [] : below.reverse();
    }
    this.confirm(status, res.reason);
  }

  private confirm(status: number, reason: string): void {
    const wasEarly = this.state === DLG_EARLY;
    this.state = DLG_CONFIRMED_NA;
    this.status = status;
    this.reason = reason;
    this.answerTs = Date.now();
    this.owner.onConfirmed(this, wasEarly);
  }

  /** A final response went upstream for the INVITE (every path: relayed, local, failure route). */
  onFinalSent(status: number, reason: string): void {
    if (this.state >= DLG_CONFIRMED_NA) return;
    if (status < 300) {
      this.confirm(status, reason);
      return;
    }
    this.owner.onFailed(this, status, reason);
  }

  /** Which side sent an in-dialog request: 'caller', 'callee', or undefined when the tags do not match. */
  sideOf(req: SipMessage): 'caller' | 'callee' | undefined {
    const ft = req.fromTag;
    const tt = req.toTag;
    if (ft === this.fromTag && (this.toTag === undefined || tt === this.toTag)) return 'caller';
    if (this.toTag !== undefined && ft === this.toTag && tt === this.fromTag) return 'callee';
    return undefined;
  }

  durationS(now = Date.now()): number {
    if (this.answerTs === undefined) return 0;
    return Math.round(((this.endTs ?? now) - this.answerTs) / 1000);
  }
}
