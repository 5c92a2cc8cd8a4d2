/** Transport counters (exposed through the management interface and Prometheus). */

export interface ProtocolCounters {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Messages that did not parse (and stream framing errors). */
  parseErrors: number;
  /** CRLF keep-alives received (RFC 5626 §3.5.1 pings and pongs). */
  keepAlives: number;
  /** Datagrams dropped unread: too large, or not SIP (STUN). */
  dropped: number;
  sendErrors: number;
}

export interface ConnectionCounters {
  open: number;
  accepted: number;
  /** Outbound connections we opened. */
  connected: number;
  /** Inbound connections refused at maxConnections. */
  refused: number;
  idleClosed: number;
  /** Closed for exceeding maxBufferedBytesPerConnection (either direction). */
  overflowClosed: number;
  /** Closed after a stream framing error. */
  framingClosed: number;
  connectFailures: number;
  /** TLS handshakes that failed (inbound): bad or missing client certificate, not TLS at all. */
  handshakeFailures: number;
  /** Outbound connections closed because a keep-alive ping got no pong (RFC 5626 §4.4.1). */
  keepAliveClosed: number;
}

export interface TransportStats {
  udp: ProtocolCounters;
  tcp: ProtocolCounters;
  tls: ProtocolCounters;
  ws: ProtocolCounters;
  wss: ProtocolCounters;
  connections: ConnectionCounters;
}

export function protocolCounters(): ProtocolCounters {
  return {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    parseErrors: 0,
    keepAlives: 0,
    dropped: 0,
    sendErrors: 0,
  };
}

export function connectionCounters(): ConnectionCounters {
  return {
    open: 0,
    accepted: 0,
    connected: 0,
    refused: 0,
    idleClosed: 0,
    overflowClosed: 0,
    framingClosed: 0,
    connectFailures: 0,
    handshakeFailures: 0,
    keepAliveClosed: 0,
  };
}

export function snapshot(s: TransportStats): TransportStats {
  return {
    udp: { ...s.udp },
    tcp: { ...s.tcp },
    tls: { ...s.tls },
    ws: { ...s.ws },
    wss: { ...s.wss },
    connections: { ...s.connections },
  };
}
