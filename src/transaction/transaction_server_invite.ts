/**
 * INVITE server transaction: RFC 3261 §17.2.1 with the RFC 6026 §7.1 correction (a 2xx moves the
 * transaction to Accepted, where INVITE retransmissions are absorbed and further 2xx from the TU
 * still go out, instead of terminating it at once).
 *
 *                 INVITE / pass to TU, 100 Trying
 *                          |
 *     INVITE: resend  +------------+ 2xx from TU: send
 *     last 1xx        | Proceeding |-------------------------+
 *                     +------------+                         |
 *                300-699 |                                   v
 *                 send   v                            +------------+  2xx from TU: send
 *     INVITE: resend +-----------+                    |  Accepted  |  INVITE: absorb
 *     Timer G: resend| Completed |                    +------------+  ACK: to TU
 *                    +-----------+                           | Timer L
 *                 ACK |      | Timer H                       |
 *                     v      +-----------------+             |
 *                +-----------+                 v             v
 *    ACK: absorb | Confirmed |--Timer I---> Terminated <-----+
 *                +-----------+
 */
import { buildResponse } from '../sip/build.ts';
import type { SipMessage } from '../sip/message.ts';
import type { ReceiveInfo } from '../transport/types.ts';
import { arm, backoff, type QueueItem } from './timers.ts';
import { type TxHost, TxState } from './transaction.ts';
import type { AcceptedItem } from './transaction_retained.ts';
import { fireLifetimeGuard, ServerTransactionBase } from './transaction_server.ts';

/** How the automatic 100 Trying is sent (§17.2.1, §16.2 / §16.7 step 5 for proxies). */
export type AutoTrying = 'immediate' | 'delayed' | 'off';

export class ServerInviteTransaction extends ServerTransactionBase implements AcceptedItem {
  readonly isInvite = true;
  /** Timer L's queue links (timers.ts TimerQueue). */
  qnext: QueueItem | undefined = undefined;
  qdue = 0;
  /** Current Timer G interval. */
  private gInterval = 0;

  constructor(host: TxHost, key: string, request: SipMessage, info: ReceiveInfo) {
    super(host, key, request, info, TxState.Proceeding);
  }

  /** §17.2.1: the transaction starts in Proceeding; the 100 Trying keeps the client from retransmitting. */
  start(autoTrying: AutoTrying): void {
    this.armLife(fireLifetimeGuard, this.host.timers.maxInvLifetime);
    if (autoTrying === 'immediate') {
      // Kamailio/OpenSIPS answer 100 as soon as they take the INVITE: the script may await a
      // hook for a while and the client would otherwise retransmit every T1.
      this.sendTrying();
    } else if (autoTrying === 'delayed') {
      // §17.2.1: the server transaction MUST generate a 100 if the TU will not answer within 200 ms.
      this.retransTimer = arm(fireTrying, this.host.timers.tryingDelay, this, this.host.sink);
    }
  }

  sendTrying(): void {
    if (this.state !== TxState.Proceeding || this.lastStatus !== 0) return;
    // §8.2.6.1: a 100 carries no To tag (buildResponse never adds one to a 100).
    this.respond(buildResponse(this.request, 100), 100);
  }

  respond(data: Buffer, status: number): void {
    ServerTransactionBase.checkStatus(status);
    const t = this.host.timers;
    switch (this.state) {
      case TxState.Proceeding:
        this.lastResponse = data;
        this.lastStatus = status;
        if (status < 200) {
          // §17.2.1: provisionals from the TU are passed to the transport; the most recent is
          // what a retransmitted INVITE gets. A provisional also shows the TU is alive.
          if (this.retransTimer !== undefined) {
            clearTimeout(this.retransTimer);
            this.retransTimer = undefined;
          }
          if (status > 100) this.armLife(fireLifetimeGuard, t.maxInvLifetime);
          this.send(data);
          return;
        }
        this.clearTimers();
        if (status < 300) {
          // RFC 6026 §7.1: a 2xx moves the transaction to Accepted and starts Timer L; the
          // transaction does not retransmit the 2xx (the UAS core does, §13.3.1.4).
          this.st = TxState.Accepted;
          this.send(data);
          this.host.ends.L.push(this);
          return;
        }
        // §17.2.1: a 300-699 moves to Completed; Timer G retransmits it on unreliable
        // transports, Timer H bounds the wait for the ACK.
        this.st = TxState.Completed;
        this.send(data);
        if (!this.reliable) {
          this.gInterval = t.G;
          this.retransTimer = arm(fireG, t.G, this, this.host.sink);
        }
        this.armLife(fireH, t.H);
        return;
      case TxState.Accepted:
        // RFC 6026 §7.1: 2xx responses passed by the TU in Accepted (retransmissions by a UAS
        // core, further 2xx of a forked call relayed by a proxy) MUST go to the transport.
        if (status >= 200 && status < 300) this.send(data);
        return;
      default:
        // Completed / Confirmed / Terminated: a final response was sent; nothing else goes out.
        return;
    }
  }

  onRetransmission(): void {
    // §17.2.1: in Proceeding the most recent provisional is resent, in Completed the final.
    // RFC 6026 §7.1: in Accepted retransmissions are absorbed (the 2xx is the TU's job);
    // in Confirmed they are absorbed too.
    if (
      (this.state === TxState.Proceeding || this.state === TxState.Completed) &&
      this.lastResponse !== undefined
    ) {
      this.send(this.lastResponse);
    }
  }

  /**
   * An ACK matched this transaction. True when it was absorbed (the ACK for our non-2xx,
   * §17.2.1); false when it must go to the TU (Accepted: the ACK of a 2xx, RFC 6026 §7.1).
   */
  override onAck(): boolean {
    if (this.state === TxState.Completed) {
      // §17.2.1: ACK in Completed → Confirmed; Timer G stops; Timer I absorbs ACK
      // retransmissions (T4 on unreliable transports, zero on reliable ones).
      this.st = TxState.Confirmed;
      this.clearTimers();
      if (this.reliable) this.terminate();
      else this.retain(this.host.ends.I); // a small record absorbs retransmissions until Timer I
      return true;
    }
    return this.state === TxState.Confirmed;
  }

  /** Timer L (RFC 6026 §7.1): Accepted → Terminated (an earlier end leaves nothing to do). */
  endAccepted(): void {
    if (this.st === TxState.Accepted) this.terminate();
  }

  /** Timer G: retransmit the non-2xx final, doubling up to T2 (§17.2.1). */
  retransmitFinal(): void {
    this.retransTimer = undefined;
    if (this.state !== TxState.Completed || this.lastResponse === undefined) return;
    this.host.stats.retransmissionsSent++;
    this.send(this.lastResponse);
    this.gInterval = backoff(this.gInterval, this.host.timers.t2);
    this.retransTimer = arm(fireG, this.gInterval, this, this.host.sink);
  }

  /** Timer H: no ACK came (§17.2.1: MUST go to Terminated and indicate a failure to the TU). */
  ackTimeout(): void {
    if (this.state !== TxState.Completed) return;
    this.host.stats.timeouts++;
    // The TU learns of it through onTerminated: the proxy has nothing to do but forget the call.
    this.terminate();
  }
}

// Timer callbacks at module level: arming passes the transaction, no closure per transaction.
function fireTrying(tx: ServerInviteTransaction): void {
  tx.sendTrying();
}
function fireG(tx: ServerInviteTransaction): void {
  tx.retransmitFinal();
}
function fireH(tx: ServerInviteTransaction): void {
  tx.ackTimeout();
}
