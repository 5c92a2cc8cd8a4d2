/** The `tls:` config section read into TlsSettings (at start and on `tls.reload`). */
import { readFileSync } from 'node:fs';
import type { TlsConfig } from '../config/types.ts';
import type { TlsSettings } from './options.ts';

/** Reads the PEM files; throws naming the config key of a file that cannot be read. */
export function readTlsSettings(c: TlsConfig): TlsSettings {
  const read = (key: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`tls.${key}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const s: TlsSettings = {
    certificate: read('certificate', c.certificate),
    privateKey: read('private_key', c.private_key),
    verifyClient: c.verify_client,
    verifyServer: c.verify_server,
  };
  if (c.ca_list !== undefined) s.ca = read('ca_list', c.ca_list);
  return s;
}
