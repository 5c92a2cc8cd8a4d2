/**
 * Call forwarding with KSR.exec.exec_dset: for a call to a user of this server, forward.sh gets
 * the Request-URI as its argument and prints where the call goes — one URI per line: the first
 * becomes the Request-URI, each further one a parallel branch (ring several phones). A user with
 * no forwarding entry gets 404.
 *
 * The forwarding table is a text file (`user uri [uri ...]` per line): $FORWARDS, or forwards.txt
 * beside forward.sh.
 */
import { fileURLToPath } from 'node:url';
import type { KSR as Ksr } from '../../src/script/types.ts';

/** forward.sh's path, single-quoted: it is shell text written by the operator. */
const FORWARD = `'${fileURLToPath(new URL('./forward.sh', import.meta.url))}'`;

export async function ksr_request_route(KSR: Ksr): Promise<void> {
  if (KSR.maxfwd.process_maxfwd(10) < 0) {
    KSR.sl.sl_send_reply(483, 'Too Many Hops');
    KSR.x.exit();
  }
  if (KSR.is_CANCEL()) {
    if (KSR.tm.t_check_trans() > 0) await KSR.tm.t_relay();
    KSR.x.exit();
  }
  if (KSR.siputils.has_totag() > 0) {
    if (KSR.rr.loose_route() > 0) {
      if (KSR.is_ACK()) await KSR.forward();
      else await KSR.tm.t_relay();
    } else if (!KSR.is_ACK()) KSR.sl.sl_send_reply(404, 'Not here');
    KSR.x.exit();
  }
  KSR.rr.record_route();
  if (KSR.is_INVITE() && KSR.is_myself_ruri()) {
    // Runs: forward.sh '<R-URI>' (Junction appends the URI, quoted).
    if ((await KSR.exec.exec_dset(FORWARD)) < 0) {
      KSR.sl.sl_send_reply(404, 'No forwarding for this user');
      KSR.x.exit();
    }
  }
  if ((await KSR.tm.t_relay()) < 0) KSR.sl.sl_reply_error();
}
