/**
 * Listener descriptions: the configured address checked, the bound port filled in, and the
 * host/port that Via and Record-Route should carry.
 */
import { networkInterfaces } from 'node:os';
import { familyOf, isAnyAddress, stripBrackets } from './ip.ts';
import type { ListenConfig } from './options.ts';
import type { ListenerInfo } from './types.ts';

const PROTOCOLS = new Set<string>(['udp', 'tcp', 'tls', 'ws', 'wss']);

/** The configured address without brackets, and its family; throws on anything but an IP literal. */
export function checkListenAddress(cfg: ListenConfig): { address: string; family: 4 | 6 } {
  if (!PROTOCOLS.has(cfg.protocol)) {
    throw new Error(
      `listen ${String(cfg.protocol)}:${cfg.address}:${cfg.port}: protocol not supported (udp, tcp, tls, ws, wss)`,
    );
  }
  const address = stripBrackets(cfg.address);
  const family = familyOf(address);
  if (family === 0) {
    throw new Error(
      `listen ${cfg.protocol}:${cfg.address}:${cfg.port}: address must be an IPv4 or IPv6 literal`,
    );
  }
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535) {
    throw new Error(`listen ${cfg.protocol}:${cfg.address}:${cfg.port}: port must be 0-65535`);
  }
  return { address, family };
}

/**
 * The address a wildcard listener advertises when no `advertise` is configured: the first
 * non-internal interface address of its family (IPv6 link-local skipped: it needs a zone), else
 * loopback. Where this guess is wrong (several interfaces, NAT) the operator sets `advertise`.
 */
function guessAdvertisedHost(family: 4 | 6): string {
  const want = family === 4 ? 'IPv4' : 'IPv6';
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || a.family !== want) continue;
      if (family === 6 && a.address.toLowerCase().startsWith('fe80:')) continue;
      return a.address;
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}

export function makeListenerInfo(
  id: number,
  cfg: ListenConfig,
  address: string,
  port: number,
  family: 4 | 6,
): ListenerInfo {
  const advertisedHost =
    cfg.advertise !== undefined
      ? stripBrackets(cfg.advertise.host)
      : isAnyAddress(address)
        ? guessAdvertisedHost(family)
        : address;
  return Object.freeze({
    id,
    protocol: cfg.protocol,
    address,
    port,
    family,
    advertisedHost,
    advertisedPort: cfg.advertise?.port ?? port,
  });
}
