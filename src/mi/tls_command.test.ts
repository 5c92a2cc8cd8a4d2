import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TlsSettings } from '../transport/options.ts';
import { testCerts } from '../transport/test_certs.ts';
import { MiError } from './command.ts';
import { tlsReloadCommand } from './tls_command.ts';

describe('tls.reload', () => {
  const certs = testCerts().main;
  const cfg = {
    certificate: certs.certPath,
    private_key: certs.keyPath,
    verify_client: false,
    verify_server: false,
  };

  it('re-reads the files named in the config and hands them to the transport', async () => {
    const got: TlsSettings[] = [];
    const cmd = tlsReloadCommand({ reloadTls: (s) => got.push(s) }, cfg);
    assert.equal(cmd.name, 'tls.reload');
    const r = await cmd.handler({}, undefined as never);
    assert.deepEqual(r, { reloaded: true, certificate: certs.certPath });
    assert.equal(got.length, 1);
    assert.deepEqual(got[0].certificate, certs.cert);
  });

  it('refuses with the reason when a file is missing or the transport rejects it', async () => {
    const cmd = tlsReloadCommand(
      { reloadTls: () => undefined },
      { ...cfg, private_key: '/nonexistent/key.pem' },
    );
    await assert.rejects(
      async () => cmd.handler({}, undefined as never),
      (e: unknown) => {
        assert.ok(e instanceof MiError);
        assert.match(e.message, /tls\.private_key: cannot read \/nonexistent\/key\.pem/);
        return true;
      },
    );
    const bad = tlsReloadCommand(
      {
        reloadTls: () => {
          throw new Error('bad certificate');
        },
      },
      cfg,
    );
    await assert.rejects(async () => bad.handler({}, undefined as never), /bad certificate/);
    const none = tlsReloadCommand({ reloadTls: () => undefined }, undefined);
    await assert.rejects(async () => none.handler({}, undefined as never), /no tls section/);
  });
});
