/**
 * SIPp scenarios of the dialog / UAC / click-to-dial tests (scenarios.ts has the conventions).
 */
import { ANSWERED_CALL, cdata, inDialog, reply, requestTerminated, SDP, scenario } from './scenarios.ts';

/** A caller whose call the server ends: INVITE, 200, ACK, then the server's BYE → 200. */
export function uacByeFromServer(): string {
  return scenario(
    'uac-bye-from-server',
    `  ${ANSWERED_CALL}
  <recv request="BYE"></recv>
  ${reply('200 OK')}
  <timewait milliseconds="1000"/>`,
  );
}

/** A caller that holds the call `holdMs`, then hangs up (INVITE, 200, ACK, pause, BYE, 200). */
export function uacHold(holdMs: number): string {
  return scenario(
    'uac-hold',
    `  ${ANSWERED_CALL}
  <pause milliseconds="${holdMs}"/>
  ${inDialog('BYE', 2)}
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
  ${reply('407 Proxy Authentication Required', {
    toTag: true,
    extra: [
      `Proxy-Authenticate: Digest realm="${realm}", nonce="[pid]n[call_number]x", qop="auth", algorithm=MD5`,
    ],
  })}
  <recv request="MESSAGE">
    <action>
      <ereg regexp="Digest .*response=" search_in="hdr" header="Proxy-Authorization:" check_it="true" assign_to="auth"/>
    </action>
  </recv>
  ${reply('200 Authenticated', { toTag: true })}
  <timewait milliseconds="500"/>
  <Reference variables="auth"/>`,
  );
}

/** The click-to-dial caller's own call to the REFER target. */
const CALLER_FROM = 'From: caller <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag02[call_number]';
const TARGET_TO = 'To: <[$target]>';

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
      ${CALLER_FROM}
      ${TARGET_TO}
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
  ${inDialog('ACK', 1, CALLER_FROM, TARGET_TO)}
  <pause milliseconds="200"/>
  ${inDialog('BYE', 2, CALLER_FROM, TARGET_TO)}
  <recv response="200" crlf="true"></recv>`;
  return scenario(
    'ctd-caller',
    `  <recv request="INVITE">
    <action>
      <ereg regexp="c=IN IP4 0\\.0\\.0\\.0" search_in="body" check_it="true" assign_to="hold"/>
    </action>
  </recv>
  ${reply('180 Ringing', { toTag: true })}
  ${answerInvite('200 OK', true)}
  <recv request="ACK"></recv>
  <recv request="REFER">
    <action>
      <ereg regexp="&lt;([^&gt;]*)&gt;" search_in="hdr" header="Refer-To:" check_it="true" assign_to="dummy,target"/>
      <ereg regexp=".*" search_in="hdr" header="Referred-By:" check_it="true" assign_to="referredby"/>
    </action>
  </recv>
  ${reply(referStatus)}
  <recv request="BYE"></recv>
  ${reply('200 OK')}${accepted ? thenCall : ''}
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
  ${reply('180 Ringing', { toTag: true })}
  <recv request="CANCEL"></recv>
  ${reply('200 OK', { toTag: true })}
  ${requestTerminated(['via1'])}
  <recv request="ACK"></recv>
  <timewait milliseconds="500"/>`,
  );
}
