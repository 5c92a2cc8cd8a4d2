/**
 * HTTP Digest for SIP (RFC 2617, RFC 7616, RFC 3261 §22): hashes, nonces, response check.
 * Nonces are stateless (expiry time + random + HMAC with a per-server secret); replay protection
 * keeps the highest `nc` seen per nonce until the nonce expires.
 */
import { createHmac, createSecretKey, hash, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** One-shot hash (crypto.hash: a third of createHash().update().digest()'s cost for short input). */
export function hashHex(alg: DigestAlgorithm, text: string): string {
  return hash(alg === 'MD5' ? 'md5' : 'sha256', text, 'hex');
}

/** Random bytes drawn from a pool refilled 4 KiB at a time (one OpenSSL call per 512 nonces). */
class RandomPool {
  private buf = randomBytes(4096);
  private at = 0;

  copy(n: number, into: Buffer, offset: number): void {
    if (this.at + n > this.buf.length) {
      this.buf = randomBytes(4096);
      this.at = 0;
    }
    this.buf.copy(into, offset, this.at, this.at + n);
    this.at += n;
  }
}

/** HA1 = H(username:realm:password). */
export function ha1(alg: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hashHex(alg, `${username}:${realm}:${password}`);
}

export interface DigestResponseInput {
  algorithm: DigestAlgorithm;
  ha1: string;
  nonce: string;
  method: string;
  uri: string;
  /** 'auth' or undefined (RFC 2069 compatibility). */
  qop: string | undefined;
  nc: string | undefined;
  cnonce: string | undefined;
}

/** The `response` a client computes (qop=auth or none). */
export function digestResponse(i: DigestResponseInput): string {
  const ha2 = hashHex(i.algorithm, `${i.method}:${i.uri}`);
  if (i.qop === undefined) return hashHex(i.algorithm, `${i.ha1}:${i.nonce}:${ha2}`);
  return hashHex(i.algorithm, `${i.ha1}:${i.nonce}:${i.nc}:${i.cnonce}:${i.qop}:${ha2}`);
}

export function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}

export type NonceCheck = 'ok' | 'stale' | 'invalid';

/** Issues and checks nonces; tracks nc per nonce for replay protection. */
export class NonceManager {
  /** The HMAC key as a KeyObject: createHmac with a Buffer key costs ~4× more per call. */
  private secret: KeyObject;
  private readonly random = new RandomPool();
  /** nonce → highest nc accepted (0 = none yet), with its expiry (ms). */
  private readonly seen = new Map<string, { nc: number; until: number }>();
  private readonly maxTracked: number;
  expireSeconds: number;

  constructor(expireSeconds = 30, secret?: string, maxTracked = 100_000) {
    this.expireSeconds = expireSeconds;
    this.secret = createSecretKey(
      secret !== undefined && secret !== '' ? Buffer.from(secret) : randomBytes(32),
    );
    this.maxTracked = maxTracked;
  }

  setSecret(secret: string | undefined): void {
    if (secret !== undefined && secret !== '') this.secret = createSecretKey(Buffer.from(secret));
  }

  issue(now = Date.now()): string {
    const raw = Buffer.allocUnsafe(24);
    raw.writeUInt32BE(Math.floor(now / 1000) + this.expireSeconds, 0);
    this.random.copy(8, raw, 4);
    const body = raw.subarray(0, 12);
    createHmac('sha256', this.secret).update(body).digest().copy(raw, 12, 0, 12);
    return raw.toString('base64url');
  }

  check(nonce: string, now = Date.now()): NonceCheck {
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== 24 || raw.toString('base64url') !== nonce) return 'invalid';
    const body = raw.subarray(0, 12);
    const mac = createHmac('sha256', this.secret).update(body).digest().subarray(0, 12);
    if (!timingSafeEqual(mac, raw.subarray(12))) return 'invalid';
    const until = body.readUInt32BE(0) * 1000;
    return until <= now ? 'stale' : 'ok';
  }

  /**
   * Record the use of a nonce with count `nc` (hex string, or undefined without qop: one use).
   * False when it was already used with this or a higher count (a replay).
   */
  use(nonce: string, nc: string | undefined, now = Date.now()): boolean {
    const count = nc === undefined ? 1 : Number.parseInt(nc, 16);
    if (!Number.isFinite(count) || count < 1) return false;
    const prev = this.seen.get(nonce);
    if (prev !== undefined && count <= prev.nc) return false;
    if (prev === undefined && this.seen.size >= this.maxTracked) this.sweep(now);
    if (prev === undefined && this.seen.size >= this.maxTracked) return false;
    this.seen.set(nonce, { nc: count, until: prev?.until ?? now + this.expireSeconds * 1000 + 1000 });
    return true;
  }

  sweep(now = Date.now()): void {
    for (const [n, v] of this.seen) if (v.until <= now) this.seen.delete(n);
  }

  get tracked(): number {
    return this.seen.size;
  }
}
