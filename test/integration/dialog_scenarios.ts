/**
 * SIPp scenarios of the dialog / UAC / click-to-dial tests (scenarios.ts has the conventions).
 */
import { cdata, FROM, INVITE, SDP, scenario, TO } from './scenarios.ts';

const OK_TO_LAST = `<send>
${cdata(`SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0`)}
  </send>`;

/** A caller whose call the server ends: INVITE, 200, ACK, then the server's BYE → 200. */
export function uacByeFromServer(): string {
  return scenario(
    'uac-bye-from-server',
    `  ${INVITE}
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="true"></recv>
  <recv response="200" rrs="true"></recv>
  <send>
${cdata(`ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      ${FROM}
      ${TO}[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0`)}
  </send>
  <recv request="BYE"></recv>
  ${OK_TO_LAST}
  <timewait milliseconds="1000"/>`,
  );
}

/** A caller that holds the call `holdMs`, then hangs up (INVITE, 200, ACK, pause, BYE, 200). */
export function uacHold(holdMs: number): string {
  return scenario(
    'uac-hold',
    `  ${INVITE}
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="true"></recv>
  <recv response="200" rrs="true"></recv>
  <send>
${cdata(`ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      ${FROM}
      ${TO}[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0`)}
  </send>
  <pause milliseconds="${holdMs}"/>
  <send retrans="500">
${cdata(`BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      ${FROM}
      ${TO}[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0`)}
  </send>
  <recv response="200" crlf="true"></recv>`,
  );
}

/**
 * A server that challenges: MESSAGE → 407 (realm `realm`, qop=auth), then the retried MESSAGE must
 * carry a Proxy-Authorization (the test checks its digest from the trace: SIPp's verifyauth only
 * reads Authorization) → 200.
 */
export function uasChallenge(realm: string): string {
  return scenario(
    'uas-challenge',
    `  <recv request="MESSAGE"></recv>
  <send>
${cdata(`SIP/2.0 407 Proxy Authentication Required
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Proxy-Authenticate: Digest realm="${realm}", nonce="[pid]n[call_number]x", qop="auth", algorithm=MD5
      Content-Length: 0`)}
  </send>
  <recv request="MESSAGE">
    <action>
      <ereg regexp="Digest .*response=" search_in="hdr" header="Proxy-Authorization:" check_it="true" assign_to="auth"/>
    </action>
  </recv>
  <send>
${cdata(`SIP/2.0 200 Authenticated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0`)}
  </send>
  <timewait milliseconds="500"/>
  <Reference variables="auth"/>`,
  );
}

function answerInvite(status: string, sdp: boolean): string {
  return `<send retrans="500">
${cdata(`SIP/2.0 ${status}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:caller@[local_ip]:[local_port]>
      ${sdp ? `Content-Type: application/sdp\n      Content-Length: [len]\n\n      ${SDP}` : 'Content-Length: 0'}`)}
  </send>`;
}

/**
 * The click-to-dial caller (a UAS first): the wrapper INVITE (must be on hold: c=0.0.0.0) → 180,
 * 200; ACK; REFER → `referStatus`. With 202: the server's BYE → 200, then it calls the Refer-To
 * target through the server (INVITE with Referred-By, 200, ACK, BYE). Otherwise the server's BYE.
 */
export function ctdCaller(referStatus = '202 Accepted'): string {
  const accepted = referStatus.startsWith('2');
  const thenCall = `
  <pause milliseconds="100"/>
  <send retrans="500">
${cdata(`INVITE [$target] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: caller <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag02[call_number]
      To: <[$target]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:caller@[local_ip]:[local_port]
      Referred-By: [$referredby]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      ${SDP}`)}
  </send>
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="true"></recv>
  <recv response="200" rrs="true"></recv>
  <send>
${cdata(`ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: caller <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag02[call_number]
      To: <[$target]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0`)}
  </send>
  <pause milliseconds="200"/>
  <send retrans="500">
${cdata(`BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: caller <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag02[call_number]
      To: <[$target]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0`)}
  </send>
  <recv response="200" crlf="true"></recv>`;
  return scenario(
    'ctd-caller',
    `  <recv request="INVITE">
    <action>
      <ereg regexp="c=IN IP4 0\\.0\\.0\\.0" search_in="body" check_it="true" assign_to="hold"/>
    </action>
  </recv>
  <send>
${cdata(`SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0`)}
  </send>
  ${answerInvite('200 OK', true)}
  <recv request="ACK"></recv>
  <recv request="REFER">
    <action>
      <ereg regexp="&lt;([^&gt;]*)&gt;" search_in="hdr" header="Refer-To:" check_it="true" assign_to="dummy,target"/>
      <ereg regexp=".*" search_in="hdr" header="Referred-By:" check_it="true" assign_to="referredby"/>
    </action>
  </recv>
  <send>
${cdata(`SIP/2.0 ${referStatus}
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0`)}
  </send>
  <recv request="BYE"></recv>
  ${OK_TO_LAST}${accepted ? thenCall : ''}
  <timewait milliseconds="500"/>
  <Reference variables="hold,dummy${accepted ? '' : ',target,referredby'}"/>`,
  );
}

/** A click-to-dial caller that is busy: the wrapper INVITE gets 486. */
export function ctdCallerBusy(): string {
  return scenario(
    'ctd-caller-busy',
    `  <recv request="INVITE"></recv>
  ${answerInvite('486 Busy Here', false)}
  <recv request="ACK"></recv>
  <timewait milliseconds="500"/>`,
  );
}

/** A click-to-dial caller that rings and never answers: 180, then the server's CANCEL → 200, 487, ACK. */
export function ctdCallerNoAnswer(): string {
  return scenario(
    'ctd-caller-no-answer',
    `  <recv request="INVITE">
    <action>
      <ereg regexp=".*" search_in="hdr" header="Via:" occurrence="1" check_it="true" assign_to="via1"/>
    </action>
  </recv>
  <send>
${cdata(`SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0`)}
  </send>
  <recv request="CANCEL"></recv>
  <send>
${cdata(`SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0`)}
  </send>
  <send retrans="500">
${cdata(`SIP/2.0 487 Request Terminated
      Via: [$via1]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: 1 INVITE
      Content-Length: 0`)}
  </send>
  <recv request="ACK"></recv>
  <timewait milliseconds="500"/>`,
  );
}
