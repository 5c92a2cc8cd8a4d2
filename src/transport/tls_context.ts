/**
 * The TLS credentials shared by `tls:` and `wss:` listeners and outbound TLS connections. One
 * SecureContext per side; `reload()` swaps them (management command `tls.reload`): servers get
 * `setSecureContext`, and new handshakes in either direction use the new certificate at once,
 * while open connections keep theirs (RFC 5246 has no way to swap a certificate mid-connection).
 *
 * Decisions (Kamailio tls module defaults): client certificates are not asked for unless
 * `verifyClient`; servers we connect to are not verified unless `verifyServer`. The transport
 * connects to an address, not a name (the name was resolved above it), so verifyServer checks the
 * chain against the CA bundle, not the host name.
 */
import { createSecureContext, type SecureContext, type Server as TlsServer } from 'node:tls';
import type { TlsSettings } from './options.ts';

export class TlsContext {
  private settings: TlsSettings;
  private clientCtx: SecureContext;
  private readonly servers = new Set<TlsServer>();

  constructor(settings: TlsSettings) {
    this.settings = settings;
    this.clientCtx = build(settings);
  }

  /** Options for tls.createServer / https.createServer. */
  serverOptions(handshakeTimeoutMs: number): ContextOptions & {
    requestCert: boolean;
    rejectUnauthorized: boolean;
    handshakeTimeout: number;
  } {
    const verify = this.settings.verifyClient === true;
    return {
      ...contextOptions(this.settings),
      requestCert: verify,
      rejectUnauthorized: verify,
      handshakeTimeout: handshakeTimeoutMs,
    };
  }

  /** Options for tls.connect (and the ws client over TLS). */
  clientOptions(): {
    secureContext: SecureContext;
    rejectUnauthorized: boolean;
    checkServerIdentity: () => undefined;
  } {
    return {
      secureContext: this.clientCtx,
      rejectUnauthorized: this.settings.verifyServer === true,
      checkServerIdentity: () => undefined,
    };
  }

  /** A server whose context follows reload(). */
  track(server: TlsServer): void {
    this.servers.add(server);
    server.once('close', () => this.servers.delete(server));
  }

  /**
   * Replace the credentials. Throws (leaving the old ones in place) when the new files do not
   * make a context: a bad certificate must not take the listeners down.
   */
  reload(settings: TlsSettings): void {
    const ctx = build(settings);
    this.settings = settings;
    this.clientCtx = ctx;
    for (const s of this.servers) s.setSecureContext(contextOptions(settings));
  }
}

interface ContextOptions {
  cert: Buffer | string;
  key: Buffer | string;
  ca?: Buffer | string;
}

function contextOptions(s: TlsSettings): ContextOptions {
  const o: ContextOptions = { cert: s.certificate, key: s.privateKey };
  if (s.ca !== undefined) o.ca = s.ca;
  return o;
}

function build(s: TlsSettings): SecureContext {
  return createSecureContext(contextOptions(s));
}
