/** The memory backend: Maps, for tests and for servers that need not keep registrations. */
import type { AorUpdate, Binding, LocationStore, Storage, Subscriber, SubscriberStore } from './types.ts';

export class MemoryLocationStore implements LocationStore {
  /** aor → contact → binding. */
  protected readonly table = new Map<string, Map<string, Binding>>();

  async get(aor: string, now = Date.now()): Promise<Binding[]> {
    return this.getSync(aor, now);
  }

  getSync(aor: string, now = Date.now()): Binding[] {
    const m = this.table.get(aor);
    if (m === undefined) return [];
    const out: Binding[] = [];
    for (const b of m.values()) if (b.expires > now) out.push(b);
    return out;
  }

  async update(aor: string, change: AorUpdate): Promise<void> {
    this.updateSync(aor, change);
  }

  updateSync(aor: string, change: AorUpdate): void {
    let m = this.table.get(aor);
    for (const c of change.remove) m?.delete(c);
    if (change.put.length > 0) {
      if (m === undefined) {
        m = new Map();
        this.table.set(aor, m);
      }
      for (const b of change.put) m.set(b.contact, { ...b, aor });
    }
    if (m !== undefined && m.size === 0) this.table.delete(aor);
  }

  async removeAor(aor: string): Promise<number> {
    return this.removeAorSync(aor);
  }

  removeAorSync(aor: string): number {
    const m = this.table.get(aor);
    if (m === undefined) return 0;
    this.table.delete(aor);
    return m.size;
  }

  async list(now = Date.now()): Promise<Binding[]> {
    const out: Binding[] = [];
    for (const m of this.table.values()) for (const b of m.values()) if (b.expires > now) out.push(b);
    return out;
  }

  async expire(now: number): Promise<Binding[]> {
    return this.expireSync(now);
  }

  expireSync(now: number): Binding[] {
    const gone: Binding[] = [];
    for (const [aor, m] of this.table) {
      for (const [c, b] of m) {
        if (b.expires <= now) {
          gone.push(b);
          m.delete(c);
        }
      }
      if (m.size === 0) this.table.delete(aor);
    }
    return gone;
  }

  async flush(): Promise<number> {
    return this.flushSync();
  }

  flushSync(): number {
    let n = 0;
    for (const m of this.table.values()) n += m.size;
    this.table.clear();
    return n;
  }
}

export function subscriberKey(username: string, domain: string): string {
  return `${username}\n${domain.toLowerCase()}`;
}

export class MemorySubscriberStore implements SubscriberStore {
  protected readonly table = new Map<string, Subscriber>();

  async get(username: string, domain: string): Promise<Subscriber | undefined> {
    return this.table.get(subscriberKey(username, domain));
  }
  async put(s: Subscriber): Promise<void> {
    this.table.set(subscriberKey(s.username, s.domain), { ...s, domain: s.domain.toLowerCase() });
  }
  async remove(username: string, domain: string): Promise<boolean> {
    return this.table.delete(subscriberKey(username, domain));
  }
  async list(): Promise<Subscriber[]> {
    return [...this.table.values()];
  }
  async count(): Promise<number> {
    return this.table.size;
  }
}

export function memoryStorage(): Storage {
  return {
    kind: 'memory',
    location: new MemoryLocationStore(),
    subscribers: new MemorySubscriberStore(),
    async close() {},
  };
}
