/**
 * Raw SIP over UDP for tests that need exact bytes or timing: a socket that sends requests and
 * records the final response per Call-ID (with its arrival time), and request builders.
 */
import { createSocket } from 'node:dgram';
import { sleep } from './harness.ts';

/** A UDP socket bound on 127.0.0.1 that sends requests and collects the final responses by Call-ID. */
export async function sipSocket(): Promise<{
  port: number;
  send(to: number, text: string | Buffer): void;
  final(callId: string, timeoutMs: number): Promise<{ status: number; at: number }>;
  close(): void;
}> {
  const sock = createSocket('udp4');
  const finals = new Map<string, { status: number; at: number }>();
  sock.on('message', (m) => {
    const text = m.toString('latin1');
    const status = Number(text.slice(8, 11));
    const cid = /\r\n(?:Call-ID|i):\s*([^\r\n]+)/i.exec(text)?.[1]?.trim();
    if (cid !== undefined && status >= 200 && !finals.has(cid))
      finals.set(cid, { status, at: performance.now() });
  });
  const port = await new Promise<number>((ok) => sock.bind(0, '127.0.0.1', () => ok(sock.address().port)));
  return {
    port,
    send: (to, text) =>
      sock.send(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, to, '127.0.0.1'),
    async final(callId, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const f = finals.get(callId);
        if (f !== undefined) return f;
        if (performance.now() > deadline)
          throw new Error(`no final response for ${callId} within ${timeoutMs} ms`);
        await sleep(5);
      }
    },
    close: () => sock.close(),
  };
}

/** A MESSAGE from the socket's port to Junction (Request-URI user `user`). */
export function message(
  port: number,
  proxy: number,
  user: string,
  callId: string,
  from = '<sip:alice@127.0.0.1>',
): string {
  return [
    `MESSAGE sip:${user}@127.0.0.1:${proxy} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    `From: ${from};tag=t-${callId}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 MESSAGE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A REGISTER binding `user`'s AOR at this server to `contact`. */
export function register(port: number, proxy: number, user: string, contact: string, callId: string): string {
  return [
    `REGISTER sip:127.0.0.1:${proxy} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    `From: <sip:${user}@127.0.0.1>;tag=r-${callId}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 REGISTER',
    `Contact: <${contact}>`,
    'Expires: 600',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
