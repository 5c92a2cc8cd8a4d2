/**
 * SIPp REGISTER scenarios for the registrar tests (client mode, remote = Junction, one "call" =
 * the whole sequence sharing one Call-ID). Responses are checked with <ereg check_it>, so a
 * missing or wrong Contact list fails the SIPp run.
 */

function scenario(name: string, body: string, vars: string[] = []): string {
  const ref = vars.length > 0 ? `\n  <Reference variables="${vars.join(',')}"/>` : '';
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="${name}">
${body}${ref}
</scenario>
`;
}

export interface RegisterStep {
  cseq: number;
  /** Contact header values ('*' for the wildcard); none = a query. */
  contacts?: string[];
  expires?: number;
  /** Expected status. */
  expect: number;
  /** Regexps the response must match / must not match. */
  match?: string[];
  notMatch?: string[];
  /** Send credentials ([authentication]) — after a 401 received with auth="true". */
  auth?: { username: string; password: string };
  user?: string;
  /** Extra header lines. */
  headers?: string[];
}

let varCount = 0;

function registerSend(s: RegisterStep): string {
  const user = s.user ?? '[service]';
  const lines = [
    'REGISTER sip:[remote_ip]:[remote_port] SIP/2.0',
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    'Max-Forwards: 70',
    `From: <sip:${user}@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag[call_number]`,
    `To: <sip:${user}@[remote_ip]:[remote_port]>`,
    'Call-ID: [call_id]',
    `CSeq: ${s.cseq} REGISTER`,
    ...(s.contacts ?? []).map((c) => `Contact: ${c}`),
    ...(s.expires === undefined ? [] : [`Expires: ${s.expires}`]),
    ...(s.headers ?? []),
    ...(s.auth === undefined
      ? []
      : [`[authentication username=${s.auth.username} password=${s.auth.password}]`]),
    'User-Agent: sipp-registrar-test',
    'Content-Length: 0',
  ];
  return `  <send retrans="500">
    <![CDATA[

      ${lines.join('\n      ')}

    ]]>
  </send>`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A sequence of REGISTERs, each with its expected status and response checks. */
export function registerSequence(name: string, steps: RegisterStep[]): string {
  const vars: string[] = [];
  const parts: string[] = [];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    parts.push(registerSend(s));
    const checks: string[] = [];
    for (const re of s.match ?? []) {
      const v = `m${varCount++}`;
      vars.push(v);
      checks.push(`<ereg regexp="${escapeXml(re)}" search_in="msg" check_it="true" assign_to="${v}"/>`);
    }
    for (const re of s.notMatch ?? []) {
      const v = `n${varCount++}`;
      vars.push(v);
      checks.push(
        `<ereg regexp="${escapeXml(re)}" search_in="msg" check_it_inverse="true" assign_to="${v}"/>`,
      );
    }
    const next = steps[i + 1];
    const auth = next?.auth !== undefined && s.expect === 401 ? ' auth="true"' : '';
    const action =
      checks.length > 0 ? `\n    <action>\n      ${checks.join('\n      ')}\n    </action>\n  ` : '';
    parts.push(`  <recv response="${s.expect}"${auth}>${action}</recv>`);
  }
  return scenario(name, parts.join('\n'), vars);
}
