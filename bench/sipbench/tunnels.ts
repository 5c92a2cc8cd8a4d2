/**
 * TCP → TLS and TCP → WebSocket tunnels: Debian's SIPp has neither TLS (`-t l1`) nor WebSocket,
 * so SIPp speaks TCP (`-t t1`) to a tunnel that carries each SIP message over one TLS or
 * WebSocket (`sip` subprotocol, one SIP message per WebSocket message, RFC 7118) connection per
 * accepted TCP connection. Messages from SIPp are framed with Junction's StreamFramer; with
 * `viaToken`, the top Via's `SIP/2.0/TCP` becomes `SIP/2.0/TLS` / `SIP/2.0/WS` so the proxy sees
 * a Via that matches the transport it came on. The tunnel runs in the caller's process: its CPU
 * is not the proxy's.
 */
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { connect } from 'node:tls';
import { WebSocket } from 'ws';
import { StreamFramer } from '../../src/sip/stream_framer.ts';

export interface Tunnel {
  port: number;
  /** Connections opened to the target so far. */
  readonly opened: number;
  close(): Promise<void>;
}

export interface TunnelTarget {
  protocol: 'tls' | 'ws' | 'wss';
  host: string;
  port: number;
  /** Rewrite the top Via's transport token of requests (`TLS`, `WS`, `WSS`). */
  viaToken?: string;
  /** TLS client certificate. */
  cert?: Buffer;
  key?: Buffer;
}

const TCP_VIA = Buffer.from('SIP/2.0/TCP ');

function rewriteVia(msg: Buffer, token: string): Buffer {
  // Only requests (a response's top Via is the proxy's).
  if (msg.subarray(0, 8).toString('latin1') === 'SIP/2.0 ') return msg;
  const at = msg.indexOf(TCP_VIA);
  if (at < 0) return msg;
  return Buffer.concat([
    msg.subarray(0, at + 8),
    Buffer.from(`${token} `),
    msg.subarray(at + TCP_VIA.length),
  ]);
}

export async function startTunnel(target: TunnelTarget): Promise<Tunnel> {
  const sockets = new Set<{ destroy(): void }>();
  let opened = 0;
  const server = createServer((plain: Socket) => {
    plain.setNoDelay(true);
    sockets.add(plain);
    plain.on('error', () => undefined);
    plain.on('close', () => sockets.delete(plain));
    const framer = new StreamFramer();
    const fix = (m: Buffer): Buffer => (target.viaToken === undefined ? m : rewriteVia(m, target.viaToken));
    opened++;
    if (target.protocol === 'tls') {
      const secure = connect({
        host: target.host,
        port: target.port,
        rejectUnauthorized: false,
        ...(target.cert === undefined ? {} : { cert: target.cert, key: target.key }),
      });
      secure.setNoDelay(true);
      sockets.add(secure);
      secure.on('error', () => undefined);
      secure.on('close', () => {
        sockets.delete(secure);
        plain.destroy();
      });
      plain.on('close', () => secure.destroy());
      secure.pipe(plain);
      plain.on('data', (chunk: Buffer) => {
        for (const ev of framer.push(chunk)) if (ev.kind === 'message') secure.write(fix(ev.data));
      });
      return;
    }
    const ws = new WebSocket(`${target.protocol}://${target.host}:${target.port}/`, 'sip', {
      perMessageDeflate: false,
      rejectUnauthorized: false,
    });
    const pending: Buffer[] = [];
    sockets.add({ destroy: () => ws.terminate() });
    ws.on('error', () => undefined);
    ws.on('open', () => {
      for (const m of pending.splice(0)) ws.send(m);
    });
    ws.on('message', (data: Buffer) => plain.write(data));
    ws.on('close', () => plain.destroy());
    plain.on('close', () => ws.terminate());
    plain.on('data', (chunk: Buffer) => {
      for (const ev of framer.push(chunk)) {
        if (ev.kind !== 'message') continue;
        const m = fix(ev.data);
        if (ws.readyState === WebSocket.OPEN) ws.send(m);
        else pending.push(m);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  return {
    port: addr !== null && typeof addr === 'object' ? addr.port : 0,
    get opened() {
      return opened;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
