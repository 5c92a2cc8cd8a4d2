/**
 * The SER "missed calls" service of ser-apps-exec-fifo (exec steps 1–5b), as a Junction routing
 * script: an e-mail for every missed call, sent by the system's `mail` command through
 * KSR.exec.exec_msg, which gives it the INVITE on stdin (the mail body is its From line).
 *
 * - The callee is offline (no registration): mail, then `404 User Offline`.
 * - The callee is online but the call does not complete (busy, no answer, declined, cancelled):
 *   the failure route mails — whatever the reason, as in the seed's exec_s5b.cfg.
 * - Stateful, as the seed's step 4 asks: t_newtran() before exec_msg, so INVITE retransmissions
 *   are absorbed by the transaction and the mail is sent once; t_reply() answers statefully.
 *
 * Run it: `junction start` with `script: examples/exec/missed_calls.ts` (and a working `mail`).
 * Pseudo-variables in the command are quoted for the shell by Junction ($fU inside '…' stays
 * text whatever the caller put in the From header).
 */
import type { KSR as Ksr } from '../../src/script/types.ts';

/** Mail the callee ($tU: the To user, the number that was dialled) about a call from $fU. */
const MAIL = "grep -i '^From:' | mail -s 'Missed call from $fU' '$tU'";

export async function ksr_request_route(KSR: Ksr): Promise<void> {
  if (KSR.maxfwd.process_maxfwd(10) < 0) {
    KSR.sl.sl_send_reply(483, 'Too Many Hops');
    KSR.x.exit();
  }
  if (KSR.is_CANCEL()) {
    if (KSR.tm.t_check_trans() > 0) await KSR.tm.t_relay();
    KSR.x.exit();
  }
  // In-dialog requests follow the Record-Route path.
  if (KSR.siputils.has_totag() > 0) {
    if (KSR.rr.loose_route() > 0) {
      if (KSR.is_ACK()) await KSR.forward();
      else await KSR.tm.t_relay();
    } else if (!KSR.is_ACK()) KSR.sl.sl_send_reply(404, 'Not here');
    KSR.x.exit();
  }
  if (KSR.is_REGISTER() && KSR.is_myself_ruri()) {
    await KSR.registrar.save('location', 0);
    KSR.x.exit();
  }
  KSR.rr.record_route();
  if (KSR.is_INVITE() && KSR.is_myself_ruri()) {
    if ((await KSR.registrar.lookup('location')) < 0) {
      // Offline: create the transaction first, so retransmissions do not mail again.
      KSR.tm.t_newtran();
      if ((await KSR.exec.exec_msg(MAIL)) < 0) KSR.err(`missed-call mail for ${KSR.pv.get('$tU')} failed\n`);
      KSR.tm.t_reply(404, 'User Offline');
      KSR.x.exit();
    }
    // Online: a call that does not complete comes back to the failure route.
    KSR.tm.t_on_failure('ksr_failure_missed_call');
  }
  if ((await KSR.tm.t_relay()) < 0) KSR.sl.sl_reply_error();
}

/** Every INVITE that did not complete with a 2xx: busy, no answer, declined, cancelled. */
export async function ksr_failure_missed_call(KSR: Ksr): Promise<void> {
  if ((await KSR.exec.exec_msg(MAIL)) < 0) KSR.err(`missed-call mail for ${KSR.pv.get('$tU')} failed\n`);
}
