/**
 * One bound UDP socket. IPv6 sockets are IPv6-only, so an `udp:[::]:5060` listener does not also
 * swallow IPv4 traffic: a listener's family is always the family of its peers (configure
 * `udp:0.0.0.0:5060` next to it for IPv4).
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { type LookupOneOptions, lookup } from 'node:dns';
import { isIP } from 'node:net';
import { makeListenerInfo } from './listener_info.ts';
import type {
  DatagramSocket,
  DatagramSocketFactory,
  ListenConfig,
  TransportLimits,
  TransportLogger,
} from './options.ts';
import type { ListenerInfo } from './types.ts';

export type DatagramHandler = (buf: Buffer, rinfo: RemoteInfo, listener: UdpListener) => void;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram resolves every destination before sending, even an IP literal (dns.lookup answers those
 * on the next tick): nearly every send of a proxy goes to a literal, so answer those at once and
 * the datagram leaves in the same tick, without the deferred closure.
 */
function literalLookup(host: string, options: LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(host);
  if (family !== 0) {
    callback(null, host, family);
    return;
  }
  lookup(host, options, callback);
}

export class UdpListener {
  readonly info: ListenerInfo;
  private readonly socket: DatagramSocket;
  private closed = false;

  private constructor(info: ListenerInfo, socket: DatagramSocket) {
    this.info = info;
    this.socket = socket;
  }

  static bind(
    id: number,
    cfg: ListenConfig,
    address: string,
    family: 4 | 6,
    limits: TransportLimits,
    logger: TransportLogger,
    onDatagram: DatagramHandler,
    factory: DatagramSocketFactory = createSocket,
  ): Promise<UdpListener> {
    const socket = factory({
      type: family === 6 ? 'udp6' : 'udp4',
      ipv6Only: family === 6,
      lookup: literalLookup,
    });
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error): void => {
        socket.close();
        reject(new Error(`listen udp:${cfg.address}:${cfg.port}: ${err.message}`, { cause: err }));
      };
      socket.once('error', onBindError);
      socket.bind({ address, port: cfg.port, exclusive: true }, () => {
        socket.off('error', onBindError);
        const info = makeListenerInfo(id, cfg, address, socket.address().port, family);
        const listener = new UdpListener(info, socket);
        // A socket error after bind (ICMP-driven, EMSGSIZE ...) must not reach the event loop.
        socket.on('error', (err) => logger.warn({ err, listener: info.id }, 'udp socket error'));
        socket.on('message', (buf, rinfo) => onDatagram(buf, rinfo, listener));
        try {
          // A burst of requests must queue in the kernel, not be dropped (the kernel caps the size).
          socket.setRecvBufferSize(limits.udpRecvBufferBytes);
        } catch (err) {
          logger.warn({ err, listener: info.id }, 'could not enlarge the UDP receive buffer');
        }
        resolve(listener);
      });
    });
  }

  /** Non-blocking send; `cb` gets the socket's error, if any (host names resolve in dgram). */
  send(data: Buffer, port: number, address: string, cb: (err: Error | null) => void): void {
    this.socket.send(data, port, address, cb);
  }

  /** RFC 3261 §18.2.2: a response to a multicast maddr uses the Via's ttl (default 1). */
  setMulticastTtl(ttl: number): void {
    try {
      this.socket.setMulticastTTL(ttl);
    } catch {
      // Not fatal: the response still goes out with the socket's current TTL.
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
