/**
 * What the INVITE and non-INVITE client transactions share: sending the request, the two timer
 * slots, guarded calls into the handler, transport errors and termination.
 */
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { Endpoint, ReceiveInfo, SendOptions } from '../transport/types.ts';
import { arm, type TimerHandle, type TimerQueue } from './timers.ts';
import {
  asError,
  type ClientHandler,
  type ClientTableEntry,
  type ClientTransaction,
  type TxHost,
  TxState,
} from './transaction.ts';
import { RetainedClient } from './transaction_retained.ts';

export interface ClientTxParams {
  readonly key: string;
  /** Branch of the request's top Via: the tables' key (with the method). */
  readonly branch: string;
  readonly data: Buffer;
  /** The request's method (its CSeq method): the only part read up front. */
  readonly method: string;
  /**
   * The parsed form of `data`, or undefined: then it is parsed from `data` on first use (the ACK
   * for a non-2xx, a CANCEL), so a relayed request is not parsed again only to be sent.
   */
  readonly request: SipMessage | undefined;
  readonly dest: Endpoint;
  readonly handler: ClientHandler;
  readonly sendOpts: SendOptions | undefined;
  readonly reliable: boolean;
  /** Per-transaction override of Timer C (INVITE) or Timer F (non-INVITE), Kamailio t_set_fr. */
  readonly timeout: number | undefined;
  /**
   * INVITE only: give up without any reply after this long instead of Timer B (Kamailio's fr_timer
   * role before the first provisional; t_set_fr's fr). Undefined: Timer B.
   */
  readonly noReplyTimeout?: number | undefined;
}

export abstract class ClientTransactionBase implements ClientTransaction, ClientTableEntry {
  readonly key: string;
  readonly branch: string;
  readonly method: string;
  readonly dest: Endpoint;
  /** Where the request, retransmissions and the ACK go out (listener / connection), with our onError. */
  readonly sendOpts: SendOptions;
  /** Retransmissions only on unreliable transports (§17.1.1.2, §17.1.2.2). */
  readonly reliable: boolean;
  /** Own state until the transaction is retained (then the record's, see `state`). */
  protected st: TxState;
  lastStatus = 0;
  /** The small record that replaced this transaction in the table (transaction_retained.ts). */
  private retained: RetainedClient | undefined = undefined;
  protected readonly data: Buffer;
  private parsed: SipMessage | undefined;
  protected readonly handler: ClientHandler;
  protected readonly host: TxHost;
  /** Retransmission slot (Timer A / E) and its current interval. */
  protected retransTimer: TimerHandle | undefined = undefined;
  protected interval = 0;
  /** Lifetime slot (Timers B, C, D, F, K, M, the §9.1 CANCEL wait). */
  protected lifeTimer: TimerHandle | undefined = undefined;
  /** The handler was given an outcome that ends its interest (timeout, transport error). */
  protected reported = false;

  constructor(host: TxHost, p: ClientTxParams, state: TxState) {
    this.host = host;
    this.key = p.key;
    this.branch = p.branch;
    this.method = p.method;
    this.data = p.data;
    this.parsed = p.request;
    this.dest = p.dest;
    this.handler = p.handler;
    // The transport reports failures asynchronously through onError (never by throwing): one
    // callback per transaction, shared by the request, its retransmissions and the ACK.
    this.sendOpts = { ...p.sendOpts, onError: (error: Error) => this.transportFailed(error) };
    this.reliable = p.reliable;
    this.st = state;
  }

  /** The request sent, parsed from its bytes the first time it is needed (ACK, CANCEL). */
  get request(): SipMessage {
    let m = this.parsed;
    if (m === undefined) {
      const r = parseMessage(this.data);
      if (isParseError(r))
        throw new Error(`client transaction ${this.branch}: the request sent does not parse: ${r.phrase}`);
      m = this.parsed = r;
    }
    return m;
  }

  get state(): TxState {
    const r = this.retained;
    return r === undefined ? this.st : r.state;
  }

  /**
   * Completed on an unreliable transport: only response retransmissions are left to absorb
   * (and, for INVITE, to ACK again): the table keeps a small record until `end` (Timer K or D).
   */
  protected retain(end: TimerQueue<RetainedClient>, ack: Buffer | undefined): void {
    this.clearTimers();
    const r = new RetainedClient(this.host, this, this.lastStatus, this.dest, ack, this.sendOpts);
    this.retained = r;
    this.host.replaceClient(this, r);
    r.start(end);
  }

  abstract start(): void;
  abstract onResponse(res: SipMessage, info: ReceiveInfo): void;

  cancel(_reason?: string): void {
    // §9.1: a CANCEL SHOULD NOT be sent for anything but INVITE; the INVITE class overrides this.
  }

  /** Pass bytes to the transport; false (and the transaction failed) when it threw. */
  protected transmit(data: Buffer): boolean {
    try {
      this.host.transport.send(data, this.dest, this.sendOpts);
      return true;
    } catch (err) {
      this.transportFailed(asError(err));
      return false;
    }
  }

  /** First transmission: a failure is reported after sendRequest has returned the transaction. */
  protected transmitFirst(): boolean {
    try {
      this.host.transport.send(this.data, this.dest, this.sendOpts);
      return true;
    } catch (err) {
      const e = asError(err);
      queueMicrotask(() => this.transportFailed(e));
      return false;
    }
  }

  /**
   * §17.1.1.2 / §17.1.2.2: a transport error before the final response informs the TU and ends
   * the transaction. Later (sending the ACK) it only ends it: the TU already has its answer.
   */
  transportFailed(err: Error): void {
    if (this.state === TxState.Terminated) return;
    this.host.stats.transportErrors++;
    const pending =
      this.state === TxState.Calling || this.state === TxState.Trying || this.state === TxState.Proceeding;
    this.terminate();
    if (pending && !this.reported) {
      this.reported = true;
      try {
        this.handler.onTransportError(this, err);
      } catch (e) {
        this.host.tuError(e, 'onTransportError');
      }
    }
  }

  protected armRetrans(callback: (tx: this) => void, ms: number): void {
    if (this.retransTimer !== undefined) clearTimeout(this.retransTimer);
    this.retransTimer = arm(callback, ms, this, this.host.sink);
  }

  protected armLife(callback: (tx: this) => void, ms: number): void {
    if (this.lifeTimer !== undefined) clearTimeout(this.lifeTimer);
    this.lifeTimer = arm(callback, ms, this, this.host.sink);
  }

  protected stopRetrans(): void {
    if (this.retransTimer !== undefined) {
      clearTimeout(this.retransTimer);
      this.retransTimer = undefined;
    }
  }

  protected clearTimers(): void {
    this.stopRetrans();
    if (this.lifeTimer !== undefined) {
      clearTimeout(this.lifeTimer);
      this.lifeTimer = undefined;
    }
  }

  protected notifyProvisional(res: SipMessage): void {
    try {
      this.handler.onProvisional(res, this);
    } catch (err) {
      this.host.tuError(err, 'onProvisional');
    }
  }

  protected notifyFinal(res: SipMessage): void {
    try {
      this.handler.onFinal(res, this);
    } catch (err) {
      this.host.tuError(err, 'onFinal');
    }
  }

  protected notifyTimeout(): void {
    if (this.reported) return;
    this.reported = true;
    this.host.stats.timeouts++;
    try {
      this.handler.onTimeout(this);
    } catch (err) {
      this.host.tuError(err, 'onTimeout');
    }
  }

  /** §17.1.1.2 / §17.1.2.2: the transaction MUST be destroyed the instant it enters Terminated. */
  terminate(): void {
    const r = this.retained;
    if (r !== undefined) {
      r.terminate();
      return;
    }
    if (this.st === TxState.Terminated) return;
    this.st = TxState.Terminated;
    this.clearTimers();
    this.host.removeClient(this);
  }

  /** Forget the transaction without any callback (layer shutdown). */
  dispose(): void {
    this.st = TxState.Terminated;
    this.clearTimers();
    this.retained?.dispose();
  }
}

/** Handler of the CANCEL transactions the layer starts itself: its outcome interests nobody (§9.1). */
export const IGNORE_HANDLER: ClientHandler = {
  onProvisional() {},
  onFinal() {},
  onTimeout() {},
  onTransportError() {},
};
