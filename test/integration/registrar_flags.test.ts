/**
 * save() flags and method filtering through a running Junction (real REGISTERs over UDP, SQLite
 * storage, a restart): 0x01 memory only (gone after a restart, the others stay), 0x02 no reply
 * (the script replies) and reg_send_reply() with 0x10, 0x04 one contact per AOR, and
 * `method_filtering: 1` turning a lookup into -2 → 405 for a contact whose Allow lacks the method.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  freePort,
  type RunningServer,
  removeTempDirs,
  sleep,
  startJunction,
  tempDir,
  writeScript,
} from './harness.ts';

const SCRIPT = `
export async function ksr_request_route(KSR: Ksr): Promise<void> {
  if (KSR.is_REGISTER()) {
    const flags = Number(KSR.hdr.get('X-Flags') ?? '0');
    const rc = await KSR.registrar.save('location', flags);
    if ((flags & 2) !== 0) {
      if (KSR.hdr.get('X-Send') === 'reg_send_reply') await KSR.registrar.reg_send_reply();
      else KSR.sl.send_reply(202, 'Saved ' + rc);
    }
    return;
  }
  const rc = await KSR.registrar.lookup('location');
  if (rc === -2) KSR.sl.send_reply(405, 'Method Not Allowed');
  else if (rc < 0) KSR.sl.send_reply(404, 'Not Found');
  else {
    KSR.hdr.append_to_reply('X-Ruri: ' + String(KSR.pv.get('$ru')) + '\\r\\n');
    KSR.sl.send_reply(200, 'Found');
  }
}
`;

interface Sock {
  port: number;
  request(to: number, lines: string[], callId: string): Promise<string>;
  close(): void;
}

/** A UDP socket sending one request at a time and returning its final response's text. */
async function sock(): Promise<Sock> {
  const s = createSocket('udp4');
  const finals = new Map<string, string>();
  s.on('message', (m) => {
    const text = m.toString('latin1');
    const cid = /\r\nCall-ID:\s*([^\r\n]+)/i.exec(text)?.[1]?.trim();
    if (cid !== undefined && Number(text.slice(8, 11)) >= 200) finals.set(cid, text);
  });
  const port = await new Promise<number>((ok) => s.bind(0, '127.0.0.1', () => ok(s.address().port)));
  return {
    port,
    async request(to, lines, callId) {
      s.send(Buffer.from(`${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, 'latin1'), to, '127.0.0.1');
      for (let i = 0; i < 400; i++) {
        const f = finals.get(callId);
        if (f !== undefined) return f;
        await sleep(10);
      }
      throw new Error(`no final response for ${callId}`);
    },
    close: () => s.close(),
  };
}

let seq = 0;

function registerLines(s: Sock, proxy: number, user: string, contacts: string[], extra: string[] = []) {
  const callId = `rf-${++seq}`;
  const lines = [
    `REGISTER sip:127.0.0.1:${proxy} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${s.port};branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    `From: <sip:${user}@127.0.0.1>;tag=f-${callId}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 REGISTER',
    ...contacts.map((c) => `Contact: ${c}`),
    'Expires: 600',
    ...extra,
  ];
  return { lines, callId };
}

function requestLines(s: Sock, proxy: number, method: string, user: string) {
  const callId = `rq-${++seq}`;
  const lines = [
    `${method} sip:${user}@127.0.0.1:${proxy} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${s.port};branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    `From: <sip:caller@127.0.0.1>;tag=f-${callId}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
  ];
  return { lines, callId };
}

const status = (r: string): number => Number(r.slice(8, 11));
const contactsOf = (r: string): string[] =>
  r
    .split('\r\n')
    .filter((l) => /^Contact:/i.test(l))
    .map((l) => l.slice(l.indexOf(':') + 1).trim());

describe('registrar save flags and method filtering (real REGISTERs, SQLite, restart)', () => {
  after(() => removeTempDirs());

  it('0x01 is not kept over a restart; 0x02 + reg_send_reply (0x10); 0x04; method_filtering → 405', {
    timeout: 60_000,
  }, async () => {
    const script = writeScript(SCRIPT);
    const db = join(tempDir('reg-flags-'), 'junction.db');
    const port = await freePort();
    const start = (): Promise<RunningServer> =>
      startJunction({
        port,
        script,
        tcp: false,
        storage: `sqlite:${db}`,
        extraYaml: 'modules:\n  registrar: { method_filtering: 1 }\n',
      });
    const s = await sock();
    let j: RunningServer | undefined = await start();
    try {
      const ask = async (r: { lines: string[]; callId: string }) => s.request(port, r.lines, r.callId);

      // 0x01: saved (in memory) and answered as usual.
      const mem = await ask(registerLines(s, port, 'mem', ['<sip:mem@127.0.0.1:7001>'], ['X-Flags: 1']));
      assert.equal(status(mem), 200, mem);
      assert.deepEqual(contactsOf(mem), ['<sip:mem@127.0.0.1:7001>;expires=600']);
      const disk = await ask(registerLines(s, port, 'disk', ['<sip:disk@127.0.0.1:7002>']));
      assert.equal(status(disk), 200, disk);

      // 0x02: save does not reply, the script does (202 + save's result, 1 = inserted).
      const quiet = await ask(
        registerLines(s, port, 'quiet', ['<sip:quiet@127.0.0.1:7003>'], ['X-Flags: 2']),
      );
      assert.equal(status(quiet), 202, quiet);
      assert.match(quiet, /^SIP\/2\.0 202 Saved 1\r\n/);
      assert.deepEqual(contactsOf(quiet), []);
      // 0x02|0x10 and reg_send_reply(): save's 200, with the bindings.
      const held = await ask(
        registerLines(
          s,
          port,
          'quiet',
          ['<sip:quiet@127.0.0.1:7004>'],
          ['X-Flags: 18', 'X-Send: reg_send_reply'],
        ),
      );
      assert.equal(status(held), 200, held);
      assert.deepEqual(contactsOf(held).sort(), [
        '<sip:quiet@127.0.0.1:7003>;expires=600',
        '<sip:quiet@127.0.0.1:7004>;expires=600',
      ]);

      // 0x04: the new contact replaces every other binding of the AOR.
      await ask(registerLines(s, port, 'one', ['<sip:one@127.0.0.1:7005>', '<sip:one@127.0.0.1:7006>']));
      const single = await ask(registerLines(s, port, 'one', ['<sip:one@127.0.0.1:7007>'], ['X-Flags: 4']));
      assert.equal(status(single), 200, single);
      assert.deepEqual(contactsOf(single), ['<sip:one@127.0.0.1:7007>;expires=600']);

      // method_filtering: erin's phone allows INVITE, ACK, BYE only; frank's contact says OPTIONS.
      await ask(registerLines(s, port, 'erin', ['<sip:erin@127.0.0.1:7008>'], ['Allow: INVITE, ACK, BYE']));
      await ask(registerLines(s, port, 'frank', ['<sip:frank@127.0.0.1:7009>;methods="OPTIONS"']));
      assert.equal(status(await ask(requestLines(s, port, 'OPTIONS', 'erin'))), 405);
      const frank = await ask(requestLines(s, port, 'OPTIONS', 'frank'));
      assert.equal(status(frank), 200, frank);
      assert.match(frank, /\r\nX-Ruri: sip:frank@127\.0\.0\.1:7009\r\n/);
      assert.equal(status(await ask(requestLines(s, port, 'OPTIONS', 'nobody'))), 404);

      // Restart on the same database: the 0x01 binding is gone, the others (and methods) stay.
      await j.stop();
      j = undefined;
      j = await start();
      assert.equal(status(await ask(requestLines(s, port, 'OPTIONS', 'mem'))), 404);
      const after = await ask(requestLines(s, port, 'OPTIONS', 'disk'));
      assert.equal(status(after), 200, after);
      assert.match(after, /\r\nX-Ruri: sip:disk@127\.0\.0\.1:7002\r\n/);
      assert.equal(status(await ask(requestLines(s, port, 'OPTIONS', 'erin'))), 405);
      assert.deepEqual(j.errors(), []);
    } finally {
      s.close();
      await j?.stop();
    }
  });
});
