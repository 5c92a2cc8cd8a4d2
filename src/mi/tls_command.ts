/**
 * `tls.reload` (Kamailio's name): re-read the certificate, key and CA files named in the config's
 * `tls:` section and use them for new TLS and WSS handshakes, without a restart. Unreadable or
 * unusable files are refused with the reason and the running certificate stays in place.
 */
import type { TlsConfig } from '../config/types.ts';
import type { TlsSettings } from '../transport/options.ts';
import { readTlsSettings } from '../transport/tls_files.ts';
import { type MiCommand, MiError } from './command.ts';

export function tlsReloadCommand(
  transport: { reloadTls(settings: TlsSettings): void },
  tls: TlsConfig | undefined,
): MiCommand {
  return {
    name: 'tls.reload',
    help: 'Re-read the TLS certificate, private key and CA list; new handshakes use them.',
    recipes: [[]],
    mutating: true,
    handler: () => {
      if (tls === undefined) throw new MiError(400, 'no tls section in the configuration');
      try {
        transport.reloadTls(readTlsSettings(tls));
      } catch (err) {
        throw new MiError(500, `TLS reload refused: ${(err as Error).message}`);
      }
      return { reloaded: true, certificate: tls.certificate };
    },
  };
}
