/**
 * Non-INVITE server transaction, RFC 3261 §17.2.2.
 *
 *                 request / pass to TU
 *                          |
 *   request: absorb  +----------+ 1xx from TU: send  +------------+ 1xx from TU: send
 *                    |  Trying  |------------------->| Proceeding | request: resend last 1xx
 *                    +----------+                    +------------+
 *            200-699 from TU |                          | 200-699 from TU: send
 *                  send      v                          v
 *                         +-----------+ request: resend final
 *                         | Completed | final from TU: discard
 *                         +-----------+
 *                               | Timer J (64*T1 unreliable, 0 reliable)
 *                               v
 *                          Terminated
 */
import type { SipMessage } from '../sip/message.ts';
import type { ReceiveInfo } from '../transport/types.ts';
import { type TxHost, TxState } from './transaction.ts';
import { fireLifetimeGuard, ServerTransactionBase } from './transaction_server.ts';

export class ServerNonInviteTransaction extends ServerTransactionBase {
  readonly isInvite = false;

  constructor(host: TxHost, key: string, request: SipMessage, info: ReceiveInfo) {
    super(host, key, request, info, TxState.Trying);
  }

  start(): void {
    this.armLife(fireLifetimeGuard, this.host.timers.maxNoninvLifetime);
  }

  respond(data: Buffer, status: number, retain = true): void {
    ServerTransactionBase.checkStatus(status);
    if (this.state !== TxState.Trying && this.state !== TxState.Proceeding) {
      // §17.2.2: final responses passed by the TU in Completed MUST be discarded.
      return;
    }
    this.lastResponse = data;
    this.lastStatus = status;
    if (status < 200) {
      // §17.2.2: a provisional from the TU moves to Proceeding and is passed to the transport.
      this.st = TxState.Proceeding;
      this.armLife(fireLifetimeGuard, this.host.timers.maxNoninvLifetime);
      this.send(data);
      return;
    }
    // §17.2.2: a final response moves to Completed; Timer J (64*T1 on unreliable transports,
    // zero on reliable ones) keeps the response for request retransmissions. A stateless reply
    // keeps nothing: a retransmission is a new request for the TU, as after Kamailio's sl replies.
    this.st = TxState.Completed;
    this.clearTimers();
    this.send(data);
    if (this.reliable || !retain) this.terminate();
    else {
      // Only retransmissions are left to absorb: a small record keeps the response for Timer J.
      this.retain(this.host.ends.J);
      this.request.releaseDecoded();
    }
  }

  onRetransmission(): void {
    // §17.2.2: in Trying retransmissions are discarded; in Proceeding the last provisional and
    // in Completed the final response are passed to the transport again.
    if (this.state === TxState.Trying || this.lastResponse === undefined) return;
    if (this.state === TxState.Proceeding || this.state === TxState.Completed) this.send(this.lastResponse);
  }
}
