/**
 * Where a response to a received request goes (RFC 3261 §18.2.2, RFC 3581 §4).
 *
 * The request's source address is the `received` address: the transport stamps `received` on
 * every request whose sent-by is not its source IP (§18.2.1), so "received if present, else
 * sent-by" is always the packet's source — no DNS lookup is ever needed except for `maddr`.
 *
 * Reliable (TCP, TLS, WS, WSS): the connection the request came on while it is open; otherwise
 * a new connection to the source address and the sent-by port (default 5060, 5061 for TLS).
 * Unreliable (UDP):
 *   1. maddr → that address, port from sent-by or 5060 (multicast: TTL from `ttl`, default 1);
 *   2. rport in the top Via (RFC 3581 §4) → source address and source port, sent from the
 *      listener the request arrived on;
 *   3. otherwise → source address (the `received` value) with the sent-by port or 5060.
 * The protocol is the one the request actually arrived on, not the Via's transport token (they
 * agree for any sane client; when they do not, the packet is the ground truth).
 */
import type { Via } from '../sip/types.ts';
import { stripBrackets } from './ip.ts';
import type { Protocol, ReceiveInfo } from './types.ts';

export interface ResponseTarget {
  protocol: Protocol;
  /** IP literal, or for `maddr` possibly a host name the caller resolves. */
  host: string;
  port: number;
  /** Stream connection to try first (0: none). */
  connectionId: number;
  /** Listener to send from (UDP responses leave from where the request arrived, RFC 3581 §4). */
  listenerId: number;
  /** Multicast TTL for a maddr target (RFC 3261 §18.2.2), undefined otherwise. */
  ttl: number | undefined;
}

export function isReliable(protocol: Protocol): boolean {
  return protocol !== 'udp';
}

export function defaultPort(protocol: Protocol): number {
  return protocol === 'tls' || protocol === 'wss' ? 5061 : 5060;
}

/**
 * What response routing reads from the request: its top Via (a SipMessage is one; a transaction
 * that only absorbs retransmissions keeps just these fields).
 */
export interface ResponseRoute {
  readonly topVia: Pick<Via, 'port' | 'maddr' | 'ttl' | 'rport'>;
}

export function responseTarget(req: ResponseRoute, info: ReceiveInfo): ResponseTarget {
  const protocol = info.listener.protocol;
  const via = req.topVia;
  const sentByPort = via.port ?? defaultPort(protocol);
  const source = info.source;
  if (isReliable(protocol)) {
    // §18.2.2: reuse the connection; else open one to received (= source) at the sent-by port.
    return {
      protocol,
      host: source.address,
      port: sentByPort,
      connectionId: info.connectionId,
      listenerId: info.listener.id,
      ttl: undefined,
    };
  }
  if (via.maddr !== undefined) {
    // §18.2.2: maddr wins; sent-by port or 5060 (this rule names 5060 even for other transports).
    return {
      protocol,
      host: stripBrackets(via.maddr),
      port: via.port ?? 5060,
      connectionId: 0,
      listenerId: info.listener.id,
      ttl: via.ttl ?? 1,
    };
  }
  // RFC 3581 §4: rport present (the transport filled its value) → source IP and port; force_rport
  // makes the server behave as if the client had asked for it.
  const port = via.rport !== undefined || info.forceRport === true ? source.port : sentByPort;
  return {
    protocol,
    host: source.address,
    port,
    connectionId: 0,
    listenerId: info.listener.id,
    ttl: undefined,
  };
}
