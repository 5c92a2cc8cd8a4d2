/**
 * TypeScript signatures of Kamailio's KEMI functions, as Junction exposes them, for the generated
 * KSR types (src/script/types.ts). Only functions a module actually defines are emitted; a module
 * may override an entry with `signature`/`doc` on its KsrFunction. Functions that do I/O (relay,
 * stateless forward) return Promises here: that is the one deliberate difference from Kamailio,
 * and the reason a ported script adds `await`.
 *
 * Boolean-returning KEMI functions (`is_*`, `isflagset`, ...) return booleans as in Kamailio's
 * KEMI (SR_KEMIP_BOOL); everything else follows the return convention >0 true, <0 false.
 */

export interface KemiSignature {
  readonly sig: string;
  readonly doc?: string;
}

const N0 = '() => number';
const B0 = '() => boolean';
const N_FLAG = '(flag: number) => number';
const B_FLAG = '(flag: number) => boolean';
const LOG = '(msg: string) => void';
const HANDLER = '(handler: RouteHandler) => number';
const REL = '() => Promise<number>';

function e(sig: string, doc?: string): KemiSignature {
  return doc === undefined ? { sig } : { sig, doc };
}

const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'MESSAGE', 'SUBSCRIBE', 'PUBLISH', 'NOTIFY'];
const METHODS2 = ['OPTIONS', 'INFO', 'UPDATE', 'PRACK', 'REFER', 'KDMQ', 'GET', 'POST', 'PUT', 'DELETE'];

const core: Record<string, KemiSignature> = {
  dbg: e(LOG, 'Log at debug level.'),
  info: e(LOG, 'Log at info level.'),
  notice: e(LOG, 'Log at notice level.'),
  warn: e(LOG, 'Log at warning level.'),
  err: e(LOG, 'Log at error level.'),
  crit: e(LOG, 'Log at critical level.'),
  log: e(
    "(level: 'dbg' | 'info' | 'notice' | 'warn' | 'err' | 'crit' | 'alert' | string, msg: string) => void",
    'Log at the given level.',
  ),
  is_method: e('(method: string) => boolean', 'True when the method of the message is `method`.'),
  is_method_in: e(
    '(methods: string) => boolean',
    'True when the method is one of the letters (I A B C R M O S P N U K G T V D).',
  ),
  is_myself: e('(uri: string) => boolean', 'True when the URI is a local address or domain.'),
  is_myself_ruri: e(B0, 'True when the Request-URI is local.'),
  is_myself_furi: e(B0, 'True when the From URI is local.'),
  is_myself_turi: e(B0, 'True when the To URI is local.'),
  is_myself_suri: e(B0, 'True when the source address (as a URI) is local.'),
  is_myself_srcip: e(B0, 'True when the source IP is local.'),
  is_proto: e('(protos: string) => boolean', 'True when the transport is one of the letters (e u t s w W).'),
  is_UDP: e(B0),
  is_TCP: e(B0),
  is_TLS: e(B0),
  is_WS: e(B0),
  is_WSS: e(B0),
  is_WSX: e(B0),
  is_SCTP: e(B0),
  is_IPv4: e(B0),
  is_IPv6: e(B0),
  setflag: e(N_FLAG, 'Set a message/transaction flag (0-31).'),
  resetflag: e(N_FLAG, 'Reset a message/transaction flag.'),
  isflagset: e(B_FLAG, 'Test a message/transaction flag.'),
  setbflag: e(N_FLAG, 'Set a branch flag of branch 0.'),
  resetbflag: e(N_FLAG, 'Reset a branch flag of branch 0.'),
  isbflagset: e(B_FLAG, 'Test a branch flag of branch 0.'),
  setbiflag: e('(flag: number, branch: number) => number', 'Set a branch flag of a given branch.'),
  resetbiflag: e('(flag: number, branch: number) => number', 'Reset a branch flag of a given branch.'),
  isbiflagset: e('(flag: number, branch: number) => boolean', 'Test a branch flag of a given branch.'),
  setsflag: e(N_FLAG, 'Set a script flag.'),
  resetsflag: e(N_FLAG, 'Reset a script flag.'),
  issflagset: e(B_FLAG, 'Test a script flag.'),
  seturi: e('(uri: string) => number', 'Set the Request-URI.'),
  rewriteuri: e('(uri: string) => number', 'Set the Request-URI.'),
  setuser: e('(user: string) => number', 'Set the user part of the Request-URI.'),
  sethost: e('(host: string) => number', 'Set the host part of the Request-URI.'),
  setdsturi: e('(uri: string) => number', 'Set the destination URI ($du, outbound proxy).'),
  resetdsturi: e(N0, 'Reset the destination URI.'),
  isdsturiset: e(B0, 'True when the destination URI is set.'),
  force_rport: e(N0, 'Send replies to the source port (RFC 3581 behaviour even without rport).'),
  add_local_rport: e(N0, 'Add rport to the Via of locally generated requests.'),
  add_tcp_alias: e('(port: number) => number'),
  add_tcp_alias_via: e(N0),
  set_drop: e(N0, 'Do not forward the branch or response when the route ends.'),
  set_advertised_address: e('(addr: string) => number', 'Address advertised in Via/Record-Route.'),
  set_advertised_port: e('(port: string) => number', 'Port advertised in Via/Record-Route.'),
  set_forward_close: e(N0),
  set_forward_no_connect: e(N0),
  set_reply_close: e(N0),
  set_reply_no_connect: e(N0),
  forward: e(REL, 'Forward statelessly to $du, else the Request-URI.'),
  forward_uri: e('(uri: string) => Promise<number>', 'Forward statelessly to the given URI.'),
  forward_udp: e(REL),
  forward_tcp: e(REL),
  forward_tls: e(REL),
  append_branch: e(
    '(uri?: string, q?: string | number) => number',
    'Add a branch (the Request-URI when no URI).',
  ),
  route: e('(name: string) => unknown', 'Run an exported function by name (Kamailio route(name)).'),
  setdebug: e('(level: number) => number'),
  resetdebug: e(N0),
  km_append_branch: e('(uri?: string) => number'),
};
for (const m of [...METHODS, ...METHODS2]) core[`is_${m}`] = e(B0, `True when the method is ${m}.`);

const x: Record<string, KemiSignature> = {
  exit: e('() => never', 'Stop the route (Kamailio exit). Ends it even through a try/catch.'),
  drop: e('() => never', 'Stop the route and drop the request branch or response (Kamailio drop).'),
  modf: e(
    '(fname: string, ...params: Array<string | number>) => number',
    'Call a module function by its Kamailio cfg name.',
  ),
};

const kxNames: Record<string, string> = {
  get_au: 'string',
  get_body: 'string',
  get_bodylen: 'number',
  get_callid: 'string',
  get_conid: 'number',
  get_cseq: 'string',
  get_cturi: 'string',
  get_duri: 'string',
  get_fhost: 'string',
  get_furi: 'string',
  get_fuser: 'string',
  get_fdn: 'string',
  get_ftag: 'string',
  get_method: 'string',
  get_msgbuf: 'string',
  get_msglen: 'number',
  get_msgtype: 'number',
  get_nhuri: 'string',
  get_ouri: 'string',
  get_ouser: 'string',
  get_proto: 'number',
  get_protoname: 'string',
  get_rcvip: 'string',
  get_rcvport: 'number',
  get_rcvaddr: 'string',
  get_rcvadvip: 'string',
  get_rcvadvport: 'string',
  get_rhost: 'string',
  get_rport: 'number',
  get_ruri: 'string',
  get_ruser: 'string',
  get_srcip: 'string',
  get_srcport: 'number',
  get_srcuri: 'string',
  get_status: 'number',
  get_thost: 'string',
  get_timestamp: 'number',
  get_tdn: 'string',
  get_ttag: 'string',
  get_turi: 'string',
  get_tuser: 'string',
  get_ua: 'string',
  get_pid: 'number',
  get_ppid: 'number',
};
const kx: Record<string, KemiSignature> = {
  get_def: e('(name: string) => string | null', 'Value of a #!define.'),
  get_defn: e('(name: string) => number', 'Numeric value of a #!define.'),
  get_env: e('(name: string) => string | null', 'Value of an environment variable.'),
  get_envn: e('(name: string) => number', 'Numeric value of an environment variable.'),
  get_hdr: e('(name: string) => string | null'),
};
for (const [name, ret] of Object.entries(kxNames)) {
  kx[name] = e(`() => ${ret}`);
  if (ret === 'string') {
    kx[name.replace('get_', 'gete_')] = e('() => string', `As ${name}, '' when unset.`);
    kx[name.replace('get_', 'getw_')] = e('() => string', `As ${name}, '<null>' when unset.`);
  }
}

const PV = 'string | number';
const pv: Record<string, KemiSignature> = {
  get: e(
    `(name: string) => ${PV} | null`,
    'Value of a pseudo-variable ($ru, $var(x), $hdr(Name) ...), null when $null.',
  ),
  gete: e(`(name: string) => ${PV}`, "Value of a pseudo-variable, '' when $null."),
  getw: e(`(name: string) => ${PV}`, "Value of a pseudo-variable, '<null>' when $null."),
  getvn: e(`(name: string, vn: number) => ${PV}`, 'Value of a pseudo-variable, `vn` when $null.'),
  getvs: e(`(name: string, vs: string) => ${PV}`, 'Value of a pseudo-variable, `vs` when $null.'),
  sets: e('(name: string, value: string) => number', 'Set a pseudo-variable to a string.'),
  seti: e('(name: string, value: number) => number', 'Set a pseudo-variable to an integer.'),
  unset: e('(name: string) => number', 'Set a pseudo-variable to $null.'),
  is_null: e('(name: string) => boolean', 'True when the pseudo-variable is $null.'),
};

const hdr: Record<string, KemiSignature> = {
  append: e('(line: string) => number', 'Append a header line ("Name: value\\r\\n") after the last header.'),
  append_after: e(
    '(line: string, after: string) => number',
    'Append a header line after the first header called `after`.',
  ),
  insert: e('(line: string) => number', 'Insert a header line before the first header.'),
  insert_before: e(
    '(line: string, before: string) => number',
    'Insert a header line before the first header called `before`.',
  ),
  remove: e('(name: string) => number', 'Remove every header called `name`.'),
  rmappend: e('(name: string, line: string) => number', 'Remove headers called `name`, then append `line`.'),
  rminsert: e('(name: string, line: string) => number', 'Remove headers called `name`, then insert `line`.'),
  is_present: e('(name: string) => number', '>0 when a header called `name` exists.'),
  get: e('(name: string) => string | null', 'Value of the first header called `name`.'),
  get_idx: e(
    '(name: string, idx: number) => string | null',
    'Value of the idx-th header called `name` (negative: from the end).',
  ),
  gete: e('(name: string) => string'),
  getw: e('(name: string) => string'),
  append_to_reply: e('(line: string) => number', 'Add a header line to the next locally generated reply.'),
  match_content: e('(name: string, op: string, mval: string, hidx: string) => number'),
};

const sl: Record<string, KemiSignature> = {
  sl_send_reply: e('(code: number, reason: string) => number', 'Send a stateless reply.'),
  send_reply: e(
    '(code: number, reason: string) => number',
    'Send a reply: stateful when a transaction exists, else stateless.',
  ),
  sl_reply_error: e(N0, 'Send a reply describing the last internal error.'),
  sl_forward_reply: e('(code: string, reason: string) => number'),
  get_reply_totag: e('() => string | null', 'The To tag of replies the server generates.'),
};

const tm: Record<string, KemiSignature> = {
  t_relay: e(REL, 'Relay statefully to $du / the Request-URI and every branch.'),
  t_relay_to_proxy: e('(proxy: string) => Promise<number>', 'Relay statefully to `proto:host:port`.'),
  t_relay_to_flags: e('(flags: number) => Promise<number>'),
  t_relay_to_proxy_flags: e('(proxy: string, flags: number) => Promise<number>'),
  t_on_branch: e(HANDLER, 'Run this function (or exported name) for each branch before it is sent.'),
  t_on_reply: e(HANDLER, 'Run this function (or exported name) for each reply received.'),
  t_on_failure: e(
    HANDLER,
    'Run this function (or exported name) when the transaction fails (final reply >= 300).',
  ),
  t_on_branch_failure: e(HANDLER, 'Run this function (or exported name) for each failed branch.'),
  t_reply: e('(code: number, reason: string) => number', 'Reply statefully.'),
  t_send_reply: e('(code: number, reason: string) => number', 'Reply statefully (creating the transaction).'),
  t_check_trans: e(N0, '>0 when a transaction exists for the request (and retransmissions are absorbed).'),
  t_is_canceled: e(N0, '>0 when the transaction was canceled.'),
  t_is_expired: e(N0),
  t_newtran: e(N0, 'Create the server transaction now.'),
  t_release: e(N0),
  t_is_set: e(
    "(target: 'branch_route' | 'failure_route' | 'onreply_route' | 'branch_failure_route' | string) => number",
    '>0 when a handler of that kind is set.',
  ),
  t_set_fr: e(
    '(frInvMs: number, frMs: number) => number',
    'Per-transaction final response timers, ms (0 keeps the default).',
  ),
  t_reset_fr: e(N0),
  t_set_max_lifetime: e('(inviteMs: number, nonInviteMs: number) => number'),
  t_reset_max_lifetime: e(N0),
  t_set_retr: e('(t1Ms: number, t2Ms: number) => number'),
  t_reset_retr: e(N0),
  t_branch_timeout: e(N0, '>0 in failure route when a branch timed out.'),
  t_branch_replied: e(N0, '>0 in failure route when a branch received a reply.'),
  t_any_timeout: e(N0),
  t_any_replied: e(N0),
  t_grep_status: e('(code: number) => number'),
  t_check_status: e('(regex: string) => number', '>0 when the reply status matches the regular expression.'),
  t_get_status_code: e(N0, 'Status code of the selected reply (-1 when none).'),
  t_get_branch_index: e(N0),
  t_use_uac_headers: e(N0),
  t_save_lumps: e(N0),
  t_load_contacts: e('(mode?: number) => number'),
  t_next_contacts: e(N0),
  t_next_contact_flow: e(N0),
  t_drop_replies: e('(mode?: string) => number'),
  t_retransmit_reply: e(N0),
  t_replicate: e('(uri: string) => Promise<number>'),
  t_set_auto_inv_100: e('(state: number) => number'),
  t_set_disable_6xx: e('(state: number) => number'),
  t_set_disable_failover: e('(state: number) => number'),
  t_set_disable_internal_reply: e('(state: number) => number'),
  t_set_no_e2e_cancel_reason: e('(state: number) => number'),
  t_relay_cancel: e(REL),
  t_lookup_cancel: e('(flag?: number) => number'),
  t_lookup_request: e(N0),
  t_clean: e(N0),
  t_uac_send: e(
    '(method: string, ruri: string, nexthop: string, ssock: string, hdrs: string, body: string) => Promise<number>',
  ),
};

const tmx: Record<string, KemiSignature> = {
  t_cancel_branches: e("(mode: 'all' | 'others' | 'this') => number"),
  t_cancel_callid: e('(callid: string, cseq: string, flags: number, rcode: number) => number'),
  t_continue: e('(tindex: number, tlabel: number, route: string) => number'),
  t_drop: e(N0),
  t_flush_flags: e(N0),
  t_flush_xflags: e(N0),
  t_is_failure_route: e(N0),
  t_is_branch_route: e(N0),
  t_is_reply_route: e(N0),
  t_is_request_route: e(N0),
  t_precheck_trans: e(N0, '>0 when a transaction for the request is being created (a retransmission).'),
  t_reply_callid: e('(callid: string, cseq: string, code: number, reason: string) => number'),
  t_suspend: e(N0),
  t_reuse_branch: e(N0),
};

const rr: Record<string, KemiSignature> = {
  record_route: e(N0, 'Add Record-Route (double when the transport or interface changes).'),
  record_route_params: e('(params: string) => number', 'Add Record-Route with extra parameters.'),
  record_route_preset_one: e('(addr: string) => number'),
  record_route_preset: e('(addr1: string, addr2: string) => number'),
  record_route_advertised_address: e('(addr: string) => number'),
  loose_route: e(N0, 'Route by the Route headers (RFC 3261 §16.4); >0 when routed.'),
  loose_route_preloaded: e(N0),
  loose_route_mode: e('(mode: number) => number'),
  remove_record_route: e(N0),
  add_rr_param: e('(param: string) => number', 'Add a parameter to our Record-Route.'),
  check_route_param: e('(regex: string) => number'),
  is_direction: e("(dir: 'downstream' | 'upstream') => number"),
  next_hop_route: e(N0),
  rr_next_hop_route: e(N0),
};

const maxfwd: Record<string, KemiSignature> = {
  process_maxfwd: e(
    '(limit: number) => number',
    'Decrement Max-Forwards (add it when missing, capped at limit); <0 when it reached 0.',
  ),
  is_maxfwd_lt: e('(limit: number) => number', '>0 when Max-Forwards is lower than limit.'),
};

const sanity: Record<string, KemiSignature> = {
  sanity_check: e(
    '(msgChecks: number, uriChecks: number) => number',
    'Check the message (bit masks as in Kamailio); <0 and a reply when it fails.',
  ),
  sanity_check_defaults: e(N0),
  sanity_reply: e(N0),
};

const siputils: Record<string, KemiSignature> = {
  has_totag: e(N0, '>0 when the To header has a tag (an in-dialog request).'),
  is_request: e(N0),
  is_reply: e(N0),
  is_first_hop: e(N0),
  is_first_hop_mode: e('(mode: number) => number'),
  is_uri: e('(uri: string) => number'),
  is_user: e('(user: string) => number'),
  is_tel_number: e('(s: string) => number'),
  is_numeric: e('(s: string) => number'),
  is_alphanum: e('(s: string) => number'),
  is_alphanumex: e('(s: string, extra: string) => number'),
  is_e164: e('(s: string) => number'),
  is_uri_user_e164: e('(uri: string) => number'),
  is_supported: e('(option: string) => number'),
  is_gruu: e(N0),
  options_reply: e(N0),
  uri_param: e('(name: string) => number'),
  uri_param_value: e('(name: string, value: string) => number'),
  uri_param_any: e('(name: string) => number'),
  add_uri_param: e('(param: string) => number'),
  uri_param_rm: e('(name: string) => number'),
  tel2sip: e('(uri: string, hostpart: string, pvname: string) => number'),
  cmp_uri: e('(uri1: string, uri2: string) => number'),
  cmp_aor: e('(uri1: string, uri2: string) => number'),
  cmp_hdr_name: e('(name1: string, name2: string) => number'),
  contact_param_encode: e('(name: string, saddr: string) => number'),
  contact_param_decode: e('(name: string) => number'),
  contact_param_decode_ruri: e('(name: string) => number'),
  contact_param_rm: e('(name: string) => number'),
  hdr_date_check: e('(tdiff: number) => number'),
  set_uri_user: e('(uri: string, value: string) => number'),
  set_uri_host: e('(uri: string, value: string) => number'),
};

const corex: Record<string, KemiSignature> = {
  append_branch: e(N0, 'Add the Request-URI (and $du) as a new branch.'),
  append_branch_uri: e('(uri: string) => number', 'Add a branch to the given URI.'),
  append_branch_uri_q: e('(uri: string, q: string) => number', 'Add a branch with a q value.'),
  set_recv_socket: e('(sock: string) => number'),
  set_send_socket: e('(sock: string) => number'),
  set_send_socket_name: e('(name: string) => number'),
  set_source_address: e('(addr: string) => number'),
  via_add_srvid: e('(flags: number) => number'),
  via_add_xavp_params: e('(flags: number) => number'),
  via_use_xavp_fields: e('(flags: number) => number'),
  has_ruri_user: e(N0, '>0 when the Request-URI has a user part.'),
  has_user_agent: e(N0, '>0 when the message has a User-Agent header.'),
  isxflagset: e(N_FLAG),
  setxflag: e(N_FLAG),
  resetxflag: e(N_FLAG),
  msg_iflag_set: e('(name: string) => number'),
  msg_iflag_reset: e('(name: string) => number'),
  msg_iflag_is_set: e('(name: string) => number'),
  file_read: e('(path: string, pvname: string) => Promise<number>'),
  file_write: e('(path: string, content: string) => Promise<number>'),
  send_data: e('(uri: string, data: string) => Promise<number>'),
  sendx: e('(uri: string, sock: string, data: string) => Promise<number>'),
  is_faked_msg: e(N0),
  is_socket_name: e('(name: string) => number'),
};

/** Signatures by module ('' = core) and function name. */
export const KEMI_SIGNATURES: Readonly<Record<string, Readonly<Record<string, KemiSignature>>>> = {
  '': core,
  x,
  kx,
  pv,
  hdr,
  sl,
  tm,
  tmx,
  rr,
  maxfwd,
  sanity,
  siputils,
  corex,
};

export function kemiSignature(module: string, fname: string): KemiSignature | undefined {
  return KEMI_SIGNATURES[module]?.[fname];
}
