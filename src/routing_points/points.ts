/**
 * Connection points (where calls come from) and termination points (where they go), as
 * configured, with the run-time state of each termination point (alive per OPTIONS checks).
 * Replaced as a whole on reload (cp_reload): calls in progress keep the objects they started with.
 */
import { BlockList } from 'node:net';
import type { ConnectionPoint, Protocol, TerminationPoint, TpChoice } from '../config/types.ts';

export interface TpRuntime {
  readonly config: TerminationPoint;
  /** False after an OPTIONS check went unanswered, until one is answered. */
  alive: boolean;
  /** When the last OPTIONS check ended (ms since epoch), 0 never. */
  lastCheck: number;
  lastStatus: number;
}

interface CompiledCp {
  readonly cp: ConnectionPoint;
  readonly ips: BlockList | undefined;
  /** An IPv4 subnet as integers (checked without BlockList's native call); mask -1 otherwise. */
  readonly net4: number;
  readonly mask4: number;
}

/** A dotted-quad IPv4 address as an unsigned integer; -1 for anything else (IPv6, names). */
export function ipv4ToInt(s: string): number {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      octet = octet * 10 + (c - 0x30);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 0x2e && digits > 0 && dots < 3) {
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return n * 256 + octet;
}

function compile(cp: ConnectionPoint): CompiledCp {
  const ip = cp.match.ip;
  if (ip === undefined) return { cp, ips: undefined, net4: 0, mask4: -1 };
  const b = new BlockList();
  b.addSubnet(ip.address, ip.prefix, ip.family === 4 ? 'ipv4' : 'ipv6');
  const a = ip.family === 4 ? ipv4ToInt(ip.address) : -1;
  if (a < 0) return { cp, ips: b, net4: 0, mask4: -1 };
  const mask = ip.prefix === 0 ? 0 : (0xffffffff << (32 - ip.prefix)) >>> 0;
  return { cp, ips: b, net4: (a & mask) >>> 0, mask4: mask };
}

export interface CallSource {
  readonly address: string;
  readonly port: number;
  readonly transport: Protocol;
  /** Authenticated user name, when the request's credentials were checked. */
  readonly username?: string;
}

export class RoutingPoints {
  readonly connectionPoints: readonly ConnectionPoint[];
  readonly terminationPoints: ReadonlyMap<number, TpRuntime>;
  readonly #compiled: readonly CompiledCp[];
  /** Some connection point is recognised by user name (calls may need authentication). */
  readonly byUsername: boolean;

  constructor(cps: readonly ConnectionPoint[], tps: readonly TerminationPoint[], previous?: RoutingPoints) {
    this.connectionPoints = cps;
    const map = new Map<number, TpRuntime>();
    for (const tp of tps) {
      // A reload keeps what the checks learned about an unchanged address.
      const old = previous?.terminationPoints.get(tp.id);
      const keep = old !== undefined && old.config.uri === tp.uri;
      map.set(tp.id, {
        config: tp,
        alive: keep ? old.alive : true,
        lastCheck: keep ? old.lastCheck : 0,
        lastStatus: keep ? old.lastStatus : 0,
      });
    }
    this.terminationPoints = map;
    this.#compiled = cps.map(compile);
    this.byUsername = cps.some((cp) => cp.match.username !== undefined);
  }

  get enabled(): boolean {
    return this.connectionPoints.length > 0;
  }

  /** The first connection point (config order) whose every given match key fits the call. */
  identify(src: CallSource): ConnectionPoint | undefined {
    // Operators have hundreds of connection points: the source address is parsed once, and
    // IPv4 subnets are compared as integers (BlockList only for IPv6 and mapped addresses).
    const a4 = ipv4ToInt(src.address);
    const family = a4 >= 0 || !src.address.includes(':') ? 'ipv4' : 'ipv6';
    for (const { cp, ips, net4, mask4 } of this.#compiled) {
      const m = cp.match;
      if (ips !== undefined) {
        if (a4 >= 0 && mask4 >= 0) {
          if ((a4 & mask4) >>> 0 !== net4) continue;
        } else if (!ips.check(src.address, family)) continue;
      }
      if (m.port !== undefined && m.port !== src.port) continue;
      if (m.transport !== undefined && m.transport !== src.transport) continue;
      if (m.username !== undefined && m.username !== src.username) continue;
      return cp;
    }
    return undefined;
  }

  connectionPoint(id: number): ConnectionPoint | undefined {
    return this.connectionPoints.find((c) => c.id === id);
  }

  tp(id: number): TpRuntime | undefined {
    return this.terminationPoints.get(id);
  }
}

/** Whether a connection point's route entry applies to this destination (after the hook). */
export function choiceMatches(choice: TpChoice, dst: string): boolean {
  if (choice.prefix !== undefined && !dst.startsWith(choice.prefix)) return false;
  if (choice.regexp !== undefined && !choice.regexp.test(dst)) return false;
  return true;
}

let current: RoutingPoints = new RoutingPoints([], []);

export function routingPoints(): RoutingPoints {
  return current;
}

export function setRoutingPoints(p: RoutingPoints): void {
  current = p;
}
