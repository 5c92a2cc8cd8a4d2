/**
 * Keep-alive pings to registered NATed contacts (nathelper natping_interval with sipping): every
 * interval, each binding saved with the sipping branch flag gets a stateless OPTIONS (method and
 * From configurable) at its received address (else its Contact), over the transport it registered
 * with, so the NAT binding stays open and a dead phone shows up as silence. Replies are dropped by
 * the core (the Via is ours and there is nothing above it). Host names are not pinged (no DNS on a
 * timer); a sweep never overlaps the previous one.
 */

import { nextHopOf } from '../../proxy/target.ts';
import { buildRequest, newBranch, newCallId, newTag } from '../../sip/build.ts';
import { isParseError } from '../../sip/errors.ts';
import type { Binding } from '../../storage/types.ts';
import { familyOf } from '../../transport/ip.ts';
import type { Endpoint, ListenerInfo } from '../../transport/types.ts';
import type { LocationService } from '../usrloc/service.ts';
import type { NathelperParams } from './params.ts';

export interface PingTransport {
  selectListener(dest: Endpoint): ListenerInfo | undefined;
  send(data: Buffer, dest: Endpoint, opts?: { listenerId?: number; onError?: () => void }): void;
}

export interface PingStats {
  sweeps: number;
  pings: number;
}

export class NatPinger {
  readonly stats: PingStats = { sweeps: 0, pings: 0 };
  private readonly service: LocationService;
  private readonly transport: PingTransport;
  private readonly params: NathelperParams;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private cseq = 1;

  constructor(service: LocationService, transport: PingTransport, params: NathelperParams) {
    this.service = service;
    this.transport = transport;
    this.params = params;
  }

  start(): void {
    if (this.params.natping_interval <= 0) return;
    this.timer = setInterval(() => void this.sweep(), this.params.natping_interval * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round of pings; resolves to how many were sent. */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let sent = 0;
    try {
      const mask = 1 << this.params.sipping_bflag;
      const bindings = await this.service.storage.location.list();
      for (const b of bindings) if ((b.flags & mask) !== 0 && this.ping(b)) sent++;
    } catch {
      // storage unavailable: the next sweep tries again
    } finally {
      this.running = false;
    }
    this.stats.sweeps++;
    this.stats.pings += sent;
    return sent;
  }

  private ping(b: Binding): boolean {
    const hop = nextHopOf(b.received ?? b.contact);
    if (isParseError(hop) || familyOf(hop.host) === 0) return false;
    const dest: Endpoint = { protocol: hop.protocol, address: hop.host, port: hop.port };
    const out = this.transport.selectListener(dest);
    if (out === undefined) return false;
    const host = out.advertisedHost.includes(':') ? `[${out.advertisedHost}]` : out.advertisedHost;
    const data = buildRequest({
      method: this.params.sipping_method,
      uri: b.contact,
      via: [`SIP/2.0/${out.protocol.toUpperCase()} ${host}:${out.advertisedPort};branch=${newBranch()}`],
      from: `<${this.params.sipping_from}>;tag=${newTag()}`,
      to: `<${b.contact}>`,
      callId: newCallId(),
      cseq: this.cseq++,
    });
    this.transport.send(data, dest, { listenerId: out.id, onError: () => undefined });
    return true;
  }
}
