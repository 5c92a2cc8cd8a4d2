/**
 * Junction's default routing script: the equivalent of Kamailio's kamailio-basic-kemi
 * (sanity, max-forwards, CANCEL/ACK, in-dialog requests by loose routing, record-route, relay).
 * Registration: REGISTERs addressed to this server are saved (KSR.registrar.save), with digest
 * authentication once the subscriber table has entries (`junction subscriber add`); calls to a
 * user of this server go to its registered contacts (KSR.registrar.lookup). Requests for other
 * hosts are relayed as before.
 * Softswitch (M4) call routing, only when `connection_points` are configured: a new INVITE from a
 * connection point is localized, passed to its external script (which may reject it or rewrite
 * its numbers) and sent to its termination points with failover (KSR.cp.route); an INVITE from
 * an unknown source is refused with 403.
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

  // Registrations to this server: authenticate (when subscribers exist), then save.
  if (KSR.is_REGISTER() && KSR.is_myself_ruri()) {
    await route_auth(KSR);
    // save() answers itself: 200 with the bindings, or 400 / 423 / 500 / 503.
    await KSR.registrar.save('location', 0);
    KSR.x.exit();
  }

  if (KSR.is_method_in('IS')) KSR.rr.record_route();

  // M4 call routing: connection point → external script → termination points.
  if (KSR.is_INVITE() && KSR.cp.enabled() > 0) {
    await KSR.cp.route();
    KSR.x.exit();
  }

  if (KSR.pv.is_null('$rU')) {
    // Request addressed to the server itself (e.g. OPTIONS keep-alives).
    if (KSR.is_OPTIONS() && KSR.is_myself_ruri()) {
      KSR.sl.sl_send_reply(200, 'Keepalive');
      KSR.x.exit();
    }
    KSR.sl.sl_send_reply(484, 'Address Incomplete');
    KSR.x.exit();
  }
  // A user of this server: its registered contacts.
  if (KSR.is_myself_ruri()) await route_location(KSR);
  await route_relay(KSR);
}

/** User location: the equivalent of route[LOCATION]. */
async function route_location(KSR: Ksr): Promise<void> {
  const rc = await KSR.registrar.lookup('location');
  if (rc < 0) {
    if (rc === -1 || rc === -3) KSR.sl.send_reply(404, 'Not Found');
    else if (rc === -2) KSR.sl.send_reply(405, 'Method Not Allowed');
    KSR.x.exit();
  }
}

/** Digest authentication of REGISTERs, once the subscriber table has entries: route[AUTH]. */
async function route_auth(KSR: Ksr): Promise<void> {
  if ((await KSR.auth_db.subscriber_count('subscriber')) <= 0) return;
  // Realm '' = the To domain of the REGISTER; flag 1: the authentication user must be the To user.
  if ((await KSR.auth_db.auth_check('', 'subscriber', 1)) < 0) {
    await KSR.auth.auth_challenge('', 0);
    KSR.x.exit();
  }
  KSR.auth.consume_credentials();
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
export async function ksr_failure_manage(KSR: Ksr): Promise<void> {
  if (KSR.tm.t_is_canceled() > 0) return;
  // Serial forking: contacts registered with a lower q are tried after the better ones failed.
  if (KSR.registrar.next_contacts() > 0) {
    if (KSR.tm.t_is_set('failure_route') < 0) KSR.tm.t_on_failure('ksr_failure_manage');
    await KSR.tm.t_relay();
  }
}
