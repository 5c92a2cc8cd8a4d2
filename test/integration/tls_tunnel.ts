/**
 * A TCP → TLS tunnel for tests: Debian's SIPp is built without TLS (`sipp -v` lists no TLS, so
 * `-t l1` is unavailable), so SIPp speaks TCP (`-t t1`) to this tunnel, which opens one TLS
 * connection to Junction per accepted TCP connection and copies bytes both ways. Junction sees a
 * real TLS client (handshake, certificate, framing over TLS); SIPp's messages are unchanged.
 */
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { connect } from 'node:tls';
import { testCerts } from '../../src/transport/test_certs.ts';

/** The `tls:` config section for the test certificate (generated at test time). */
export function tlsYaml(): string {
  const c = testCerts().main;
  return `tls:\n  certificate: ${c.certPath}\n  private_key: ${c.keyPath}\n`;
}

export interface TlsTunnel {
  port: number;
  /** TLS connections opened to the target so far. */
  readonly opened: number;
  close(): Promise<void>;
}

export async function tlsTunnel(target: {
  host: string;
  port: number;
  cert?: Buffer;
  key?: Buffer;
}): Promise<TlsTunnel> {
  const sockets = new Set<Socket>();
  let opened = 0;
  const server = createServer((plain) => {
    const secure = connect({
      host: target.host,
      port: target.port,
      rejectUnauthorized: false,
      ...(target.cert === undefined ? {} : { cert: target.cert, key: target.key }),
    });
    opened++;
    for (const s of [plain, secure]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    plain.pipe(secure);
    secure.pipe(plain);
    plain.on('close', () => secure.destroy());
    secure.on('close', () => plain.destroy());
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
