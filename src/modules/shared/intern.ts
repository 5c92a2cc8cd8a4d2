/**
 * One shared copy of values that many long-lived records repeat — a registrar keeps a binding per
 * phone for an hour, and most phones send one of a few User-Agent strings and Allow lists: each
 * binding then points at the shared copy instead of holding its own. Bounded: cleared when full
 * (a flood of distinct values costs one map, not a leak).
 */
export class Interner<T> {
  private readonly map = new Map<string, T>();
  private readonly max: number;

  constructor(max = 4096) {
    this.max = max;
  }

  /** The shared value for `key`, made by `make` the first time. */
  get(key: string, make: (key: string) => T): T {
    let v = this.map.get(key);
    if (v === undefined) {
      if (this.map.size >= this.max) this.map.clear();
      v = make(key);
      this.map.set(key, v);
    }
    return v;
  }

  get size(): number {
    return this.map.size;
  }
}

const same = (s: string): string => s;

/** A string interner: `intern(s)` returns the first string seen equal to `s`. */
export function stringInterner(max?: number): (s: string) => string {
  const i = new Interner<string>(max);
  return (s) => i.get(s, same);
}
