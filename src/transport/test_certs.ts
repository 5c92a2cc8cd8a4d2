/**
 * Test-only certificates, generated with openssl into a temp folder at test time (no private key
 * is ever committed). One self-signed EC certificate for 127.0.0.1 / ::1 / localhost serves as
 * server certificate, client certificate and its own CA. A second pair (`other`) is a different
 * identity, for certificate reload and rejection tests. Not part of the runtime.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  certPath: string;
  keyPath: string;
  cert: Buffer;
  key: Buffer;
}

export interface TestCerts {
  dir: string;
  main: TestCert;
  other: TestCert;
}

let cached: TestCerts | undefined;

function make(dir: string, name: string, cn: string): TestCert {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'pipe', timeout: 10_000 },
  );
  return { certPath, keyPath, cert: readFileSync(certPath), key: readFileSync(keyPath) };
}

/** The process's test certificates (generated once; the folder is removed at exit). */
export function testCerts(): TestCerts {
  if (cached !== undefined) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'junction-certs-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  cached = { dir, main: make(dir, 'main', 'junction-test'), other: make(dir, 'other', 'junction-other') };
  return cached;
}
