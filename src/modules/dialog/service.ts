/**
 * The dialog table (Kamailio dialog module): creates dialogs for initial INVITEs (dlg_manage(),
 * track_all), follows them through the responses and in-dialog requests the proxy sees, ends them
 * on BYE, failure, lifetime or dlg_end_dlg (BYE to both sides through the server's UAC), and keeps
 * profiles and dialog variables. Bounded by max_dialogs.
 *
 * Programmatic API (for other modules, e.g. connection / termination points):
 *
 *     const d = dialogs().forContext(ctx, true);   // the call's dialog, created on an initial INVITE
 *     dialogs().setProfile(d, 'tp', '10');         // KSR.dialog.set_dlg_profile('tp', '10')
 *     dialogs().profileSize('tp', '10');           // concurrent calls on TP 10
 *     dialogs().setVar(d, 'tp_id', '10');          // $dlg_var(tp_id), a call-record column
 *
 * The server installs one service (`setDialogs`) wired to its UAC; until then (unit tests, the
 * script harness) a default one with default parameters exists.
 */
import type { RouteContext } from '../../proxy/context.ts';
import type { ServerTxPort } from '../../proxy/core.ts';
import type { RelayState } from '../../proxy/script_context.ts';
import type { SipMessage } from '../../sip/message.ts';
import type { ReceiveInfo } from '../../transport/types.ts';
import { type Uac, UacError } from '../uac/client.ts';
import {
  Dialog,
  type DialogOwner,
  DLG_CONFIRMED,
  DLG_CONFIRMED_NA,
  DLG_DELETED,
  DLG_EARLY,
  DLG_UNCONFIRMED,
  type EndedBy,
} from './dialog.ts';
import { DIALOG_DEFAULTS, type DialogParams } from './params.ts';

export interface DialogStats {
  /** Kamailio dialog statistics. */
  active_dialogs: number;
  early_dialogs: number;
  processed_dialogs: number;
  expired_dialogs: number;
  failed_dialogs: number;
  /** Not created because the table was full (max_dialogs). */
  rejected_dialogs: number;
}

export interface DialogLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Outcome of a BYE sent to one side by the server. */
export interface ByeOutcome {
  readonly side: 'caller' | 'callee';
  readonly status: number;
  readonly reason: string;
}

type EndListener = (d: Dialog) => void;

const NOOP_LOG: DialogLogger = { info() {}, warn() {} };

export class Dialogs implements DialogOwner {
  params: DialogParams;
  readonly stats: DialogStats = {
    active_dialogs: 0,
    early_dialogs: 0,
    processed_dialogs: 0,
    expired_dialogs: 0,
    failed_dialogs: 0,
    rejected_dialogs: 0,
  };
  /** The server's UAC (BYE on dlg_end_dlg and lifetime expiry); undefined in unit tests. */
  uac: Uac | undefined;
  isMyself: (uri: string) => boolean = () => false;
  /** Stateless mode (proxy.stateless): no transaction sees the replies, nothing is tracked. */
  stateless = false;
  private readonly byId = new Map<number, Dialog>();
  private readonly byCallId = new Map<string, Dialog | Dialog[]>();
  /** profile name → value ('' without value) → dialogs. */
  private readonly profiles = new Map<string, { withValue: boolean; values: Map<string, Set<Dialog>> }>();
  private readonly endListeners: EndListener[] = [];
  /** Contexts without a transaction state (unit-test fakes): the dialog by request. */
  private readonly byRequest = new WeakMap<SipMessage, Dialog>();
  private nextId = 1;
  private log: DialogLogger;
  private warnedFull = false;

  constructor(params: Partial<DialogParams> = {}, log: DialogLogger = NOOP_LOG) {
    this.params = { ...DIALOG_DEFAULTS, ...params };
    this.log = log;
    for (const p of splitList(this.params.profiles_with_value)) this.profile(p, true);
    for (const p of splitList(this.params.profiles_no_value)) this.profile(p, false);
  }

  /** Called once per ended dialog (answered calls after BYE, failed attempts at their final). */
  onEnd(listener: EndListener): void {
    this.endListeners.push(listener);
  }

  get size(): number {
    return this.byId.size;
  }

  // ================================================================ creation and lookup

  /**
   * The dialog of the message a route runs for; with `create`, an initial INVITE in the request
   * route gets one (dlg_manage). undefined when untracked, not an INVITE, or the table is full.
   */
  forContext(ctx: RouteContext, create = false): Dialog | undefined {
    const state = stateOf(ctx);
    const existing = (state === undefined ? this.byRequest.get(ctx.request) : state.dlg) as
      | Dialog
      | undefined;
    if (existing !== undefined) return existing;
    if (!create) return undefined;
    const req = ctx.request;
    if (ctx.kind !== 'request' || req.method !== 'INVITE' || req.toTag !== undefined) return undefined;
    const d = this.create(req, ctx.info, req.tuSlot as ServerTxPort | undefined);
    if (d === undefined) return undefined;
    if (state !== undefined) state.dlg = d;
    else this.byRequest.set(req, d);
    return d;
  }

  /** A new dialog for an initial INVITE; undefined when the table is full. */
  create(req: SipMessage, info: ReceiveInfo, tx: ServerTxPort | undefined): Dialog | undefined {
    if (this.stateless) return undefined;
    if (this.byId.size >= this.params.max_dialogs) {
      this.stats.rejected_dialogs++;
      if (!this.warnedFull) {
        this.warnedFull = true;
        this.log.warn({ max_dialogs: this.params.max_dialogs }, 'dialog table full: new calls go untracked');
      }
      return undefined;
    }
    this.warnedFull = false;
    const src = info.source;
    const l = info.listener;
    const d = new Dialog(
      this.nextId++,
      req,
      `${src.protocol}:${src.address}:${src.port}`,
      `${l.protocol}:${l.address}:${l.port}`,
      this.params.default_timeout * 1000,
      this,
    );
    this.byId.set(d.id, d);
    const prev = this.byCallId.get(d.callId);
    if (prev === undefined) this.byCallId.set(d.callId, d);
    else this.byCallId.set(d.callId, Array.isArray(prev) ? [...prev, d] : [prev, d]);
    this.stats.active_dialogs++;
    this.stats.processed_dialogs++;
    this.arm(d);
    if (tx !== undefined) watchFinal(tx, d);
    return d;
  }

  /** The dialog an in-dialog request belongs to (Call-ID and both tags), and the side it came from. */
  match(req: SipMessage): { dialog: Dialog; side: 'caller' | 'callee' } | undefined {
    const entry = this.byCallId.get(req.callId);
    if (entry === undefined) return undefined;
    if (!Array.isArray(entry)) {
      const side = entry.sideOf(req);
      return side === undefined ? undefined : { dialog: entry, side };
    }
    for (const d of entry) {
      const side = d.sideOf(req);
      if (side !== undefined) return { dialog: d, side };
    }
    return undefined;
  }

  get(id: number): Dialog | undefined {
    return this.byId.get(id);
  }

  byCall(callId: string): Dialog[] {
    const e = this.byCallId.get(callId);
    return e === undefined ? [] : Array.isArray(e) ? e : [e];
  }

  list(): IterableIterator<Dialog> {
    return this.byId.values();
  }

  /**
   * The proxy's request hook (ProxyCore.requestHook): in-dialog requests find their dialog (BYE
   * ends it, ACK confirms it); initial INVITEs get one with track_all. Never consumes the request.
   */
  onRequest(req: SipMessage, info: ReceiveInfo, tx: ServerTxPort | undefined, state: RelayState): boolean {
    // Nothing tracked and nothing to track: the one check of the untracked case.
    if (this.byId.size === 0 && this.params.track_all === 0) return false;
    if (req.toTag === undefined) {
      if (this.params.track_all === 1 && req.method === 'INVITE') {
        const d = this.create(req, info, tx);
        if (d !== undefined) state.dlg = d;
      }
      return false;
    }
    const m = this.match(req);
    if (m === undefined) return false;
    const d = m.dialog;
    state.dlg = d;
    if (m.side === 'caller') {
      if (req.cseq > d.callerCseq && req.method !== 'ACK') d.callerCseq = req.cseq;
    } else if (req.cseq > d.calleeCseq) d.calleeCseq = req.cseq;
    if (req.method === 'ACK') {
      if (d.state === DLG_CONFIRMED_NA && req.cseq === d.initialCseq) d.state = DLG_CONFIRMED;
    } else if (req.method === 'BYE' && !d.ended) {
      this.end(d, m.side);
    }
    return false;
  }

  // ================================================================ DialogOwner (state changes)

  onEarly(_d: Dialog): void {
    this.stats.early_dialogs++;
  }

  onConfirmed(d: Dialog, wasEarly: boolean): void {
    if (wasEarly && this.stats.early_dialogs > 0) this.stats.early_dialogs--;
    // A confirmed call lives default_timeout from its answer.
    this.arm(d);
  }

  onFailed(d: Dialog, status: number, reason: string): void {
    d.status = status;
    d.reason = reason;
    this.stats.failed_dialogs++;
    this.end(d, 'none');
  }

  // ================================================================ ending

  /** End the dialog now (no SIP sent): release its profiles, tell the listeners. Idempotent. */
  end(d: Dialog, by: EndedBy): void {
    if (d.ended) return;
    const wasEarly = d.state === DLG_EARLY;
    d.state = DLG_DELETED;
    d.endTs = Date.now();
    d.endedBy = by;
    if (d.timer !== undefined) clearTimeout(d.timer);
    d.timer = undefined;
    this.byId.delete(d.id);
    const e = this.byCallId.get(d.callId);
    if (e === d) this.byCallId.delete(d.callId);
    else if (Array.isArray(e)) {
      const rest = e.filter((x) => x !== d);
      if (rest.length === 1) this.byCallId.set(d.callId, rest[0]!);
      else this.byCallId.set(d.callId, rest);
    }
    for (const [name, value] of d.profiles) this.profiles.get(name)?.values.get(value)?.delete(d);
    this.stats.active_dialogs--;
    if (wasEarly && this.stats.early_dialogs > 0) this.stats.early_dialogs--;
    for (const l of this.endListeners) {
      try {
        l(d);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'dialog end listener failed');
      }
    }
  }

  /**
   * dlg_end_dlg / lifetime expiry: BYE to both sides of a confirmed call (CANCEL is the caller's
   * business for an early one: it is only ended here), then the dialog ends.
   */
  async terminate(d: Dialog, by: EndedBy): Promise<ByeOutcome[]> {
    if (d.ended) return [];
    if (d.state < DLG_CONFIRMED_NA || d.toTag === undefined) {
      this.end(d, by);
      return [];
    }
    const uac = this.uac;
    // Mark it ended first: the BYEs we send must not be taken for a side hanging up.
    this.end(d, by);
    if (uac === undefined) throw new UacError(500, 'no UAC in this process: cannot send BYE');
    const byes: Array<Promise<ByeOutcome>> = [];
    if (d.calleeContact !== undefined) {
      byes.push(
        this.bye(uac, 'callee', {
          ruri: d.calleeContact,
          from: d.fromHeader,
          to: d.toHeader,
          cseq: d.callerCseq + 1,
          route: d.calleeRouteSet,
          callId: d.callId,
        }),
      );
    }
    byes.push(
      this.bye(uac, 'caller', {
        ruri: d.callerContact,
        from: d.toHeader,
        to: d.fromHeader,
        cseq: d.calleeCseq + 1,
        route: d.callerRouteSet,
        callId: d.callId,
      }),
    );
    return Promise.all(byes);
  }

  private async bye(
    uac: Uac,
    side: 'caller' | 'callee',
    r: { ruri: string; from: string; to: string; cseq: number; route: readonly string[]; callId: string },
  ): Promise<ByeOutcome> {
    try {
      const out = await uac.send({
        method: 'BYE',
        ...r,
        headers: [['Reason', 'SIP;cause=200;text="Call terminated by the server"']],
      });
      return { side, status: out.status, reason: out.reason };
    } catch (e) {
      return { side, status: e instanceof UacError ? e.status : 500, reason: (e as Error).message };
    }
  }

  private arm(d: Dialog): void {
    if (d.timer !== undefined) clearTimeout(d.timer);
    d.expiresAt = Date.now() + d.lifetimeMs;
    d.timer = setTimeout(() => this.expire(d), d.lifetimeMs);
    d.timer.unref();
  }

  /** Change a dialog's lifetime (dlg_set_timeout), counted from now. */
  setTimeout(d: Dialog, seconds: number): void {
    d.lifetimeMs = seconds * 1000;
    this.arm(d);
  }

  private expire(d: Dialog): void {
    d.timer = undefined;
    if (d.ended) return;
    this.stats.expired_dialogs++;
    this.log.info({ callId: d.callId, id: d.id }, 'dialog lifetime reached');
    if (this.params.timeout_bye === 1 && d.state >= DLG_CONFIRMED_NA) {
      void this.terminate(d, 'timeout').catch(() => undefined);
    } else {
      if (d.state < DLG_CONFIRMED_NA) {
        d.status = 408;
        d.reason = 'Request Timeout';
      }
      this.end(d, 'timeout');
    }
  }

  // ================================================================ profiles

  private profile(
    name: string,
    withValue: boolean,
  ): { withValue: boolean; values: Map<string, Set<Dialog>> } {
    let p = this.profiles.get(name);
    if (p === undefined) {
      p = { withValue, values: new Map() };
      this.profiles.set(name, p);
    }
    return p;
  }

  /** Put the dialog in a profile (set_dlg_profile); false when it has ended. */
  setProfile(d: Dialog, name: string, value = ''): boolean {
    if (d.ended) return false;
    if (d.profiles.some(([n, v]) => n === name && v === value)) return true;
    const p = this.profile(name, value !== '');
    let set = p.values.get(value);
    if (set === undefined) {
      set = new Set();
      p.values.set(value, set);
    }
    set.add(d);
    d.profiles.push([name, value]);
    return true;
  }

  /** Remove the dialog from a profile (unset_dlg_profile); false when it was not in it. */
  unsetProfile(d: Dialog, name: string, value = ''): boolean {
    const i = d.profiles.findIndex(([n, v]) => n === name && v === value);
    if (i < 0) return false;
    d.profiles.splice(i, 1);
    this.profiles.get(name)?.values.get(value)?.delete(d);
    return true;
  }

  isInProfile(d: Dialog, name: string, value?: string): boolean {
    return d.profiles.some(([n, v]) => n === name && (value === undefined || v === value));
  }

  /** Active dialogs in a profile: with a value, those with that value; without, all of them. */
  profileSize(name: string, value?: string): number {
    const p = this.profiles.get(name);
    if (p === undefined) return 0;
    if (value !== undefined && value !== '') return p.values.get(value)?.size ?? 0;
    let n = 0;
    for (const s of p.values.values()) n += s.size;
    return n;
  }

  /** value → count for every value in a profile (profile_get_values). */
  profileValues(name: string): Array<{ value: string; count: number }> {
    const p = this.profiles.get(name);
    if (p === undefined) return [];
    const out: Array<{ value: string; count: number }> = [];
    for (const [value, s] of p.values) if (s.size > 0) out.push({ value, count: s.size });
    return out;
  }

  hasProfile(name: string): boolean {
    return this.profiles.has(name);
  }

  profileNames(): string[] {
    return [...this.profiles.keys()];
  }

  /** The dialogs in a profile (profile_list_dlgs). */
  profileDialogs(name: string, value?: string): Dialog[] {
    const p = this.profiles.get(name);
    if (p === undefined) return [];
    const out: Dialog[] = [];
    for (const [v, s] of p.values) if (value === undefined || value === '' || v === value) out.push(...s);
    return out;
  }

  // ================================================================ dialog variables

  setVar(d: Dialog, name: string, value: string | undefined): void {
    if (value === undefined) d.vars.delete(name);
    else d.vars.set(name, value);
  }

  getVar(d: Dialog, name: string): string | undefined {
    return d.vars.get(name);
  }

  /** Stop every lifetime timer (server stop). Dialogs are not ended: nothing is recorded. */
  stop(): void {
    for (const d of this.byId.values()) {
      if (d.timer !== undefined) clearTimeout(d.timer);
      d.timer = undefined;
    }
  }
}

export { Dialog, DLG_CONFIRMED, DLG_CONFIRMED_NA, DLG_DELETED, DLG_EARLY, DLG_UNCONFIRMED };

function splitList(s: string): string[] {
  return s
    .split(';')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** The transaction state a route context shares with its transaction (ScriptContext.state). */
function stateOf(ctx: RouteContext): RelayState | undefined {
  return (ctx as RouteContext & { state?: RelayState }).state;
}

/**
 * Every final response to the INVITE goes through its server transaction's respond(): relayed,
 * generated by the proxy, sent by the script (request or failure route), 487 after a CANCEL.
 * The dialog sees it there, whichever path sent it; a transaction that ends unanswered (the
 * script dropped the INVITE) ends the dialog too.
 */
function watchFinal(tx: ServerTxPort, d: Dialog): void {
  const t = tx as ServerTxPort & { onTerminated?: () => void };
  const respond = t.respond;
  t.respond = function (this: ServerTxPort, data: Buffer, status: number): void {
    respond.call(this, data, status);
    if (status >= 200) {
      t.respond = respond;
      d.onFinalSent(status, statusReason(data));
    }
  };
  const previous = t.onTerminated;
  t.onTerminated = () => {
    previous?.();
    if (d.state < DLG_CONFIRMED_NA && !d.ended && t.lastStatus < 200) d.onFinalSent(500, 'Not answered');
  };
}

/** The reason phrase of a serialized response (`SIP/2.0 486 Busy Here\r\n…`). */
export function statusReason(data: Buffer): string {
  const eol = data.indexOf(13);
  const line = data.toString('latin1', 0, eol < 0 ? Math.min(data.length, 200) : eol);
  const sp = line.indexOf(' ', 8);
  return sp < 0 ? '' : line.slice(sp + 1);
}

let current: Dialogs | undefined;

/** The dialog service in use (a default one until the server installs its own). */
export function dialogs(): Dialogs {
  current ??= new Dialogs();
  return current;
}

export function setDialogs(d: Dialogs | undefined): void {
  current?.stop();
  current = d;
}
