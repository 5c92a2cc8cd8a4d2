-- Junction's default routing script in Lua (Kamailio KEMI, app_lua style): the same routing as
-- routes/default.ts, the equivalent of Kamailio's kamailio-basic-kemi (sanity, max-forwards,
-- CANCEL/ACK, in-dialog requests by loose routing, record-route, relay). Registration: REGISTERs
-- addressed to this server are saved (KSR.registrar.save), with digest authentication once the
-- subscriber table has entries (`junction subscriber add`); calls to a user of this server go to
-- its registered contacts (KSR.registrar.lookup). Requests for other hosts are relayed.
--
-- Select it with `script: routes/default.lua`. Copy it, edit it, reload it (`kill -HUP <pid>`, or
-- the `reload_routes` / `app_lua.reload` management command): a script that does not load is
-- refused and the running one keeps running.
--
-- KSR functions that wait for I/O (t_relay, registrar, auth_db, ...) suspend only this message's
-- coroutine: call them as ordinary functions. KSR.x.exit() ends the route (do not wrap it in
-- pcall: pcall would catch the exit, as in Kamailio).

-- SIP request routing: the equivalent of request_route {}.
function ksr_request_route()
  -- Per-request initial checks.
  route_reqinit()

  -- CANCEL: Junction matches it to its INVITE before the script runs (t_check_trans semantics);
  -- a CANCEL that reaches the script matched nothing and is answered 481.
  if KSR.is_CANCEL() then
    if KSR.tm.t_check_trans() > 0 then route_relay() end
    return
  end

  -- Requests within a dialog.
  route_withindlg()

  -- Only initial requests (no To-tag) below. Record-Route so in-dialog requests come back through us.
  KSR.hdr.remove("Route")

  -- Registrations to this server: authenticate (when subscribers exist), then save.
  if KSR.is_REGISTER() and KSR.is_myself_ruri() then
    route_auth()
    -- save() answers itself: 200 with the bindings, or 400 / 423 / 500 / 503.
    KSR.registrar.save("location", 0)
    KSR.x.exit()
  end

  if KSR.is_method_in("IS") then KSR.rr.record_route() end

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
  KSR.auth.consume_credentials()
end

function route_relay()
  if KSR.is_method_in("IBSCUP") then
    if KSR.tm.t_is_set("failure_route") < 0 then KSR.tm.t_on_failure("ksr_failure_manage") end
  end
  if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
  KSR.x.exit()
end

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

function route_withindlg()
  if KSR.siputils.has_totag() < 0 then return end
  -- Sequential request within a dialog: take the path determined by record-routing.
  if KSR.rr.loose_route() > 0 then
    if KSR.is_ACK() then
      -- ACK for a 2xx is end to end: stateless forward.
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

-- Failure route: the equivalent of failure_route[MANAGE_FAILURE].
function ksr_failure_manage()
  if KSR.tm.t_is_canceled() > 0 then return end
  -- Serial forking: contacts registered with a lower q are tried after the better ones failed.
  if KSR.registrar.next_contacts() > 0 then
    if KSR.tm.t_is_set("failure_route") < 0 then KSR.tm.t_on_failure("ksr_failure_manage") end
    KSR.tm.t_relay()
  end
end
