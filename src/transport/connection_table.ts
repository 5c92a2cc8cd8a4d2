/**
 * The connections of one stream transport, by id (a response goes back on its request's
 * connection, RFC 3261 §18.2.2) and by remote protocol/address/port, whichever side opened them
 * (§18: a request to an address with an open connection reuses it), plus RFC 5923 aliases.
 */
import { canonicalAddress, endpointKey } from './ip.ts';
import type { Endpoint } from './types.ts';

export interface TableConnection {
  readonly id: number;
  /** Key of its remote endpoint (keyOf). */
  readonly key: string;
  /** Further keys (aliases) that point at it. */
  readonly aliases: string[];
  /** Open, or still connecting. */
  readonly usable: boolean;
}

export function keyOf(ep: Endpoint): string {
  return endpointKey(ep.protocol, canonicalAddress(ep.address), ep.port);
}

export class ConnectionTable<C extends TableConnection> {
  private readonly byId = new Map<number, C>();
  private readonly byRemote = new Map<string, C>();

  get size(): number {
    return this.byId.size;
  }

  all(): C[] {
    return [...this.byId.values()];
  }

  values(): IterableIterator<C> {
    return this.byId.values();
  }

  get(id: number): C | undefined {
    return this.byId.get(id);
  }

  add(conn: C): void {
    this.byId.set(conn.id, conn);
    this.byRemote.set(conn.key, conn);
  }

  remove(conn: C): void {
    this.byId.delete(conn.id);
    if (this.byRemote.get(conn.key) === conn) this.byRemote.delete(conn.key);
    for (const k of conn.aliases) if (this.byRemote.get(k) === conn) this.byRemote.delete(k);
  }

  /** A usable connection: by id first, else to the remote endpoint. */
  find(dest: Endpoint, connectionId: number | undefined): C | undefined {
    if (connectionId !== undefined && connectionId > 0) {
      const c = this.byId.get(connectionId);
      if (c?.usable) return c;
    }
    const c = this.byRemote.get(keyOf(dest));
    return c?.usable ? c : undefined;
  }

  /** RFC 5923: requests to `ep` may use connection `id` (unless another usable one serves ep). */
  alias(id: number, ep: Endpoint): void {
    const conn = this.byId.get(id);
    if (conn === undefined || !conn.usable) return;
    const key = keyOf(ep);
    const cur = this.byRemote.get(key);
    if (cur === conn || cur?.usable) return;
    this.byRemote.set(key, conn);
    conn.aliases.push(key);
  }
}
