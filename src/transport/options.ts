/**
 * Configuration of the transport layer: the listeners to bind and the resource caps that keep a
 * flood or a misbehaving peer from exhausting memory, file descriptors or the event loop.
 */
import type { RemoteInfo, SocketOptions } from 'node:dgram';
import { DEFAULT_FRAMER_LIMITS } from '../sip/stream_framer.ts';
import type { Protocol } from './types.ts';

/** One `proto:host:port` listener. `address` is an IP literal (IPv6 with or without brackets). */
export interface ListenConfig {
  protocol: Protocol;
  address: string;
  /** 0 lets the OS pick a free port; the bound port is reported in `TransportLayer.listeners`. */
  port: number;
  /** What Via / Record-Route should say when the bound address is not reachable as is (NAT, 0.0.0.0). */
  advertise?: { host: string; port: number };
}

export interface TransportLimits {
  /** Open TCP connections (accepted + opened by us); new inbound ones are refused beyond it. */
  maxConnections: number;
  /** Unframed input, and queued output, per connection; the connection is closed beyond it. */
  maxBufferedBytesPerConnection: number;
  /** Close a TCP connection after this long without traffic either way; 0 disables. */
  idleTimeoutMs: number;
  /** Give up an outbound TCP connect after this long. */
  connectTimeoutMs: number;
  /** Larger datagrams are dropped on receive and refused on send. */
  maxDatagramBytes: number;
  /** Stream framing: header section and body caps (see StreamFramer). */
  maxHeaderBytes: number;
  maxBodyBytes: number;
  /** SO_RCVBUF asked for each UDP socket (the kernel may cap it at net.core.rmem_max). */
  udpRecvBufferBytes: number;
  /** TCP keep-alive probe delay; 0 (default) leaves keep-alive off (SIP has its own, RFC 5626). */
  tcpKeepAliveMs: number;
  /**
   * RFC 5626 §4.4.1: on stream connections this server opened (TCP, TLS), send a CRLFCRLF ping
   * after this long without traffic, and close the connection when no CRLF pong comes back within
   * 10 s. 0 (default) disables. WebSocket connections get a WebSocket ping instead.
   */
  keepAliveIntervalMs: number;
}

export const DEFAULT_LIMITS: Readonly<TransportLimits> = Object.freeze({
  maxConnections: 4096,
  maxBufferedBytesPerConnection: 256 * 1024,
  idleTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  // Largest UDP payload over IPv4 (65535 - 8 UDP - 20 IP).
  maxDatagramBytes: 65_507,
  maxHeaderBytes: DEFAULT_FRAMER_LIMITS.maxHeaderBytes,
  maxBodyBytes: DEFAULT_FRAMER_LIMITS.maxBodyBytes,
  udpRecvBufferBytes: 4 * 1024 * 1024,
  tcpKeepAliveMs: 0,
  keepAliveIntervalMs: 0,
});

/** pino-compatible subset; every call site passes a context object first. */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;
export const SILENT_LOGGER: TransportLogger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});

/** Certificates for `tls:` and `wss:` listeners and for outbound TLS / WSS connections (PEM). */
export interface TlsSettings {
  certificate: Buffer | string;
  privateKey: Buffer | string;
  /** CA bundle peers are verified against (client certificates, and servers when verifyServer). */
  ca?: Buffer | string;
  /** Require and verify a client certificate on inbound connections (Kamailio require_certificate). */
  verifyClient?: boolean;
  /** Verify the certificate chain of servers we connect to (Kamailio verify_certificate). */
  verifyServer?: boolean;
}

export interface TransportLayerOptions {
  listen: ListenConfig[];
  limits?: Partial<TransportLimits>;
  logger?: TransportLogger;
  /** Required when a listener is `tls` or `wss`. */
  tls?: TlsSettings;
  /** Creates UDP sockets; node:dgram's createSocket by default (benchmarks pass an in-memory one). */
  udpSocketFactory?: DatagramSocketFactory;
}

/** The part of node:dgram's Socket a UDP listener uses. */
export interface DatagramSocket {
  once(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): unknown;
  off(event: 'error', listener: (err: Error) => void): unknown;
  bind(options: { address: string; port: number; exclusive: boolean }, callback: () => void): unknown;
  address(): { port: number };
  setRecvBufferSize(size: number): void;
  setMulticastTTL(ttl: number): unknown;
  send(data: Buffer, port: number, address: string, callback: (err: Error | null) => void): void;
  close(callback?: () => void): unknown;
}

export type DatagramSocketFactory = (options: SocketOptions) => DatagramSocket;

/** Defaults filled in; a bad value is a configuration error and throws at construction. */
export function resolveLimits(partial: Partial<TransportLimits> | undefined): TransportLimits {
  const out: TransportLimits = { ...DEFAULT_LIMITS };
  if (partial === undefined) return out;
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof TransportLimits>) {
    const v = partial[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`transport limit ${key} must be a non-negative integer, got ${v}`);
    out[key] = v;
  }
  if (out.maxConnections < 1) throw new RangeError('transport limit maxConnections must be at least 1');
  if (out.maxBufferedBytesPerConnection < 1)
    throw new RangeError('transport limit maxBufferedBytesPerConnection must be at least 1');
  if (out.maxHeaderBytes < 1) throw new RangeError('transport limit maxHeaderBytes must be at least 1');
  return out;
}
