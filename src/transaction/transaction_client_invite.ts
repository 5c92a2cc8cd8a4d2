/**
 * INVITE client transaction: RFC 3261 §17.1.1 with the RFC 6026 §7.2 correction (a 2xx moves the
 * transaction to Accepted for Timer M, so 2xx retransmissions and further 2xx of a forked call
 * still reach the TU through it), plus the proxy's Timer C (§16.6 step 11, §16.7 step 2, §16.8)
 * and CANCEL (§9.1).
 *
 *                      | INVITE from TU: send; Timer A (unreliable), Timer B
 *                      v
 *  Timer A: resend +-----------+  Timer B or transport error: inform TU
 *  A = 2A          |  Calling  |-----------------------------------------+
 *                  +-----------+                                         |
 *        1xx: to TU  |     |  |  2xx: to TU                              |
 *        Timer C     v     |  +-------------------------+                |
 *                  +------------+  2xx: to TU           v                |
 *  1xx: to TU,     | Proceeding |-------------->  +-----------+          |
 *  restart C       +------------+                 | Accepted  | 2xx: to TU
 *  Timer C: CANCEL,   |  300-699: ACK, to TU      +-----------+          |
 *  inform TU          v  (also from Calling)            | Timer M        |
 *                  +-----------+                        |                |
 *  300-699: ACK    | Completed |--- Timer D ---------> Terminated <-------+
 *                  +-----------+
 */
import { buildAck } from '../sip/build.ts';
import type { SipMessage } from '../sip/message.ts';
import type { ReceiveInfo } from '../transport/types.ts';
import type { QueueItem } from './timers.ts';
import { asError, type TxHost, TxState } from './transaction.ts';
import { ClientTransactionBase, type ClientTxParams } from './transaction_client.ts';
import type { AcceptedItem } from './transaction_retained.ts';

export class ClientInviteTransaction extends ClientTransactionBase implements AcceptedItem {
  /** Timer M's queue links (timers.ts TimerQueue). */
  qnext: QueueItem | undefined = undefined;
  qdue = 0;
  /** Timer C for this transaction (Kamailio fr_inv_timer, or its per-transaction override); 0 = off. */
  private readonly timerC: number;
  /** cancel() was called (once is enough). */
  private cancelRequested = false;
  /** cancel() came before any provisional: send the CANCEL with the first 1xx (§9.1). */
  private cancelPending = false;
  private cancelReason: string | undefined = undefined;
  private cancelSent = false;
  /** The ACK we generated for a non-2xx, resent for each retransmission of that response. */
  private ack: Buffer | undefined = undefined;

  constructor(host: TxHost, p: ClientTxParams) {
    super(host, p, TxState.Calling);
    this.timerC = p.timeout ?? host.timers.C;
    this.noReplyTimeout = p.noReplyTimeout;
  }

  private readonly noReplyTimeout: number | undefined;

  start(): void {
    if (!this.transmitFirst()) return;
    const t = this.host.timers;
    // §17.1.1.2: Timer A (T1) on unreliable transports only; Timer B (64*T1) always.
    if (!this.reliable) {
      this.interval = t.A;
      this.armRetrans(fireA, this.interval);
    }
    // A per-transaction fr (t_set_fr) shortens the wait for a first reply; never beyond Timer B.
    const nr = this.noReplyTimeout;
    this.armLife(fireB, nr !== undefined && nr > 0 && nr < t.B ? nr : t.B);
  }

  /** Timer A fired: §17.1.1.2 retransmit and double the interval (no T2 cap for INVITE). */
  retransmit(): void {
    this.retransTimer = undefined;
    if (this.state !== TxState.Calling) return;
    if (!this.transmit(this.data)) return;
    this.host.stats.retransmissionsSent++;
    this.interval *= 2;
    this.armRetrans(fireA, this.interval);
  }

  /** Timer B fired: §17.1.1.2 MUST inform the TU of the timeout and go to Terminated. */
  timeoutB(): void {
    if (this.state !== TxState.Calling) return;
    this.terminate();
    this.notifyTimeout();
  }

  /**
   * Timer C fired in Proceeding. §16.8: with a provisional received the proxy MUST generate a
   * CANCEL for the branch; the branch then behaves as if it got a 408, so the TU is told now
   * and the transaction stays to ACK the 487 (or pass up a 2xx that crossed the CANCEL).
   */
  timeoutC(): void {
    if (this.state !== TxState.Proceeding) return;
    this.lifeTimer = undefined;
    if (!this.cancelSent) this.sendCancel(undefined);
    this.notifyTimeout();
  }

  /**
   * §9.1: no final response 64*T1 after the CANCEL: the client transaction is destroyed (the
   * UAS never answered 487; waiting longer only leaks).
   */
  cancelTimeout(): void {
    if (this.state !== TxState.Proceeding) return;
    this.terminate();
    this.notifyTimeout();
  }

  override cancel(reason?: string): void {
    if (this.cancelRequested) return;
    this.cancelRequested = true;
    if (this.state === TxState.Calling) {
      // §9.1: a CANCEL MUST NOT be sent before a provisional was received: remember it.
      this.cancelPending = true;
      this.cancelReason = reason;
    } else if (this.state === TxState.Proceeding) {
      this.sendCancel(reason);
    }
    // Completed / Accepted / Terminated: a final response arrived, there is nothing to cancel.
  }

  private sendCancel(reason: string | undefined): void {
    // Timer C may send the CANCEL before the TU asks: a later cancel() must not send another.
    this.cancelRequested = true;
    this.cancelSent = true;
    this.cancelPending = false;
    this.host.startCancel(this, reason);
    // The transaction waits for the 487 no longer than 64*T1 (§9.1); Timer C is superseded.
    if (this.state === TxState.Proceeding) this.armLife(fireCancelWait, this.host.timers.cancelWait);
  }

  onResponse(res: SipMessage, info: ReceiveInfo): void {
    const status = res.status;
    if (status < 200) this.onProvisional(res, status);
    else if (status < 300) this.on2xx(res, info, status);
    else this.onFailure(res, status);
  }

  private onProvisional(res: SipMessage, status: number): void {
    if (this.state === TxState.Calling) {
      // §17.1.1.2: a provisional moves to Proceeding; retransmissions stop and Timer B no
      // longer applies. Timer C covers Proceeding (Kamailio fr_inv_timer starts at the first
      // reply; before it, Timer B plays fr_timer's role).
      this.st = TxState.Proceeding;
      this.clearTimers();
      this.lastStatus = status;
      if (this.cancelPending) this.sendCancel(this.cancelReason);
      else if (this.timerC > 0) this.armLife(fireC, this.timerC);
    } else if (this.state === TxState.Proceeding) {
      this.lastStatus = status;
      // §16.7 step 2: a provisional other than 100 MUST reset Timer C.
      if (status > 100 && !this.cancelSent && this.timerC > 0) this.armLife(fireC, this.timerC);
    } else {
      // A late provisional after the final response: nothing to do with it.
      return;
    }
    if (!this.reported) this.notifyProvisional(res);
  }

  private on2xx(res: SipMessage, info: ReceiveInfo, status: number): void {
    if (this.state === TxState.Calling || this.state === TxState.Proceeding) {
      // RFC 6026 §7.2: a 2xx moves to Accepted (Timer M) and is passed to the TU — even after
      // a Timer C timeout: the 2xx made a dialog at the UAS and must reach the UAC (§16.7 step 5).
      this.st = TxState.Accepted;
      this.clearTimers();
      this.lastStatus = status;
      this.cancelPending = false;
      this.host.ends.M.push(this);
      this.notifyFinal(res);
    } else if (this.state === TxState.Accepted) {
      // RFC 6026 §7.2: every 2xx received in Accepted is passed to the TU.
      this.notifyFinal(res);
    } else {
      // A 2xx after a non-2xx on the same branch: no transaction state fits it, but it is a
      // dialog at the UAS; hand it over like a 2xx that matched nothing (forwarded statelessly).
      this.host.stats.strayResponses++;
      try {
        this.host.tu.onStrayResponse(res, info);
      } catch (err) {
        this.host.tuError(err, 'onStrayResponse');
      }
    }
  }

  /** §17.1.1.3's ACK; undefined (and the transaction failed) when the request sent does not parse. */
  private buildAckFor(res: SipMessage): Buffer | undefined {
    try {
      return buildAck(this.request, res);
    } catch (err) {
      this.transportFailed(asError(err));
      return undefined;
    }
  }

  private onFailure(res: SipMessage, status: number): void {
    if (this.state === TxState.Calling || this.state === TxState.Proceeding) {
      // §17.1.1.2: 300-699 in Calling/Proceeding → Completed; the transaction MUST generate the
      // ACK (§17.1.1.3) and pass the response up; Timer D (≥ 32 s unreliable, 0 reliable)
      // absorbs retransmissions of the response.
      this.st = TxState.Completed;
      this.clearTimers();
      this.lastStatus = status;
      this.cancelPending = false;
      this.ack = this.buildAckFor(res);
      // A failed ACK ends the transaction (transportFailed) but the TU still gets its answer.
      if (this.ack !== undefined && this.transmit(this.ack)) {
        if (this.reliable) this.terminate();
        else this.retain(this.host.ends.D, this.ack);
      }
      // After a Timer C timeout the TU already has its 408: this 487 is only ACKed.
      if (!this.reported) this.notifyFinal(res);
    } else if (this.state === TxState.Completed) {
      // §17.1.1.2: a retransmitted final in Completed MUST cause the ACK to be resent and
      // MUST NOT be passed up.
      this.host.stats.retransmissionsAbsorbed++;
      if (this.ack !== undefined) this.transmit(this.ack);
    }
    // Accepted: a non-2xx after a 2xx on the same branch is discarded (RFC 6026 §7.2).
  }

  /** Timer M (RFC 6026 §7.2): Accepted → Terminated (an earlier end leaves nothing to do). */
  endAccepted(): void {
    if (this.st === TxState.Accepted) this.terminate();
  }

  /** The ACK generated for the non-2xx final response (for tests and traces). */
  get ackData(): Buffer | undefined {
    return this.ack;
  }
}

function fireA(tx: ClientInviteTransaction): void {
  tx.retransmit();
}
function fireB(tx: ClientInviteTransaction): void {
  tx.timeoutB();
}
function fireC(tx: ClientInviteTransaction): void {
  tx.timeoutC();
}
function fireCancelWait(tx: ClientInviteTransaction): void {
  tx.cancelTimeout();
}
