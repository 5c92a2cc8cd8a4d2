/**
 * Replies the script generates to non-INVITE requests are stateless unless it asks for a
 * transaction (Kamailio's sl vs tm): an OPTIONS answered by sl_send_reply and a REGISTER answered
 * by registrar.save leave no server transaction behind (nothing is held for Timer J), a
 * retransmission runs the script again and gets the same answer; t_reply, and sl_send_reply after
 * t_newtran, keep the transaction, which then absorbs the retransmission.
 * Checked on a running Junction over UDP, with the transaction gauges read over the MI (JSON-RPC).
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import {
  freePort,
  type RunningServer,
  removeTempDirs,
  sleep,
  startJunction,
  writeScript,
} from './harness.ts';
import { register, sipSocket } from './raw_sip.ts';

const SCRIPT = `
export async function ksr_request_route(KSR: Ksr): Promise<void> {
  if (KSR.is_REGISTER()) {
    await KSR.registrar.save('location', 0);
    return;
  }
  const user = KSR.pv.get('$rU');
  KSR.info('script ran for ' + user + ' ' + KSR.pv.get('$ci'));
  if (user === 'sl') KSR.sl.sl_send_reply(200, 'OK');
  else if (user === 'treply') KSR.tm.t_reply(200, 'OK');
  else if (user === 'newtran') {
    KSR.tm.t_newtran();
    KSR.sl.send_reply(200, 'OK');
  }
}
`;

function options(port: number, proxy: number, user: string, callId: string): string {
  return [
    `OPTIONS sip:${user}@127.0.0.1:${proxy} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1>;tag=o-${callId}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('stateless and stateful local replies', { timeout: 60_000 }, () => {
  let jn: RunningServer;
  let http: number;

  before(async () => {
    const port = await freePort();
    http = await freePort();
    jn = await startJunction({
      port,
      tcp: false,
      script: writeScript(SCRIPT),
      mi: `{ http: "127.0.0.1:${http}", fifo: false }`,
    });
  });

  after(async () => {
    await jn?.stop();
    removeTempDirs();
  });

  async function stat(name: string): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${http}/mi`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'get_statistics', params: [name] }),
    });
    const body = (await res.json()) as { result: Record<string, number> };
    const v = body.result[name];
    assert.equal(typeof v, 'number', `${name} in ${JSON.stringify(body)}`);
    return v as number;
  }

  /** How many times the script ran for this Call-ID (its log line). */
  function runs(callId: string): number {
    return jn.logs().filter((r) => typeof r.msg === 'string' && r.msg.endsWith(` ${callId}`)).length;
  }

  /** Send the request twice (the second a retransmission: same branch), wait for both answers. */
  async function twice(user: string, callId: string, text: (port: number) => string) {
    const s = await sipSocket();
    try {
      s.send(jn.port, text(s.port));
      const first = await s.final(callId, 5000);
      const afterFirst = await stat('tm:server_tx');
      s.send(jn.port, text(s.port));
      await sleep(300);
      const absorbed = await stat('tm:retransmissions_absorbed');
      return { status: first.status, afterFirst, absorbed, user };
    } finally {
      s.close();
    }
  }

  it('sl_send_reply to an OPTIONS keeps no transaction; the retransmission runs the script again', async () => {
    const before = await stat('tm:retransmissions_absorbed');
    const r = await twice('sl', 'cid-sl', (p) => options(p, jn.port, 'sl', 'cid-sl'));
    assert.equal(r.status, 200);
    assert.equal(r.afterFirst, 0, 'no server transaction is held after the stateless 200');
    assert.equal(r.absorbed, before, 'nothing absorbed: there was no transaction');
    assert.equal(runs('cid-sl'), 2);
  });

  it('t_reply keeps the transaction: the retransmission is absorbed, the script runs once', async () => {
    const before = await stat('tm:retransmissions_absorbed');
    const r = await twice('treply', 'cid-tr', (p) => options(p, jn.port, 'treply', 'cid-tr'));
    assert.equal(r.status, 200);
    assert.equal(r.afterFirst, 1, 'the Completed transaction waits for Timer J');
    assert.equal(r.absorbed, before + 1);
    assert.equal(runs('cid-tr'), 1);
  });

  it('t_newtran makes a later send_reply stateful', async () => {
    const before = await stat('tm:retransmissions_absorbed');
    const r = await twice('newtran', 'cid-nt', (p) => options(p, jn.port, 'newtran', 'cid-nt'));
    assert.equal(r.status, 200);
    assert.equal(r.absorbed, before + 1);
    assert.equal(runs('cid-nt'), 1);
  });

  it('a REGISTER answered by registrar.save holds no transaction; its retransmission gets the same 200', async () => {
    const gauge = await stat('tm:server_tx');
    const answers: string[] = [];
    const sock = createSocket('udp4');
    await new Promise<void>((ok) => sock.bind(0, '127.0.0.1', () => ok()));
    sock.on('message', (m) => answers.push(m.toString('latin1')));
    try {
      const req = Buffer.from(
        register(sock.address().port, jn.port, 'bob', 'sip:bob@127.0.0.1:5999', 'cid-reg'),
      );
      sock.send(req, jn.port, '127.0.0.1');
      for (let i = 0; i < 250 && answers.length < 1; i++) await sleep(20);
      assert.equal(await stat('tm:server_tx'), gauge, 'no transaction held after the 200');
      sock.send(req, jn.port, '127.0.0.1');
      for (let i = 0; i < 250 && answers.length < 2; i++) await sleep(20);
    } finally {
      sock.close();
    }
    assert.equal(answers.length, 2);
    for (const a of answers) {
      assert.match(a, /^SIP\/2\.0 200 /);
      assert.match(a, /Contact: <sip:bob@127\.0\.0\.1:5999>;expires=(600|599)/);
    }
  });
});
