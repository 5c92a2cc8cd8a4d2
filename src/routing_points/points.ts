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
    this.#compiled = cps.map((cp) => {
      const ip = cp.match.ip;
      if (ip === undefined) return { cp, ips: undefined };
      const b = new BlockList();
      b.addSubnet(ip.address, ip.prefix, ip.family === 4 ? 'ipv4' : 'ipv6');
      return { cp, ips: b };
    });
    this.byUsername = cps.some((cp) => cp.match.username !== undefined);
  }

  get enabled(): boolean {
    return this.connectionPoints.length > 0;
  }

  /** The first connection point (config order) whose every given match key fits the call. */
  identify(src: CallSource): ConnectionPoint | undefined {
    const family = src.address.includes(':') ? 'ipv6' : 'ipv4';
    for (const { cp, ips } of this.#compiled) {
      const m = cp.match;
      if (ips !== undefined && !ips.check(src.address, family)) continue;
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
