/** The memory backend: Maps, for tests and for servers that need not keep registrations. */
import type { AorUpdate, Binding, LocationStore, Storage, Subscriber, SubscriberStore } from './types.ts';

/** A min-heap of expiry times (lazy deletion: an entry whose binding changed is skipped when popped). */
class ExpiryHeap {
  private readonly at: number[] = [];
  private readonly aor: string[] = [];
  private readonly contact: string[] = [];

  get size(): number {
    return this.at.length;
  }

  peek(): number {
    return this.at.length === 0 ? Number.POSITIVE_INFINITY : this.at[0];
  }

  push(at: number, aor: string, contact: string): void {
    let i = this.at.length;
    this.at.push(at);
    this.aor.push(aor);
    this.contact.push(contact);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.at[p] <= at) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): [number, string, string] {
    const top: [number, string, string] = [this.at[0], this.aor[0], this.contact[0]];
    const last = this.at.length - 1;
    this.swap(0, last);
    this.at.pop();
    this.aor.pop();
    this.contact.pop();
    let i = 0;
    const n = this.at.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.at[l] < this.at[m]) m = l;
      if (r < n && this.at[r] < this.at[m]) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }

  clear(): void {
    this.at.length = 0;
    this.aor.length = 0;
    this.contact.length = 0;
  }

  private swap(a: number, b: number): void {
    const t = this.at[a];
    this.at[a] = this.at[b];
    this.at[b] = t;
    const u = this.aor[a];
    this.aor[a] = this.aor[b];
    this.aor[b] = u;
    const v = this.contact[a];
    this.contact[a] = this.contact[b];
    this.contact[b] = v;
  }
}

export class MemoryLocationStore implements LocationStore {
  /** aor → contact → binding. */
  protected readonly table = new Map<string, Map<string, Binding>>();
  /** Expiry index: a sweep costs O(expired · log n), not a scan of the table. */
  private readonly expiries = new ExpiryHeap();

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
      for (const b of change.put) {
        // Bindings are immutable: kept as given unless filed under another AOR than they name.
        m.set(b.contact, b.aor === aor ? b : { ...b, aor });
        this.expiries.push(b.expires, aor, b.contact);
      }
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
    while (this.expiries.peek() <= now) {
      const [at, aor, contact] = this.expiries.pop();
      const m = this.table.get(aor);
      const b = m?.get(contact);
      // Skip entries of bindings removed or refreshed since (their current expiry is elsewhere).
      if (m === undefined || b === undefined || b.expires !== at) continue;
      gone.push(b);
      m.delete(contact);
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
    this.expiries.clear();
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
