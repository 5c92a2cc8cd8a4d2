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
import { parseNameAddr, parseNameAddrList } from '../../sip/name_addr.ts';
import type { NameAddr } from '../../sip/types.ts';
import { routeValue } from '../uac/client.ts';

/** The URI of a From / To value ('' when it does not parse). */
function uriOf(value: string): string {
  const r = parseNameAddr(value, 0, false);
  return isParseError(r) ? '' : r.value.uriText;
}

/** The first URI of a Contact value (undefined when absent, `*` or unparsable). */
function firstUri(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const l = parseNameAddrList(value);
  return isParseError(l) || l.length === 0 ? undefined : l[0]!.uriText;
}

/** Every name-addr of header values that may each hold a comma list. */
function nameAddrs(values: readonly string[]): NameAddr[] {
  const out: NameAddr[] = [];
  for (const v of values) {
    const l = parseNameAddrList(v);
    if (!isParseError(l)) out.push(...l);
  }
  return out;
}

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
  /** Request-URI as received. */
  readonly requestUri: string;
  /**
   * Contact and Record-Route values as received (INVITE: the caller's; 2xx: the callee's), parsed
   * only when needed (BYE from us, dlg_list, call records): creating a dialog parses nothing.
   */
  private readonly callerContactRaw: string | undefined;
  private readonly callerRrRaw: readonly string[];
  private calleeContactRaw: string | undefined = undefined;
  private calleeRrRaw: readonly string[] = [];
  private memo: { from?: string; to?: string } = {};
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
    this.requestUri = req.ruri;
    this.callerContactRaw = req.getHeader('Contact');
    this.callerRrRaw = req.getHeaders('Record-Route');
    this.callerCseq = req.cseq;
    this.initialCseq = req.cseq;
    this.source = source;
    this.socket = socket;
    this.startTs = Date.now();
    this.lifetimeMs = lifetimeMs;
  }

  get fromUri(): string {
    this.memo.from ??= uriOf(this.fromHeader);
    return this.memo.from;
  }

  get toUri(): string {
    this.memo.to ??= uriOf(this.toHeader);
    return this.memo.to;
  }

  /** The caller's Contact (its From URI when it sent none). */
  get callerContact(): string {
    return firstUri(this.callerContactRaw) ?? this.fromUri;
  }

  /** The route set towards the caller: the INVITE's Record-Route, in order. */
  get callerRouteSet(): string[] {
    return nameAddrs(this.callerRrRaw).map(routeValue);
  }

  /** The callee's Contact (from the 2xx). */
  get calleeContact(): string | undefined {
    return firstUri(this.calleeContactRaw);
  }

  /**
   * The route set towards the callee: the 2xx's Record-Route holds the entries added below us,
   * ours, then the caller side's; the ones below us, reversed. Empty when we did not
   * record-route (then in-dialog requests do not pass through us anyway).
   */
  get calleeRouteSet(): string[] {
    const rr = nameAddrs(this.calleeRrRaw);
    const below: string[] = [];
    for (const na of rr) {
      if (this.owner.isMyself(na.uriText)) break;
      below.push(routeValue(na));
    }
    return below.length === rr.length ? [] : below.reverse();
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
    this.calleeContactRaw = res.getHeader('Contact');
    this.calleeRrRaw = res.getHeaders('Record-Route');
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
