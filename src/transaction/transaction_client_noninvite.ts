/**
 * Non-INVITE client transaction, RFC 3261 §17.1.2.
 *
 *                      | request from TU: send; Timer E (unreliable), Timer F
 *                      v
 *  Timer E: resend +----------+  Timer F or transport error: inform TU
 *  E = min(2E, T2) |  Trying  |-----------------------------------------+
 *                  +----------+                                         |
 *          1xx: to TU |    | 200-699: to TU                             |
 *                     v    |                                            |
 *  Timer E: resend +------------+  Timer F or transport error: inform TU |
 *  E = T2          | Proceeding |---------------------------------------+
 *  1xx: to TU      +------------+                                       |
 *                     | 200-699: to TU                                  |
 *                     v                                                 |
 *                  +-----------+                                        |
 *  response:       | Completed |--- Timer K (T4; 0 on reliable) ---+     |
 *  absorb          +-----------+                                   v     v
 *                                                                 Terminated
 */
import type { SipMessage } from '../sip/message.ts';
import type { ReceiveInfo } from '../transport/types.ts';
import { backoff } from './timers.ts';
import { type TxHost, TxState } from './transaction.ts';
import { ClientTransactionBase, type ClientTxParams } from './transaction_client.ts';

export class ClientNonInviteTransaction extends ClientTransactionBase {
  /** Timer F for this transaction (Kamailio fr_timer, or its per-transaction override). */
  private readonly timerF: number;

  constructor(host: TxHost, p: ClientTxParams) {
    super(host, p, TxState.Trying);
    this.timerF = p.timeout ?? host.timers.F;
  }

  start(): void {
    if (!this.transmitFirst()) return;
    // §17.1.2.2: Timer E (T1) on unreliable transports only; Timer F (64*T1) always.
    if (!this.reliable) {
      this.interval = this.host.timers.E;
      this.armRetrans(fireE, this.interval);
    }
    this.armLife(fireF, this.timerF);
  }

  /** Timer E fired. */
  retransmit(): void {
    this.retransTimer = undefined;
    const t = this.host.timers;
    if (this.state === TxState.Trying) {
      // §17.1.2.2: in Trying, E doubles up to T2.
      this.interval = backoff(this.interval, t.t2);
    } else if (this.state === TxState.Proceeding) {
      // §17.1.2.2: in Proceeding, E is reset to T2.
      this.interval = t.t2;
    } else {
      return;
    }
    if (!this.transmit(this.data)) return;
    this.host.stats.retransmissionsSent++;
    this.armRetrans(fireE, this.interval);
  }

  /** Timer F fired: §17.1.2.2 MUST inform the TU of the timeout and go to Terminated. */
  timeout(): void {
    if (this.state !== TxState.Trying && this.state !== TxState.Proceeding) return;
    this.terminate();
    this.notifyTimeout();
  }

  onResponse(res: SipMessage, _info: ReceiveInfo): void {
    const status = res.status;
    if (this.state !== TxState.Trying && this.state !== TxState.Proceeding) {
      // §17.1.2.2: in Completed, retransmissions of the final response are buffered (absorbed).
      this.host.stats.retransmissionsAbsorbed++;
      return;
    }
    this.lastStatus = status;
    if (status < 200) {
      // §17.1.2.2: provisionals move to Proceeding and are passed to the TU; retransmissions
      // continue at T2 (next Timer E).
      this.st = TxState.Proceeding;
      this.notifyProvisional(res);
      return;
    }
    // §17.1.2.2: a final response moves to Completed and goes to the TU; Timer K (T4 on
    // unreliable transports, zero on reliable ones) absorbs its retransmissions.
    this.st = TxState.Completed;
    this.clearTimers();
    if (this.reliable) this.terminate();
    else this.retain(this.host.ends.K, undefined);
    this.notifyFinal(res);
  }
}

function fireE(tx: ClientNonInviteTransaction): void {
  tx.retransmit();
}
function fireF(tx: ClientNonInviteTransaction): void {
  tx.timeout();
}
