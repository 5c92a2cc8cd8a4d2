/**
 * The transport layer (RFC 3261 §18): binds the configured UDP, TCP, TLS, WS and WSS listeners, turns received
 * bytes into SipMessages (stamping `received`/`rport` on requests, §18.2.1 / RFC 3581), and sends
 * requests and responses without ever blocking or throwing: failures are reported through
 * `SendOptions.onError` or the `sendError` event, and parse errors through `parseError` (the
 * layer above decides between a 400 and a silent drop).
 *
 * Decisions where the RFCs leave room:
 * - IPv6 listeners are IPv6-only; `selectListener` matches protocol and address family.
 * - A datagram of only CR/LF is a keep-alive and is ignored (nothing is answered over UDP: its
 *   keep-alive answer is STUN, out of scope); a datagram starting with a control octet (STUN) or
 *   larger than maxDatagramBytes is dropped and counted.
 * - A stream framing error is reported to `parseError` with an empty `raw` (the framer dropped the
 *   bytes; nothing can be answered) and the connection is closed.
 * - Requests larger than the path MTU are not switched to TCP here (§18.1.1): the layer that
 *   builds the Via chooses the transport.
 * - `stop()` closes UDP sockets and listening sockets at once, flushes and closes connections, and
 *   destroys what is left after `graceMs`.
 */
import type { RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';
import { isParseError, type ParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import { familyOf, isMulticast, normalizeAddress, stripBrackets } from './ip.ts';
import { checkListenAddress } from './listener_info.ts';
import {
  resolveLimits,
  SILENT_LOGGER,
  type TlsSettings,
  type TransportLayerOptions,
  type TransportLimits,
  type TransportLogger,
} from './options.ts';
import { defaultPort, type ResponseRoute, responseTarget } from './response_target.ts';
import {
  connectionCounters,
  type ProtocolCounters,
  protocolCounters,
  snapshot,
  type TransportStats,
} from './stats.ts';
import type { ErrorCallback, StreamSink, StreamTransport } from './stream_transport_base.ts';
import { TcpTransport } from './tcp_transport.ts';
import { TlsContext } from './tls_context.ts';
import { TransportError } from './transport_error.ts';
import type { Endpoint, ListenerInfo, Protocol, ReceiveInfo, SendOptions, TransportEvents } from './types.ts';
import { UdpListener } from './udp_listener.ts';
import { stampTopVia } from './via_stamp.ts';
import { WsTransport } from './ws_transport.ts';

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

const NEW = 0;
const STARTING = 1;
const RUNNING = 2;
const STOPPING = 3;
const STOPPED = 4;

function isKeepAlive(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== CR && buf[i] !== LF) return false;
  return true;
}

export class TransportLayer {
  /** Bound listeners, in configuration order (ids 1, 2, ...); filled by start(). */
  readonly listeners: ListenerInfo[] = [];
  readonly limits: TransportLimits;
  private readonly config: TransportLayerOptions;
  private readonly logger: TransportLogger;
  private readonly events: TransportEvents;
  private readonly counters: TransportStats;
  private readonly udp = new Map<number, UdpListener>();
  /** Stream transports by protocol (TCP always; TLS, WS, WSS when a listener needs them). */
  private readonly streams = new Map<Protocol, StreamTransport>();
  private readonly tlsContext: TlsContext | undefined;
  /** Listeners by `${protocol}${family}` for selectListener. */
  private readonly byKind = new Map<string, ListenerInfo[]>();
  private state = NEW;
  /** Shared UDP send callback when nobody waits for the outcome (no closure per datagram). */
  private readonly countUdpError = (err: Error | null): void => {
    if (err) this.onUdpError(err, undefined, undefined);
  };

  constructor(options: TransportLayerOptions, events: TransportEvents) {
    this.config = options;
    this.events = events;
    this.limits = resolveLimits(options.limits);
    this.logger = options.logger ?? SILENT_LOGGER;
    this.counters = {
      udp: protocolCounters(),
      tcp: protocolCounters(),
      tls: protocolCounters(),
      ws: protocolCounters(),
      wss: protocolCounters(),
      connections: connectionCounters(),
    };
    const wanted = new Set<Protocol>(['tcp']);
    for (const cfg of options.listen) {
      checkListenAddress(cfg); // configuration errors surface at once
      wanted.add(cfg.protocol);
    }
    if (options.tls !== undefined) this.tlsContext = new TlsContext(options.tls);
    else if (wanted.has('tls') || wanted.has('wss'))
      throw new Error('tls and wss listeners need TLS settings (certificate and private key)');
    for (const p of wanted) {
      if (p === 'udp') continue;
      const counters = this.counters[p];
      const sink: StreamSink = {
        // A WebSocket message is one whole SIP message (RFC 7118 §5.1): parsed like a datagram.
        message: (data, info) => this.deliver(data, p === 'ws' || p === 'wss', info, counters),
        framingError: (error, info) => this.reportParseError(error, EMPTY, info),
        reportError: (error, onError) => this.reportSendError(error, onError),
      };
      const conn = this.counters.connections;
      const tls = p === 'tls' || p === 'wss' ? this.tlsContext : undefined;
      this.streams.set(
        p,
        p === 'tcp' || p === 'tls'
          ? new TcpTransport(this.limits, this.logger, counters, conn, sink, tls)
          : new WsTransport(this.limits, this.logger, counters, conn, sink, tls),
      );
    }
  }

  /**
   * Replace the TLS certificate, key and CA (management command `tls.reload`): new handshakes use
   * them, open connections keep theirs. Throws, keeping the old ones, when they are unusable.
   */
  reloadTls(settings: TlsSettings): void {
    if (this.tlsContext === undefined) throw new Error('no TLS transport is configured');
    this.tlsContext.reload(settings);
  }

  /** Whether the layer has a transport (listener) for this protocol. */
  supports(protocol: Protocol): boolean {
    return protocol === 'udp' ? this.udp.size > 0 : this.streams.has(protocol);
  }

  /** Bind every listener. On failure, whatever was bound is closed and the error names the listener. */
  async start(): Promise<void> {
    if (this.state !== NEW) throw new Error('TransportLayer.start() may be called once');
    this.state = STARTING;
    try {
      for (const cfg of this.config.listen) {
        const id = this.listeners.length + 1;
        const { address, family } = checkListenAddress(cfg);
        let info: ListenerInfo;
        if (cfg.protocol === 'udp') {
          const l = await UdpListener.bind(
            id,
            cfg,
            address,
            family,
            this.limits,
            this.logger,
            (buf, rinfo, listener) => this.onDatagram(buf, rinfo, listener),
            this.config.udpSocketFactory,
          );
          this.udp.set(id, l);
          info = l.info;
        } else {
          info = await (this.streams.get(cfg.protocol) as StreamTransport).listen(id, cfg, address, family);
        }
        this.listeners.push(info);
        const kind = `${info.protocol}${info.family}`;
        const list = this.byKind.get(kind);
        if (list === undefined) this.byKind.set(kind, [info]);
        else list.push(info);
        this.logger.info(
          { listener: info.id, protocol: info.protocol, address: info.address, port: info.port },
          'listening',
        );
      }
    } catch (err) {
      this.state = STOPPING;
      await this.closeAll(0);
      this.state = STOPPED;
      throw err;
    }
    this.state = RUNNING;
  }

  /**
   * The listener a message to `dest` leaves from: same protocol and address family; among several,
   * a loopback one for a loopback destination and a non-loopback one otherwise. undefined when the
   * protocol or family has no listener.
   */
  selectListener(dest: Endpoint): ListenerInfo | undefined {
    const family = familyOf(dest.address);
    const list = this.byKind.get(`${dest.protocol}${family === 0 ? 4 : family}`);
    if (list === undefined) return undefined;
    if (list.length === 1) return list[0];
    const loop = isLoopback(dest.address);
    for (const l of list) if (isLoopback(l.address) === loop) return l;
    return list[0];
  }

  /**
   * Send a message (request, or a response already routed by the caller). Non-blocking; never
   * throws. UDP leaves from `opts.listenerId` when it is a UDP listener of the right family, else
   * from selectListener(dest). TCP reuses `opts.connectionId`, else any open connection to dest,
   * else opens one (queueing until it is up).
   */
  send(data: Buffer, dest: Endpoint, opts?: SendOptions): void {
    const onError = opts?.onError;
    if (this.state !== RUNNING) {
      this.failSend(
        new TransportError('STOPPED', 'transport layer is not running', dest),
        dest.protocol,
        onError,
      );
      return;
    }
    if (dest.protocol === 'udp') {
      const l = this.udpListenerFor(dest.address, opts?.listenerId);
      if (l === undefined) {
        this.failSend(
          new TransportError('NO_LISTENER', `no udp listener for ${dest.address}`, dest),
          'udp',
          onError,
        );
        return;
      }
      this.sendUdp(l, data, dest, onError);
      return;
    }
    const stream = this.streams.get(dest.protocol);
    if (stream !== undefined) {
      stream.send(data, dest, opts?.connectionId, this.streamListenerFor(dest, opts?.listenerId), onError);
      return;
    }
    this.failSend(
      new TransportError('NO_LISTENER', `transport ${dest.protocol} is not available`, dest),
      dest.protocol,
      onError,
    );
  }

  /**
   * Send a response to a received request (RFC 3261 §18.2.2, RFC 3581 §4; see response_target.ts):
   * the request's connection while open, else a new connection to the source address and sent-by
   * port; over UDP to maddr, or the source address with the source port (rport) or sent-by port.
   */
  sendResponse(data: Buffer, request: ResponseRoute, info: ReceiveInfo, onError?: ErrorCallback): void {
    const t = responseTarget(request, info);
    const dest: Endpoint = { protocol: t.protocol, address: t.host, port: t.port };
    if (t.protocol !== 'udp' || this.state !== RUNNING) {
      this.send(data, dest, { connectionId: t.connectionId, listenerId: t.listenerId, onError });
      return;
    }
    // RFC 3581 §4: the response leaves from the address and port the request arrived on.
    let l = this.udp.get(t.listenerId);
    if (l !== undefined && isIP(t.host) !== 0 && familyOf(t.host) !== l.info.family) {
      l = this.udpListenerFor(t.host, undefined); // maddr of the other family
    }
    if (l === undefined) {
      this.failSend(new TransportError('NO_LISTENER', `no udp listener for ${t.host}`, dest), 'udp', onError);
      return;
    }
    if (t.ttl !== undefined && isMulticast(t.host)) l.setMulticastTtl(t.ttl);
    this.sendUdp(l, data, dest, onError);
  }

  /** Counters snapshot. */
  stats(): TransportStats {
    let open = 0;
    for (const s of this.streams.values()) open += s.openConnections;
    this.counters.connections.open = open;
    return snapshot(this.counters);
  }

  /** Stop accepting, close listeners and connections; connections get `graceMs` to flush. */
  async stop(graceMs = 0): Promise<void> {
    if (this.state === STOPPED || this.state === STOPPING) return;
    this.state = STOPPING;
    await this.closeAll(graceMs);
    this.state = STOPPED;
  }

  // ---------------------------------------------------------------- internals

  private async closeAll(graceMs: number): Promise<void> {
    const udp = [...this.udp.values()];
    this.udp.clear();
    await Promise.all([
      ...udp.map((l) => l.close()),
      ...[...this.streams.values()].map((s) => s.close(graceMs)),
    ]);
  }

  private udpListenerFor(address: string, listenerId: number | undefined): UdpListener | undefined {
    if (listenerId !== undefined) {
      const l = this.udp.get(listenerId);
      if (l !== undefined && (isIP(address) === 0 || familyOf(address) === l.info.family)) return l;
    }
    const info = this.selectListener({ protocol: 'udp', address, port: 0 });
    return info === undefined ? undefined : this.udp.get(info.id);
  }

  private streamListenerFor(dest: Endpoint, listenerId: number | undefined): ListenerInfo | undefined {
    if (listenerId !== undefined) {
      const l = this.listeners[listenerId - 1];
      if (l !== undefined && l.protocol === dest.protocol && l.family === familyOf(dest.address)) return l;
    }
    return this.selectListener(dest);
  }

  private sendUdp(l: UdpListener, data: Buffer, dest: Endpoint, onError: ErrorCallback): void {
    const c = this.counters.udp;
    if (data.length > this.limits.maxDatagramBytes) {
      this.failSend(
        new TransportError('MESSAGE_TOO_LARGE', `${data.length} bytes above maxDatagramBytes`, dest),
        'udp',
        onError,
      );
      return;
    }
    c.messagesOut++;
    c.bytesOut += data.length;
    const cb =
      onError === undefined && this.events.sendError === undefined
        ? this.countUdpError
        : (err: Error | null): void => {
            if (err) this.onUdpError(err, dest, onError);
          };
    l.send(data, dest.port, stripBrackets(dest.address), cb);
  }

  private onUdpError(err: Error, dest: Endpoint | undefined, onError: ErrorCallback): void {
    this.counters.udp.sendErrors++;
    const code = (err as NodeJS.ErrnoException).code;
    const dns = code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME';
    if (dest === undefined) {
      this.logger.debug({ err }, 'udp send failed');
      return;
    }
    const error = new TransportError(
      dns ? 'DNS_FAILED' : 'SEND_FAILED',
      `udp send failed: ${err.message}`,
      dest,
      err,
    );
    this.reportSendError(error, onError);
  }

  private failSend(error: TransportError, protocol: Protocol, onError: ErrorCallback): void {
    this.counters[protocol].sendErrors++;
    this.reportSendError(error, onError);
  }

  /** Always asynchronous: a caller of send() never sees its own callback run inside the call. */
  private reportSendError(error: TransportError, onError: ErrorCallback): void {
    this.logger.debug({ code: error.code, dest: error.dest }, error.message);
    queueMicrotask(() => {
      try {
        if (onError !== undefined) onError(error);
        else if (this.events.sendError !== undefined && error.dest !== undefined)
          this.events.sendError(error, error.dest);
      } catch (err) {
        this.logger.error({ err }, 'send error handler threw');
      }
    });
  }

  private onDatagram(buf: Buffer, rinfo: RemoteInfo, listener: UdpListener): void {
    const c = this.counters.udp;
    c.bytesIn += buf.length;
    if (buf.length > this.limits.maxDatagramBytes) {
      c.dropped++;
      return;
    }
    const b0 = buf.length === 0 ? -1 : buf[0];
    if (b0 === CR || b0 === LF) {
      // RFC 5626 §3.5.1 / RFC 3261 §7.5: CRLF keep-alives; UDP's answer would be STUN, not CRLF.
      if (isKeepAlive(buf)) {
        c.keepAlives++;
        return;
      }
    } else if (b0 < 0x20) {
      // Not SIP (a SIP message starts with a token or "SIP/2.0"): STUN (RFC 5389) and noise.
      c.dropped++;
      return;
    }
    const info: ReceiveInfo = {
      source: { protocol: 'udp', address: normalizeAddress(rinfo.address), port: rinfo.port },
      listener: listener.info,
      connectionId: 0,
      receivedAt: performance.now(),
      forceRport: false,
    };
    this.deliver(buf, true, info, c);
  }

  private deliver(buf: Buffer, datagram: boolean, info: ReceiveInfo, c: ProtocolCounters): void {
    const msg = parseMessage(buf, { datagram, maxBodyBytes: this.limits.maxBodyBytes });
    if (isParseError(msg)) {
      c.parseErrors++;
      this.reportParseError(msg, buf, info);
      return;
    }
    if (msg.isRequest) {
      stampTopVia(msg, info.source.address, info.source.port);
      if (info.connectionId > 0) this.aliasConnection(msg, info);
    }
    c.messagesIn++;
    try {
      guard(this.events.message(msg, info), this.logger);
    } catch (err) {
      this.logger.error({ err }, 'message handler threw');
    }
  }

  /**
   * RFC 5923 §5: a request whose top Via carries `alias` lets us send requests for its sent-by
   * port (at its source address) over the connection it came on. The sent-by host is not trusted
   * (§9: only the address the connection really comes from is aliased).
   */
  private aliasConnection(msg: SipMessage, info: ReceiveInfo): void {
    const via = msg.topVia;
    if (!via.params.has('alias')) return;
    const stream = this.streams.get(info.listener.protocol);
    if (stream !== undefined)
      stream.alias(info.connectionId, info.source.address, via.port ?? defaultPort(info.listener.protocol));
  }

  private reportParseError(error: ParseError, raw: Buffer, info: ReceiveInfo): void {
    this.logger.debug({ source: info.source, reason: error.phrase }, 'unparsable message');
    try {
      guard(this.events.parseError(error, raw, info), this.logger);
    } catch (err) {
      this.logger.error({ err }, 'parseError handler threw');
    }
  }
}

/** A handler typed `void` may still be async: its rejection must not become an unhandled one. */
function guard(r: unknown, logger: TransportLogger): void {
  if (r instanceof Promise)
    r.catch((err: unknown) => logger.error({ err }, 'transport event handler rejected'));
}

function isLoopback(address: string): boolean {
  const a = stripBrackets(address);
  return a.startsWith('127.') || a === '::1';
}
