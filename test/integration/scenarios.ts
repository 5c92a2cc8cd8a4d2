/**
 * SIPp scenario files the integration tests need beyond ../shared/bench/scenarios and SIPp's
 * built-in ones, as text (written into a temp folder by the test), plus a parser for SIPp's
 * final per-message table.
 *
 * Conventions: the UAC's Request-URI names the callee (`[remote_ip]:[remote_port]` = a UAS, the
 * proxy is reached with `-rsa`), as in the bench's uac-rr.xml. The ACK of a non-2xx final and a
 * CANCEL carry the INVITE's branch (RFC 3261 §17.1.1.3, §9.1): SIPp's `[branch]` is made of the
 * element's index in the scenario, so they write `[branch-N]`, N = their distance from the INVITE
 * (SIPp's `ack_txn` does not change the branch in 3.6.1).
 */

export const SDP = `v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000`;

export const FROM = 'From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]';
export const TO = 'To: [service] <sip:[service]@[remote_ip]:[remote_port]>';

export function scenario(name: string, body: string): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="${name}">
${body}
</scenario>
`;
}

export function cdata(lines: string): string {
  return `    <![CDATA[

      ${lines}

    ]]>`;
}

export const INVITE = `<send retrans="500">
${cdata(`INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      ${FROM}
      ${TO}
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Subject: Junction integration test
      Content-Type: application/sdp
      Content-Length: [len]

      ${SDP}`)}
  </send>`;

/** ACK of a non-2xx final (element `index` of the scenario; the INVITE is element 0). */
function ackNon2xx(index: number): string {
  return `<send>
${cdata(`ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-${index}]
      ${FROM}
      ${TO}[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0`)}
  </send>`;
}

/**
 * An in-dialog request (to `[next_url]` along the route set): an ACK is sent once, any other
 * method retransmitted. `from`/`to`: the UAC's FROM and TO unless given.
 */
export function inDialog(method: string, cseq: number, from = FROM, to = TO): string {
  return `<send${method === 'ACK' ? '' : ' retrans="500"'}>
${cdata(`${method} [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      ${from}
      ${to}[peer_tag_param]
      Call-ID: [call_id]
      CSeq: ${cseq} ${method}
      Max-Forwards: 70
      Content-Length: 0`)}
  </send>`;
}

/** The UAC's INVITE answered: 100 and 180 optional, 200 (route set kept), then its ACK. */
export const ANSWERED_CALL = `${INVITE}
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="true"></recv>
  <recv response="200" rrs="true"></recv>
  ${inDialog('ACK', 1)}`;

/** Our To tag, for a UAS's responses. */
const OUR_TAG = ';tag=[pid]SIPpTag01[call_number]';

/**
 * A response without body to the last request received: its Via/From/To/Call-ID/CSeq (`toTag`:
 * with our To tag), then the `extra` header lines. `retrans`: retransmitted (a final to an INVITE).
 */
export function reply(
  status: string,
  o: { toTag?: boolean; extra?: readonly string[]; retrans?: boolean } = {},
): string {
  return `<send${o.retrans === true ? ' retrans="500"' : ''}>
${cdata(`SIP/2.0 ${status}
      [last_Via:]
      [last_From:]
      [last_To:]${o.toTag === true ? OUR_TAG : ''}
      [last_Call-ID:]
      [last_CSeq:]${(o.extra ?? []).map((h) => `\n      ${h}`).join('')}
      Content-Length: 0`)}
  </send>`;
}

/**
 * The 487 to an INVITE that was cancelled, with the INVITE's Via values kept in `vias` (after
 * the CANCEL, `[last_Via:]` has the CANCEL's).
 */
export function requestTerminated(vias: readonly string[]): string {
  return `<send retrans="500">
${cdata(`SIP/2.0 487 Request Terminated
      ${vias.map((v) => `Via: [$${v}]`).join('\n      ')}
      [last_From:]
      [last_To:]${OUR_TAG}
      [last_Call-ID:]
      CSeq: 1 INVITE
      Content-Length: 0`)}
  </send>`;
}

/**
 * Caller that expects the INVITE to fail with `code` (100 optional, 180 optional unless
 * `ringing`), then ACKs it (element 4) and stays 1 s to catch retransmissions of the final.
 */
export function uacExpectFailure(code: number, opts: { ringing?: boolean } = {}): string {
  return scenario(
    `uac-expect-${code}`,
    `  ${INVITE}
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="${opts.ringing === true ? 'false' : 'true'}"></recv>
  <recv response="${code}"></recv>
  ${ackNon2xx(4)}
  <timewait milliseconds="1000"/>`,
  );
}

/**
 * CANCEL while ringing (RFC 3261 §9.1): INVITE, wait for 180, CANCEL (same branch, CSeq number
 * and Request-URI as the INVITE), 200 for the CANCEL, 487 for the INVITE, ACK.
 */
export function uacCancel(ringMs = 200): string {
  // CANCEL is element 4, the ACK element 7.
  return scenario(
    'uac-cancel',
    `  ${INVITE}
  <recv response="100" optional="true"></recv>
  <recv response="180"></recv>
  <pause milliseconds="${ringMs}"/>
  <send retrans="500">
${cdata(`CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-4]
      ${FROM}
      ${TO}
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0`)}
  </send>
  <recv response="200"></recv>
  <recv response="487"></recv>
  ${ackNon2xx(7)}
  <timewait milliseconds="1000"/>`,
  );
}

/**
 * Callee that rings and is then cancelled: 180, CANCEL → 200, 487 to the INVITE, ACK. The CANCEL
 * must arrive (it is a mandatory <recv>), so the scenario passing proves the callee saw it.
 * `cancelReason` checks the CANCEL's Reason header with a regular expression (check_it: the call
 * fails without a match; SIPp wants every variable used, so the 200 echoes it).
 *
 * The 487 answers the INVITE, not the CANCEL, so it needs the INVITE's Via values, which
 * `[last_Via:]` no longer has after the CANCEL (one Via: the proxy's). They are kept from the
 * INVITE, one variable per value: the callee sits behind exactly one proxy here, so two.
 */
export function uasCancelled(cancelReason?: string): string {
  const check =
    cancelReason === undefined
      ? ''
      : `
    <action>
      <ereg regexp="${cancelReason}" search_in="hdr" header="Reason:" check_it="true" assign_to="reason"/>
    </action>`;
  return scenario(
    'uas-cancelled',
    `  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="Via:" occurrence="1" check_it="true" assign_to="via1"/>
      <ereg regexp=".*" search_in="hdr" header="Via:" occurrence="2" check_it="true" assign_to="via2"/>
    </action>
  </recv>
  <send>
${cdata(`SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_Record-Route:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0`)}
  </send>
  <recv request="CANCEL">${check}
  </recv>
  ${reply('200 OK', { toTag: true, extra: cancelReason === undefined ? [] : ['X-Cancel-Reason: [$reason]'] })}
  ${requestTerminated(['via1', 'via2'])}
  <recv request="ACK"></recv>
  <timewait milliseconds="1000"/>`,
  );
}

/**
 * Callee that rejects the INVITE with `code` `reason` (after `delayMs`, if given) and waits for the
 * hop-by-hop ACK from the proxy.
 */
export function uasReject(code: number, reason: string, opts: { delayMs?: number } = {}): string {
  const pause = opts.delayMs === undefined ? '' : `  <pause milliseconds="${opts.delayMs}"/>\n`;
  return scenario(
    `uas-reject-${code}`,
    `  <recv request="INVITE" crlf="true"></recv>
${pause}  ${reply(`${code} ${reason}`, { toTag: true, retrans: true })}
  <recv request="ACK"></recv>
  <timewait milliseconds="1000"/>`,
  );
}

/** Callee that receives `method` and never answers (absorbs the proxy's retransmissions for `holdMs`). */
export function uasSilent(method: string, holdMs: number): string {
  return scenario(
    `uas-silent-${method}`,
    `  <recv request="${method}"></recv>
  <pause milliseconds="${holdMs}"/>`,
  );
}

/** Caller of a non-INVITE request (OPTIONS, MESSAGE …) that expects the final `code`. */
export function uacNonInvite(method: string, code: number): string {
  const body =
    method === 'MESSAGE'
      ? 'Content-Type: text/plain\n      Content-Length: [len]\n\n      hello'
      : 'Content-Length: 0';
  return scenario(
    `uac-${method}-${code}`,
    `  <send retrans="500">
${cdata(`${method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      ${FROM}
      ${TO}
      Call-ID: [call_id]
      CSeq: 1 ${method}
      Max-Forwards: 70
      ${body}`)}
  </send>
  <recv response="100" optional="true"></recv>
  <recv response="${code}"></recv>`,
  );
}

// ---------------------------------------------------------------- SIPp's final message table

export interface MessageRow {
  /** What this SIPp did: 'send' or 'recv' a message, or a 'pause' / timewait. */
  kind: 'send' | 'recv' | 'pause';
  /** The method, response code, or the pause text ("4000ms"). */
  name: string;
  messages: number;
  retrans: number;
  timeout: number;
  unexpected: number;
  /** Messages SIPp dropped on purpose (-lost). */
  lost: number;
}

const RIGHT = '---------->';
const LEFT = '<----------';

/**
 * The scenario table of SIPp's last screen: one row per scenario element, in scenario order.
 * SIPp draws it from the left party's point of view: a scenario that starts by sending (UAC)
 * prints `INVITE ---------->  3  0  0` for what it sends and `200 <----------` for what it
 * receives; a scenario that starts by receiving (UAS) prints `----------> INVITE` for what it
 * receives and `<---------- 180` for what it sends. The counters sit under the header's column
 * names (Messages, Retrans, Timeout, Unexpected-Msg or Unexp., and Lost with -lost); a blank cell
 * is 0.
 */
export function messageTable(stdout: string): MessageRow[] {
  const lines = stdout.split('\n');
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^\s+Messages\s+Retrans\s+Timeout\s+Unexp/.test(lines[i])) {
      start = i;
      break;
    }
  }
  if (start < 0) return [];
  const header = lines[start];
  const columns = ['Messages', 'Retrans', 'Timeout', 'Unexp', 'Lost'].map((c) => header.indexOf(c));
  const cell = (line: string, k: number): number => {
    if (columns[k] < 0) return 0;
    const next = columns.slice(k + 1).find((c) => c >= 0) ?? line.length;
    const text = line.slice(columns[k], next).trim();
    return /^\d+$/.test(text) ? Number(text) : 0;
  };
  const out: MessageRow[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i];
    if (l.includes('Test Terminated') || l.includes('Statistics Screen')) break;
    const tokens = l.slice(0, columns[0]).trim().split(/\s+/);
    const arrow = tokens.findIndex((t) => t === RIGHT || t === LEFT);
    if (arrow >= 0) {
      const nameFirst = arrow > 0;
      const sent = nameFirst === (tokens[arrow] === RIGHT);
      out.push({
        kind: sent ? 'send' : 'recv',
        name: nameFirst ? tokens[arrow - 1] : tokens[arrow + 1],
        messages: cell(l, 0),
        retrans: cell(l, 1),
        timeout: cell(l, 2),
        unexpected: cell(l, 3),
        lost: cell(l, 4),
      });
      continue;
    }
    const pause = /\[\s*(\d+ms)\]/.exec(l);
    if (pause !== null) {
      out.push({
        kind: 'pause',
        name: pause[1],
        messages: cell(l, 0),
        retrans: 0,
        timeout: 0,
        unexpected: cell(l, 3),
        lost: 0,
      });
    }
  }
  return out;
}

/** The rows of one kind and name (e.g. every received `200`), in scenario order. */
export function rows(table: readonly MessageRow[], kind: MessageRow['kind'], name: string): MessageRow[] {
  return table.filter((r) => r.kind === kind && r.name === name);
}

/** Compact text of a table for assertion messages: `kind name messages/retrans/timeout/unexpected/lost`. */
export function showTable(table: readonly MessageRow[]): string {
  return table
    .map((r) => `${r.kind} ${r.name} ${r.messages}/${r.retrans}/${r.timeout}/${r.unexpected}/${r.lost}`)
    .join('\n');
}

/** One message of a SIPp -trace_msg log. */
export interface TracedMessage {
  received: boolean;
  /** The message (CRLF line ends, trailing blank lines removed). */
  text: string;
  /** When SIPp logged it, ms since the epoch (local time as SIPp printed it). */
  at: number;
}

/** The messages of a SIPp -trace_msg log, in order. */
export function sippMessages(log: string): TracedMessage[] {
  const out: TracedMessage[] = [];
  const parts = log.split(/^-{40,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n/m);
  // split() with a capture group: [before, time1, block1, time2, block2, ...]
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const m = /^(UDP|TCP) message (received|sent) [^\n]*\n\n/.exec(parts[i + 1]);
    if (m === null) continue;
    const [date, time] = parts[i].split(' ');
    out.push({
      received: m[2] === 'received',
      text: parts[i + 1].slice(m[0].length).replace(/\s+$/, ''),
      at: new Date(`${date}T${time.slice(0, 12)}`).getTime(),
    });
  }
  return out;
}

/**
 * Caller whose call is answered and then hung up by the callee: INVITE, 200 (Record-Route kept),
 * ACK along the route set, then it waits for the callee's BYE and answers 200.
 */
export function uacCalleeHangsUp(): string {
  return scenario(
    'uac-callee-hangs-up',
    `  ${ANSWERED_CALL}
  <recv request="BYE"></recv>
  ${reply('200 OK')}`,
  );
}
