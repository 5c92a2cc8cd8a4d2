/**
 * Junction's default routing script: the equivalent of Kamailio's kamailio-basic-kemi
 * (sanity, max-forwards, CANCEL/ACK, in-dialog requests by loose routing, record-route, relay).
 * Registrar, authentication and NAT handling arrive with their modules.
 *
 * Copy it, edit it, reload it (`kill -HUP <pid>` or the `reload_routes` management command):
 * a script that does not load is refused and this one keeps running.
 */
import type { KSR as Ksr } from '../src/script/types.ts';

/** SIP request routing: the equivalent of request_route {}. */
export async function ksr_request_route(KSR: Ksr): Promise<void> {
  // Per-request initial checks.
  route_reqinit(KSR);

  // CANCEL: Junction matches it to its INVITE before the script runs (t_check_trans semantics);
  // a CANCEL that reaches the script matched nothing and is answered 481.
  if (KSR.is_CANCEL()) {
    if (KSR.tm.t_check_trans() > 0) await route_relay(KSR);
    return;
  }

  // Requests within a dialog.
  await route_withindlg(KSR);

  // Only initial requests (no To-tag) below. Record-Route so in-dialog requests come back through us.
  KSR.hdr.remove('Route');
  if (KSR.is_method_in('IS')) KSR.rr.record_route();

  if (KSR.pv.is_null('$rU')) {
    // Request addressed to the server itself (e.g. OPTIONS keep-alives).
    if (KSR.is_OPTIONS() && KSR.is_myself_ruri()) {
      KSR.sl.sl_send_reply(200, 'Keepalive');
      KSR.x.exit();
    }
    KSR.sl.sl_send_reply(484, 'Address Incomplete');
    KSR.x.exit();
  }
  await route_relay(KSR);
}

async function route_relay(KSR: Ksr): Promise<void> {
  if (KSR.is_method_in('IBSCUP')) {
    if (KSR.tm.t_is_set('failure_route') < 0) KSR.tm.t_on_failure('ksr_failure_manage');
  }
  // t_relay is awaited: it may resolve a host name or run branch routes; the transaction is kept
  // (retransmissions absorbed) meanwhile.
  if ((await KSR.tm.t_relay()) < 0) KSR.sl.sl_reply_error();
  KSR.x.exit();
}

function route_reqinit(KSR: Ksr): void {
  if (KSR.maxfwd.process_maxfwd(10) < 0) {
    KSR.sl.sl_send_reply(483, 'Too Many Hops');
    KSR.x.exit();
  }
  if (KSR.sanity.sanity_check(17895, 7) < 0) {
    KSR.err(`malformed SIP message from ${KSR.pv.get('$si')}:${KSR.pv.get('$sp')}\n`);
    KSR.x.exit();
  }
}

async function route_withindlg(KSR: Ksr): Promise<void> {
  if (KSR.siputils.has_totag() < 0) return;
  // Sequential request within a dialog: take the path determined by record-routing.
  if (KSR.rr.loose_route() > 0) {
    if (KSR.is_ACK()) {
      // ACK for a 2xx is end to end: stateless forward.
      await KSR.forward();
      KSR.x.exit();
    }
    await route_relay(KSR);
    KSR.x.exit();
  }
  if (KSR.is_ACK()) {
    if (KSR.tm.t_check_trans() > 0) {
      // No loose-route but stateful ACK: must be an ACK after a 487 or a 404 from us.
      await route_relay(KSR);
    }
    KSR.x.exit();
  }
  KSR.sl.sl_send_reply(404, 'Not here');
  KSR.x.exit();
}

/** Failure route: the equivalent of failure_route[MANAGE_FAILURE]. */
export function ksr_failure_manage(KSR: Ksr): void {
  if (KSR.tm.t_is_canceled() > 0) return;
}
