-- Junction's default routing script in Lua (Kamailio KEMI, app_lua style): the same routing as
-- routes/default.ts, the equivalent of Kamailio's kamailio-basic-kemi (sanity, max-forwards,
-- CANCEL/ACK, in-dialog requests by loose routing, record-route, relay). Registration: REGISTERs
-- addressed to this server are saved (KSR.registrar.save), with digest authentication once the
-- subscriber table has entries (`junction subscriber add`); calls to a user of this server go to
-- its registered contacts (KSR.registrar.lookup). Requests for other hosts are relayed.
-- NAT traversal (kamailio-basic-kemi's NATDETECT / NATMANAGE / DLGURI): phones behind NAT and
-- WebSocket phones are detected (nathelper nat_uac_test), their registrations saved with the
-- source address and the NAT / keep-alive branch flags, their Contacts aliased to the source so
-- in-dialog requests find them again (set_contact_alias / handle_ruri_alias), and dialogs with
-- them marked `;nat=yes` in Record-Route. (No RTP relay: media anchoring is out of scope.)
-- Softswitch (M4) call routing, only when `connection_points` are configured: a new INVITE from a
-- connection point is localized, passed to its external script (which may reject it or rewrite
-- its numbers) and sent to its termination points with failover (KSR.cp.route); an INVITE from
-- an unknown source is refused with 403.
--
-- Select it with `script: routes/default.lua`. Copy it, edit it, reload it (`kill -HUP <pid>`, or
-- the `reload_routes` / `app_lua.reload` management command): a script that does not load is
-- refused and the running one keeps running.
--
-- KSR functions that wait for I/O (t_relay, registrar, auth_db, cp.route, ...) suspend only this
-- message's coroutine: call them as ordinary functions. KSR.x.exit() ends the route (do not wrap
-- it in pcall: pcall would catch the exit, as in Kamailio).

-- Flags as kamailio-basic-kemi numbers them: NAT seen on this transaction; NAT and ping per branch.
FLT_NATS = 5
FLB_NATB = 6
FLB_NATSIPPING = 7

-- SIP request routing: the equivalent of request_route {}.
function ksr_request_route()
  -- Per-request initial checks.
  route_reqinit()

  -- NAT detection.
  route_natdetect()

  -- CANCEL: Junction matches it to its INVITE before the script runs (t_check_trans semantics);
  -- a CANCEL that reaches the script matched nothing and is answered 481.
  if KSR.is_CANCEL() then
    if KSR.tm.t_check_trans() > 0 then route_relay() end
    return
  end

  -- Requests within a dialog (with a To tag): route_withindlg ends them.
  if KSR.siputils.has_totag() > 0 then route_withindlg() end

  -- Only initial requests (no To-tag) below. Record-Route so in-dialog requests come back through us.
  KSR.hdr.remove("Route")

  -- Registrations to this server: authenticate (when subscribers exist), then save.
  if KSR.is_REGISTER() and KSR.is_myself_ruri() then
    route_auth()
    if KSR.isflagset(FLT_NATS) then
      KSR.setbflag(FLB_NATB)
      -- Keep-alive pings to this contact (modules.nathelper.natping_interval).
      KSR.setbflag(FLB_NATSIPPING)
    end
    -- save() answers itself: 200 with the bindings, or 400 / 423 / 500 / 503.
    KSR.registrar.save("location", 0)
    KSR.x.exit()
  end

  if KSR.is_method_in("IS") then KSR.rr.record_route() end

  -- M4 call routing: connection point -> external script -> termination points.
  if KSR.is_INVITE() and KSR.cp.enabled() > 0 then
    KSR.cp.route()
    KSR.x.exit()
  end

  if KSR.pv.is_null("$rU") then
    -- Request addressed to the server itself (e.g. OPTIONS keep-alives).
    if KSR.is_OPTIONS() and KSR.is_myself_ruri() then
      KSR.sl.sl_send_reply(200, "Keepalive")
      KSR.x.exit()
    end
    KSR.sl.sl_send_reply(484, "Address Incomplete")
    KSR.x.exit()
  end
  -- A user of this server: its registered contacts.
  if KSR.is_myself_ruri() then route_location() end
  route_relay()
end

-- User location: the equivalent of route[LOCATION].
function route_location()
  local rc = KSR.registrar.lookup("location")
  if rc < 0 then
    if rc == -1 or rc == -3 then
      KSR.sl.send_reply(404, "Not Found")
    elseif rc == -2 then
      KSR.sl.send_reply(405, "Method Not Allowed")
    end
    KSR.x.exit()
  end
end

-- Digest authentication of REGISTERs, once the subscriber table has entries: route[AUTH].
function route_auth()
  if KSR.auth_db.subscriber_count("subscriber") <= 0 then return end
  -- Realm "" = the To domain of the REGISTER; flag 1: the authentication user must be the To user.
  if KSR.auth_db.auth_check("", "subscriber", 1) < 0 then
    KSR.auth.auth_challenge("", 0)
    KSR.x.exit()
  end
  -- User authenticated: remove the credentials before relaying (kamailio-basic-kemi: not from a
  -- REGISTER or PUBLISH, which are handled here, so nothing is relayed).
  if not KSR.is_method_in("RP") then KSR.auth.consume_credentials() end
end

-- Relay: route[RELAY].
function route_relay()
  -- Branch and reply routes for NAT handling of forwarded requests.
  if KSR.is_method_in("IBSU") and KSR.tm.t_is_set("branch_route") < 0 then
    KSR.tm.t_on_branch("ksr_branch_manage")
  end
  if KSR.is_method_in("ISU") and KSR.tm.t_is_set("onreply_route") < 0 then
    KSR.tm.t_on_reply("ksr_onreply_manage")
  end
  if KSR.is_method_in("IBSCUP") then
    if KSR.tm.t_is_set("failure_route") < 0 then KSR.tm.t_on_failure("ksr_failure_manage") end
  end
  -- t_relay may resolve a host name or run branch routes; the transaction is kept (retransmissions
  -- absorbed) meanwhile.
  if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
  KSR.x.exit()
end

-- Per-request initial checks: route[REQINIT].
function route_reqinit()
  if KSR.maxfwd.process_maxfwd(10) < 0 then
    KSR.sl.sl_send_reply(483, "Too Many Hops")
    KSR.x.exit()
  end
  if KSR.sanity.sanity_check(17895, 7) < 0 then
    KSR.err("malformed SIP message from " .. KSR.pv.get("$si") .. ":" .. KSR.pv.get("$sp") .. "\n")
    KSR.x.exit()
  end
end

-- Requests within a dialog: route[WITHINDLG] (called for requests with a To tag).
function route_withindlg()
  -- Sequential request within a dialog: take the path determined by record-routing.
  if KSR.rr.loose_route() > 0 then
    route_dlguri()
    if KSR.is_ACK() then
      -- ACK for a 2xx is end to end: stateless forward.
      route_natmanage()
      KSR.forward()
      KSR.x.exit()
    end
    route_relay()
    KSR.x.exit()
  end
  if KSR.is_ACK() then
    if KSR.tm.t_check_trans() > 0 then
      -- No loose-route but stateful ACK: must be an ACK after a 487 or a 404 from us.
      route_relay()
    end
    KSR.x.exit()
  end
  KSR.sl.sl_send_reply(404, "Not here")
  KSR.x.exit()
end

-- Caller NAT detection: route[NATDETECT]. 19 = private Contact, Via address or port mismatch;
-- 64 = WebSocket.
function route_natdetect()
  KSR.force_rport()
  if KSR.nathelper.nat_uac_test(19 | 64) > 0 then
    if KSR.is_REGISTER() then
      KSR.nathelper.fix_nated_register()
    elseif KSR.siputils.is_first_hop() > 0 then
      KSR.nathelper.set_contact_alias()
    end
    KSR.setflag(FLT_NATS)
  end
end

-- NAT handling of branches and replies: route[NATMANAGE] (without RTP relaying).
function route_natmanage()
  if KSR.siputils.is_request() > 0 and KSR.siputils.has_totag() > 0 then
    if KSR.rr.check_route_param("nat=yes") > 0 then KSR.setbflag(FLB_NATB) end
  end
  if not (KSR.isflagset(FLT_NATS) or KSR.isbflagset(FLB_NATB)) then return end
  if KSR.siputils.is_request() > 0 and KSR.siputils.has_totag() < 0 then
    if KSR.tmx.t_is_branch_route() > 0 then KSR.rr.add_rr_param(";nat=yes") end
  end
  if KSR.siputils.is_reply() > 0 and KSR.isbflagset(FLB_NATB) then KSR.nathelper.set_contact_alias() end
end

-- URI update for dialog requests: route[DLGURI].
function route_dlguri()
  if not KSR.isdsturiset() then KSR.nathelper.handle_ruri_alias() end
end

-- Branch route: route[MANAGE_BRANCH].
function ksr_branch_manage()
  route_natmanage()
end

-- Reply route for forwarded requests: onreply_route[MANAGE_REPLY].
function ksr_onreply_manage()
  local code = KSR.kx.get_status()
  if code > 100 and code < 299 then route_natmanage() end
end

-- Failure route: the equivalent of failure_route[MANAGE_FAILURE].
function ksr_failure_manage()
  route_natmanage()
  if KSR.tm.t_is_canceled() > 0 then return end
  -- Serial forking: contacts registered with a lower q are tried after the better ones failed.
  if KSR.registrar.next_contacts() > 0 then
    if KSR.tm.t_is_set("failure_route") < 0 then KSR.tm.t_on_failure("ksr_failure_manage") end
    KSR.tm.t_relay()
  end
end
