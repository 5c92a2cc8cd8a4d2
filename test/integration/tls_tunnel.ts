/**
 * TLS for the SIPp integration tests: Debian's SIPp is built without TLS (`sipp -v` lists no TLS,
 * so `-t l1` is unavailable), so SIPp speaks TCP (`-t t1`) to the bench's TCP → TLS tunnel
 * (bench/sipbench/tunnels.ts), and Junction sees a real TLS client. Plus the `tls:` config section
 * for the test certificate (generated at test time).
 */
import { startTunnel, type Tunnel } from '../../bench/sipbench/tunnels.ts';
import { testCerts } from '../../src/transport/test_certs.ts';

export function tlsYaml(): string {
  const c = testCerts().main;
  return `tls:\n  certificate: ${c.certPath}\n  private_key: ${c.keyPath}\n`;
}

export function tlsTunnel(target: { host: string; port: number }): Promise<Tunnel> {
  return startTunnel({ protocol: 'tls', ...target, viaToken: 'TLS' });
}
