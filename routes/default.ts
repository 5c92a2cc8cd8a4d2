/**
 * Junction's default routing script: the equivalent of Kamailio's kamailio-basic-kemi
 * (sanity, max-forwards, CANCEL/ACK, in-dialog requests by loose routing, record-route, relay).
 * Registration: REGISTERs addressed to this server are saved (KSR.registrar.save), with digest
 * authentication once the subscriber table has entries (`junction subscriber add`); calls to a
 * user of this server go to its registered contacts (KSR.registrar.lookup). Requests for other
 * hosts are relayed as before.
 * NAT traversal (kamailio-basic-kemi's NATDETECT / NATMANAGE / DLGURI): phones behind NAT and
 * WebSocket phones are detected (nathelper nat_uac_test), their registrations saved with the
 * source address and the NAT / keep-alive branch flags, their Contacts aliased to the source so
 * in-dialog requests find them again (set_contact_alias / handle_ruri_alias), and dialogs with
 * them marked `;nat=yes` in Record-Route. (No RTP relay: media anchoring is out of scope.)
 * Softswitch (M4) call routing, only when `connection_points` are configured: a new INVITE from a
 * connection point is localized, passed to its external script (which may reject it or rewrite
 * its numbers) and sent to its termination points with failover (KSR.cp.route); an INVITE from
 * an unknown source is refused with 403.
 *
 * Copy it, edit it, reload it (`kill -HUP <pid>` or the `reload_routes` management command):
 * a script that does not load is refused and this one keeps running.
 */
import type { KSR as Ksr } from '../src/script/types.ts';

/** Flags as kamailio-basic-kemi numbers them: NAT seen on this transaction; NAT and ping per branch. */
const FLT_NATS = 5;
const FLB_NATB = 6;
const FLB_NATSIPPING = 7;

/** SIP request routing: the equivalent of request_route {}. */
export async function ksr_request_route(KSR: Ksr): Promise<void> {
  // Per-request initial checks.
  route_reqinit(KSR);

  // NAT detection.
  route_natdetect(KSR);

  // CANCEL: Junction matches it to its INVITE before the script runs (t_check_trans semantics);
  // a CANCEL that reaches the script matched nothing and is answered 481.
  if (KSR.is_CANCEL()) {
    if (KSR.tm.t_check_trans() > 0) await route_relay(KSR);
    return;
  }

  // Requests within a dialog (with a To tag): route_withindlg ends them.
  if (KSR.siputils.has_totag() > 0) await route_withindlg(KSR);

  // Only initial requests (no To-tag) below. Record-Route so in-dialog requests come back through us.
  KSR.hdr.remove('Route');

  // Registrations to this server: authenticate (when subscribers exist), then save.
  if (KSR.is_REGISTER() && KSR.is_myself_ruri()) {
    await route_auth(KSR);
    if (KSR.isflagset(FLT_NATS)) {
      KSR.setbflag(FLB_NATB);
      // Keep-alive pings to this contact (modules.nathelper.natping_interval).
      KSR.setbflag(FLB_NATSIPPING);
    }
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
  // User authenticated: remove the credentials before relaying (kamailio-basic-kemi: not from a
  // REGISTER or PUBLISH, which are handled here, so nothing is relayed).
  if (!KSR.is_method_in('RP')) KSR.auth.consume_credentials();
}

async function route_relay(KSR: Ksr): Promise<void> {
  // Branch and reply routes for NAT handling of forwarded requests.
  if (KSR.is_method_in('IBSU') && KSR.tm.t_is_set('branch_route') < 0)
    KSR.tm.t_on_branch('ksr_branch_manage');
  if (KSR.is_method_in('ISU') && KSR.tm.t_is_set('onreply_route') < 0)
    KSR.tm.t_on_reply('ksr_onreply_manage');
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

/** Requests within a dialog: route[WITHINDLG] (called for requests with a To tag). */
async function route_withindlg(KSR: Ksr): Promise<void> {
  // Sequential request within a dialog: take the path determined by record-routing.
  if (KSR.rr.loose_route() > 0) {
    route_dlguri(KSR);
    if (KSR.is_ACK()) {
      // ACK for a 2xx is end to end: stateless forward.
      route_natmanage(KSR);
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

/** Caller NAT detection: route[NATDETECT]. 19 = private Contact, Via address or port mismatch; 64 = WebSocket. */
function route_natdetect(KSR: Ksr): void {
  KSR.force_rport();
  if (KSR.nathelper.nat_uac_test(19 | 64) > 0) {
    if (KSR.is_REGISTER()) KSR.nathelper.fix_nated_register();
    else if (KSR.siputils.is_first_hop() > 0) KSR.nathelper.set_contact_alias();
    KSR.setflag(FLT_NATS);
  }
}

/** NAT handling of branches and replies: route[NATMANAGE] (without RTP relaying). */
function route_natmanage(KSR: Ksr): void {
  if (KSR.siputils.is_request() > 0 && KSR.siputils.has_totag() > 0) {
    if (KSR.rr.check_route_param('nat=yes') > 0) KSR.setbflag(FLB_NATB);
  }
  if (!(KSR.isflagset(FLT_NATS) || KSR.isbflagset(FLB_NATB))) return;
  if (KSR.siputils.is_request() > 0 && KSR.siputils.has_totag() < 0) {
    if (KSR.tmx.t_is_branch_route() > 0) KSR.rr.add_rr_param(';nat=yes');
  }
  if (KSR.siputils.is_reply() > 0 && KSR.isbflagset(FLB_NATB)) KSR.nathelper.set_contact_alias();
}

/** URI update for dialog requests: route[DLGURI]. */
function route_dlguri(KSR: Ksr): void {
  if (!KSR.isdsturiset()) KSR.nathelper.handle_ruri_alias();
}

/** Branch route: route[MANAGE_BRANCH]. */
export function ksr_branch_manage(KSR: Ksr): void {
  route_natmanage(KSR);
}

/** Reply route for forwarded requests: onreply_route[MANAGE_REPLY]. */
export function ksr_onreply_manage(KSR: Ksr): void {
  const code = KSR.kx.get_status();
  if (code > 100 && code < 299) route_natmanage(KSR);
}

/** Failure route: the equivalent of failure_route[MANAGE_FAILURE]. */
export async function ksr_failure_manage(KSR: Ksr): Promise<void> {
  route_natmanage(KSR);
  if (KSR.tm.t_is_canceled() > 0) return;
  // Serial forking: contacts registered with a lower q are tried after the better ones failed.
  if (KSR.registrar.next_contacts() > 0) {
    if (KSR.tm.t_is_set('failure_route') < 0) KSR.tm.t_on_failure('ksr_failure_manage');
    await KSR.tm.t_relay();
  }
}
