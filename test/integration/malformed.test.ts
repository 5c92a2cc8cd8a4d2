/**
 * Malformed messages over UDP (issue 3 §6): every message RFC 4475 classifies as invalid
 * (../shared/corpus/rfc4475, bit-exact) is sent to a running Junction with a plain dgram socket;
 * each gets a 400 with a reason (505 for badvers, 501 for mismatch02), or nothing when no response
 * can be addressed (a response — bigcode, scalarlg — or a request without Call-ID/From/To —
 * insuf), or, where RFC 4475 lets an element be liberal, is routed like any other request. Then a
 * SIPp call goes through the same server.
 *
 * The routing script is routes/default.ts (then its Lua port, routes/default.lua: the test runs
 * once per script) with one line added after its initial checks: a request
 * for a host other than 127.0.0.1 (every corpus message names example.com & co.) is sent to a
 * local capture socket instead of DNS, so what the proxy would forward is observable and nothing
 * leaves the machine. The sender binds port 5060 on a spare loopback address (127.0.0.2 …): the
 * corpus messages carry Via sent-by with no port, so responses routed by Via (RFC 3261 §18.2.2,
 * `received` = the source address) go to port 5060 of the source address, while the server's
 * answers to unparsable messages go to the source address and port: both reach the one socket.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildAck, buildResponse } from '../../src/sip/build.ts';
import { isParseError } from '../../src/sip/errors.ts';
import { parseMessage } from '../../src/sip/parse_message.ts';
import {
  describeSipp,
  ensureSipp,
  freePort,
  REPO,
  removeTempDirs,
  Session,
  shared,
  sleep,
  tempDir,
  waitSippBound,
  writeFile,
} from './harness.ts';

/** What must happen to each invalid message. */
type Expected =
  /** The server answers `code` with a reason phrase matching `reason`, and forwards nothing. */
  | { code: number; reason: RegExp }
  /** No response and nothing forwarded: nobody to address one to. */
  | { silent: string }
  /** RFC 4475 lets an element accept it: it is routed (`code` is the routed outcome). */
  | { liberal: string; code: number; forwarded: boolean };

/** The RFC 4475 messages its README table marks invalid, with Junction's outcome for each. */
const EXPECTED: Record<string, Expected> = {
  'badinv01.dat': { code: 400, reason: /Via/ },
  'clerr.dat': { code: 400, reason: /Content-Length/ },
  'ncl.dat': { code: 400, reason: /Content-Length/ },
  'scalar02.dat': { code: 400, reason: /Max-Forwards|CSeq/ },
  'scalarlg.dat': { silent: 'a response (overlarge CSeq): dropped, never answered' },
  'quotbal.dat': { code: 400, reason: /To.*quoted|quoted.*To/ },
  'ltgtruri.dat': { code: 400, reason: /Request-URI/ },
  'lwsruri.dat': { code: 400, reason: /Request-URI/ },
  'lwsstart.dat': { code: 400, reason: /start line/ },
  'trws.dat': { code: 400, reason: /start line|version/ },
  // RFC 4475 §3.1.2.11: reject with 400, or strip the escaped headers before forwarding — a proxy
  // must never forward them in the Request-URI (RFC 3261 §19.1.2: no headers in a Request-URI).
  // The default script's sanity_check answers it (bit 2: the R-URI must be a valid Request-URI).
  'escruri.dat': { code: 400, reason: /Request[- ]URI/ },
  // §3.1.2.12: "an element should not reject it unless Date matters to it": routed.
  'baddate.dat': { liberal: 'Date is not interpreted (RFC 4475 §3.1.2.12)', code: 404, forwarded: true },
  // §3.1.2.13: "liberal elements may infer the brackets": a proxy does not interpret the Contact of
  // a REGISTER it routes; the default script answers 484 (the Request-URI has no user part).
  'regbadct.dat': {
    liberal: 'Contact is the registrar’s business (RFC 4475 §3.1.2.13)',
    code: 484,
    forwarded: false,
  },
  'badaspec.dat': { code: 400, reason: /To/ },
  // The archive's baddn has no empty line after its headers: over UDP the header section never ends.
  'baddn.dat': { code: 400, reason: /[Hh]eader section/ },
  'badvers.dat': { code: 505, reason: /[Vv]ersion/ },
  'mismatch01.dat': { code: 400, reason: /CSeq/ },
  'mismatch02.dat': { code: 501, reason: /CSeq|Not Implemented/ },
  'bigcode.dat': { silent: 'a response (status code 4294967301): dropped, never answered' },
  'insuf.dat': { silent: 'no Call-ID, From or To: a response could not be addressed' },
  'multi01.dat': { code: 400, reason: /Duplicate|more than one/ },
  'mcl01.dat': { code: 400, reason: /Content-Length/ },
};

function headerOf(text: string, name: string, compact: string): string | undefined {
  const m = new RegExp(`^(?:${name}|${compact})[ \\t]*:[ \\t]*(.*?)\\r?$`, 'im').exec(text);
  return m?.[1];
}

const callIdOf = (b: Buffer): string => headerOf(b.toString('latin1'), 'Call-ID', 'i') ?? '(none)';

function bind(sock: Socket, port: number, address: string): Promise<boolean> {
  return new Promise((ok) => {
    sock.once('error', () => ok(false));
    sock.bind(port, address, () => ok(true));
  });
}

/** A UDP socket on port 5060 of a spare loopback address. */
async function senderOn5060(): Promise<{ sock: Socket; address: string }> {
  for (let x = 2; x < 64; x++) {
    const sock = createSocket('udp4');
    const address = `127.0.0.${x}`;
    if (await bind(sock, 5060, address)) return { sock, address };
    sock.close();
  }
  throw new Error('no loopback address 127.0.0.2–63 has UDP port 5060 free');
}

/** The default script in each language, with the line that sends off-host targets to `to`. */
const VARIANTS = [
  {
    lang: 'TypeScript',
    file: 'route.ts',
    script: (to: string): string => {
      const original = readFileSync(join(REPO, 'routes/default.ts'), 'utf8');
      const anchor = '  route_reqinit(KSR);\n';
      assert.ok(original.includes(anchor), 'routes/default.ts changed: update this test');
      return original
        .replace("from '../src/script/types.ts'", `from '${join(REPO, 'src/script/types.ts')}'`)
        .replace(anchor, `${anchor}  if (KSR.pv.get('$rd') !== '127.0.0.1') KSR.setdsturi('${to}');\n`);
    },
  },
  {
    lang: 'Lua',
    file: 'route.lua',
    script: (to: string): string => {
      const original = readFileSync(join(REPO, 'routes/default.lua'), 'utf8');
      const anchor = '  route_reqinit()\n';
      assert.ok(original.includes(anchor), 'routes/default.lua changed: update this test');
      return original.replace(
        anchor,
        `${anchor}  if KSR.pv.get("$rd") ~= "127.0.0.1" then KSR.setdsturi("${to}") end\n`,
      );
    },
  },
];

for (const v of VARIANTS)
  describe(`malformed messages (RFC 4475) over UDP, ${v.lang} default script`, () => {
    before(() => ensureSipp());
    after(() => removeTempDirs());

    it('each invalid message gets its 400/505/501 with a reason, or nothing when unaddressable; the server keeps serving', {
      timeout: 90_000,
    }, async () => {
      const s = new Session();
      const { sock: sender, address } = await senderOn5060();
      const capture = createSocket('udp4');
      try {
        assert.ok(await bind(capture, 0, address));
        const capturePort = capture.address().port;

        // The default script, plus: off-host targets go to the capture socket.
        const script = writeFile(tempDir(), v.file, v.script(`sip:${address}:${capturePort}`));
        const proxy = await freePort();
        const j = await s.junction({ port: proxy, script });

        // What comes back to the sender, and what the proxy forwards to the capture socket, by Call-ID.
        const responses = new Map<string, Buffer[]>();
        const forwarded = new Map<string, Buffer[]>();
        const sent = new Map<string, Buffer>();
        const push = (m: Map<string, Buffer[]>, b: Buffer): void => {
          const id = callIdOf(b);
          m.set(id, [...(m.get(id) ?? []), b]);
        };
        sender.on('message', (b) => {
          push(responses, b);
          // ACK a non-2xx final to an INVITE, as a UAC would (it stops the proxy's retransmissions).
          const res = parseMessage(b);
          const req = sent.get(callIdOf(b));
          if (isParseError(res) || req === undefined || res.status < 300 || res.cseqMethod !== 'INVITE')
            return;
          const invite = parseMessage(req);
          if (!isParseError(invite)) sender.send(buildAck(invite, res), proxy, '127.0.0.1');
        });
        capture.on('message', (b) => {
          push(forwarded, b);
          // Answer what was forwarded (404), so every transaction ends at once.
          const req = parseMessage(b);
          if (!isParseError(req) && req.isRequest && req.method !== 'ACK') {
            capture.send(
              buildResponse(req, 404, 'Not Found (capture)', { toTag: 'capture' }),
              proxy,
              '127.0.0.1',
            );
          }
        });

        const dir = shared('corpus/rfc4475');
        for (const file of Object.keys(EXPECTED)) {
          const bytes = readFileSync(join(dir, file));
          sent.set(callIdOf(bytes), bytes);
          sender.send(bytes, proxy, '127.0.0.1');
          await sleep(50);
        }
        await sleep(1500);

        const problems: string[] = [];
        const seen = new Set<string>();
        for (const [file, expected] of Object.entries(EXPECTED)) {
          const id = callIdOf(readFileSync(join(dir, file)));
          seen.add(id);
          const finals = [
            ...new Set((responses.get(id) ?? []).map((b) => b.toString('latin1').split('\r\n')[0])),
          ].filter((l) => !/^SIP\/2\.0 1\d\d /.test(l));
          const fwd = (forwarded.get(id) ?? []).filter((b) => !b.toString('latin1').startsWith('ACK '));
          const got = `responses ${JSON.stringify(finals)}, forwarded ${fwd.length}: ${fwd.map((b) => b.toString('latin1').split('\r\n')[0]).join(' | ')}`;
          if ('silent' in expected) {
            if (finals.length > 0 || fwd.length > 0)
              problems.push(`${file}: expected nothing (${expected.silent}); got ${got}`);
          } else if ('liberal' in expected) {
            const ok =
              finals.length === 1 &&
              finals[0].startsWith(`SIP/2.0 ${expected.code} `) &&
              fwd.length > 0 === expected.forwarded;
            if (!ok)
              problems.push(
                `${file}: expected routed (${expected.liberal}) → ${expected.code}, forwarded ${expected.forwarded}; got ${got}`,
              );
          } else {
            const m = /^SIP\/2\.0 (\d{3}) (.+)$/.exec(finals[0] ?? '');
            const ok =
              finals.length === 1 &&
              m !== null &&
              Number(m[1]) === expected.code &&
              expected.reason.test(m[2]) &&
              fwd.length === 0;
            if (!ok)
              problems.push(
                `${file}: expected ${expected.code} with a reason matching ${expected.reason}, nothing forwarded; got ${got}`,
              );
          }
        }
        // Nothing answered or forwarded that no test message asked for (insuf has no Call-ID: '(none)').
        for (const id of [...responses.keys(), ...forwarded.keys()]) {
          if (!seen.has(id)) problems.push(`unexpected traffic for Call-ID ${id}`);
        }
        assert.deepEqual(problems, []);

        // The server keeps serving: calls through it, with the default routing (127.0.0.1 targets).
        const uas = {
          scenario: shared('bench/scenarios/uas.xml'),
          port: await freePort(),
          calls: 5,
          timeoutS: 30,
        };
        const callee = s.uas(uas);
        await waitSippBound(uas);
        const caller = s.uac({
          scenario: shared('bench/scenarios/uac-rr.xml'),
          port: await freePort(),
          calls: 5,
          timeoutS: 30,
          callee: uas.port,
          proxy,
          rate: 10,
        });
        const [rc, rs] = await Promise.all([caller.done, callee.done]);
        for (const [name, r] of [
          ['uac', rc],
          ['uas', rs],
        ] as const) {
          assert.equal(r.code, 0, describeSipp(name, r));
          assert.equal(r.successful, 5, describeSipp(name, r));
          assert.equal(r.failed, 0, describeSipp(name, r));
        }
        // The only error lines are the default script's own report of the sanity failure (badaspec).
        for (const e of j.errors())
          assert.match(String(e.msg), /^malformed SIP message from /, JSON.stringify(e));
      } finally {
        sender.close();
        capture.close();
        await s.close();
      }
      assert.deepEqual(s.junctionExits, [0]);
    });
  });
