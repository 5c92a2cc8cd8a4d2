/**
 * SIPp scenarios of the M4 call-flow tests (connection point → external script → termination
 * point), with the conventions of scenarios.ts: a caller whose call is hung up by the callee, a
 * callee that checks the numbers it receives and hangs up, a caller that cancels early, one that
 * expects a rejection, one that authenticates. Checks are SIPp `ereg ... check_it="true"`: the
 * call fails without a match. SIPp wants every variable used, so each captured value is echoed
 * in an X- header.
 */
import { cdata, reply, SDP, scenario } from './scenarios.ts';

const callerFrom = (src: string): string =>
  `From: "Caller" <sip:${src}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]`;
const CALLER_TO = 'To: <sip:[service]@[remote_ip]:[remote_port]>';

/** The caller's INVITE: From user `src`, To and R-URI user `[service]` (-s). */
function invite(src: string, cseq = 1, extra = ''): string {
  return `<send retrans="500">
${cdata(`INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      ${callerFrom(src)}
      ${CALLER_TO}
      Call-ID: [call_id]
      CSeq: ${cseq} INVITE
      Contact: sip:${src}@[local_ip]:[local_port]${extra}
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      ${SDP}`)}
  </send>`;
}

/**
 * A request of the caller's: `method` to `uri` (`[next_url]` in the dialog), with the route set
 * when `routes`; `branch`: SIPp's `[branch]` or `[branch-N]` (an ACK of a non-2xx, a CANCEL).
 */
function callerRequest(
  method: string,
  src: string,
  o: { cseq: number; uri?: string; branch?: string; routes?: boolean; toTag?: boolean; extra?: string },
): string {
  return `<send${method === 'ACK' ? '' : ' retrans="500"'}>
${cdata(`${method} ${o.uri ?? 'sip:[service]@[remote_ip]:[remote_port]'} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${o.branch ?? '[branch]'}
      ${callerFrom(src)}
      ${CALLER_TO}${o.toTag === false ? '' : '[peer_tag_param]'}${o.routes === true ? '\n      [routes]' : ''}
      Call-ID: [call_id]
      CSeq: ${o.cseq} ${method}${o.extra ?? ''}
      Max-Forwards: 70
      Content-Length: 0`)}
  </send>`;
}

/**
 * Caller (From user `src`) whose call the callee hangs up: INVITE, 200, ACK by the route set,
 * then a BYE that must carry the caller's own identities — From user `service` (the To the
 * caller dialed), To user `src` with the caller's tag — and is answered 200.
 */
export function uacCalleeHangsUp(src: string, service: string): string {
  return scenario(
    'uac-callee-hangs-up',
    `  ${invite(src)}
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="true"></recv>
  <recv response="200" rrs="true">
    <action>
      <ereg regexp="sip:${service}@" search_in="hdr" header="To:" check_it="true" assign_to="t200"/>
      <ereg regexp="sip:${src}@" search_in="hdr" header="From:" check_it="true" assign_to="f200"/>
    </action>
  </recv>
  ${callerRequest('ACK', src, { cseq: 1, uri: '[next_url]', routes: true, extra: '\n      X-Seen: [$t200] [$f200]' })}
  <recv request="BYE">
    <action>
      <ereg regexp="sip:${service}@" search_in="hdr" header="From:" check_it="true" assign_to="fbye"/>
      <ereg regexp="sip:${src}@.*;tag=[0-9]+SIPpTag00" search_in="hdr" header="To:" check_it="true" assign_to="tbye"/>
    </action>
  </recv>
  ${reply('200 OK', { extra: ['X-Seen: [$fbye] [$tbye]'] })}
  <timewait milliseconds="500"/>`,
  );
}

/**
 * Callee at a termination point that checks the Request-URI user `ruser`, From user `fuser` and
 * To user `tuser` of the INVITE, answers 200 (echoing Record-Route), takes the ACK, holds the call
 * `holdMs`, then hangs up with a BYE through the route set and expects its 200.
 */
export function uasChecksAndHangsUp(ruser: string, fuser: string, tuser: string, holdMs = 200): string {
  return scenario(
    'uas-checks-and-hangs-up',
    `  <recv request="INVITE" crlf="true" rrs="true">
    <action>
      <ereg regexp="^INVITE sip:${escapeRe(ruser)}@" search_in="msg" check_it="true" assign_to="ruri"/>
      <ereg regexp="sip:${escapeRe(fuser)}@" search_in="hdr" header="From:" check_it="true" assign_to="fu"/>
      <ereg regexp="sip:${escapeRe(tuser)}@" search_in="hdr" header="To:" check_it="true" assign_to="tu"/>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="from"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="to"/>
    </action>
  </recv>
  <send retrans="500">
${cdata(`SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Record-Route:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:callee@[local_ip]:[local_port];transport=[transport]>
      X-Seen: [$ruri] [$fu] [$tu]
      Content-Type: application/sdp
      Content-Length: [len]

      ${SDP}`)}
  </send>
  <recv request="ACK"></recv>
  <pause milliseconds="${holdMs}"/>
  <send retrans="500">
${cdata(`BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$to];tag=[pid]SIPpTag01[call_number]
      To: [$from]
      [routes]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Max-Forwards: 70
      Content-Length: 0`)}
  </send>
  <recv response="200"></recv>`,
  );
}

/** Caller that CANCELs after `afterMs` while no answer came (the hook is still running): 487. */
export function uacCancelEarly(src: string, afterMs: number): string {
  // CANCEL is element 3, the ACK element 6 (their branch: the INVITE's, see scenarios.ts).
  return scenario(
    'uac-cancel-early',
    `  ${invite(src)}
  <recv response="100"></recv>
  <pause milliseconds="${afterMs}"/>
  ${callerRequest('CANCEL', src, { cseq: 1, branch: '[branch-3]', toTag: false })}
  <recv response="200"></recv>
  <recv response="487"></recv>
  ${callerRequest('ACK', src, { cseq: 1, branch: '[branch-6]' })}
  <timewait milliseconds="1000"/>`,
  );
}

/** Caller (From user `src`) expecting the INVITE to fail with `code`; ACK; catches retransmissions. */
export function uacRefused(src: string, code: number): string {
  return scenario(
    `uac-refused-${code}`,
    `  ${invite(src)}
  <recv response="100" optional="true"></recv>
  <recv response="${code}"></recv>
  ${callerRequest('ACK', src, { cseq: 1, branch: '[branch-3]' })}
  <timewait milliseconds="1000"/>`,
  );
}

/**
 * Caller that authenticates (-au/-ap): INVITE, 407, ACK, INVITE with credentials, `final`
 * (200: ACK by the route set, BYE, 200; else the ACK of the failure).
 */
export function uacAuthenticatedCall(src: string, final = 200): string {
  const end =
    final === 200
      ? `<recv response="200" rrs="true"></recv>
  ${callerRequest('ACK', src, { cseq: 2, uri: '[next_url]', routes: true })}
  <pause milliseconds="200"/>
  ${callerRequest('BYE', src, { cseq: 3, uri: '[next_url]', routes: true })}
  <recv response="200" crlf="true"></recv>`
      : `<recv response="${final}"></recv>
  ${callerRequest('ACK', src, { cseq: 2, branch: '[branch-4]' })}`;
  return scenario(
    'uac-authenticated-call',
    `  ${invite(src)}
  <recv response="100" optional="true"></recv>
  <recv response="407" auth="true"></recv>
  ${callerRequest('ACK', src, { cseq: 1, branch: '[branch-3]' })}
  ${invite(src, 2, '\n      [authentication]')}
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="true"></recv>
  ${end}`,
  );
}

function escapeRe(s: string): string {
  return s.replace(/[+*.#]/g, (c) => `\\${c}`);
}
