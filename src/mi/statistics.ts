/**
 * Statistics (OpenSIPS `get_statistics` style): named values in groups (`core:rcv_requests`,
 * `tm:UAC_transactions` …). A value is read from its owner when asked (the counters live where
 * they are counted: transport.stats(), transactions.stats, core.stats, engine.stats()), so
 * counting costs nothing extra.
 *
 * `reset_statistics` keeps a baseline per counter and reports value − baseline afterwards;
 * Prometheus (`GET /metrics`) always gets the raw, monotonic value, as Prometheus expects.
 * Gauges (live transactions, open connections) cannot be reset.
 */

export type StatKind = 'counter' | 'gauge';

export interface StatDefinition {
  readonly group: string;
  readonly name: string;
  readonly kind: StatKind;
  readonly help?: string;
  read(): number;
}

/** Names are [A-Za-z0-9_]; anything else becomes '_' (so `udp.messagesIn` → `udp_messagesIn`). */
function clean(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

export class Statistics {
  private readonly defs = new Map<string, StatDefinition>();
  private readonly baseline = new Map<string, number>();

  /** Add one value; `group:name` must be new. */
  define(def: StatDefinition): void {
    const key = `${clean(def.group)}:${clean(def.name)}`;
    if (this.defs.has(key)) throw new Error(`statistic ${key} is already defined`);
    this.defs.set(key, { ...def, group: clean(def.group), name: clean(def.name), read: def.read });
  }

  /**
   * Every numeric field of an object the owner keeps (or returns) as one statistic each:
   * `source()` is called on every read. `gauges` names the fields that are not counters.
   */
  defineObject(
    group: string,
    fields: readonly string[],
    source: () => object,
    opts: { gauges?: readonly string[]; prefix?: string; help?: Readonly<Record<string, string>> } = {},
  ): void {
    for (const f of fields) {
      const help = opts.help?.[f];
      this.define({
        group,
        name: `${opts.prefix ?? ''}${f}`,
        kind: opts.gauges?.includes(f) === true ? 'gauge' : 'counter',
        ...(help === undefined ? {} : { help }),
        read: () => {
          const v = (source() as Record<string, unknown>)[f];
          return typeof v === 'number' ? v : 0;
        },
      });
    }
  }

  groups(): string[] {
    return [...new Set([...this.defs.values()].map((d) => d.group))];
  }

  /** The keys `spec` names: `all`, `group:` (a whole group), or `group:name` / bare `name`. */
  select(spec: string): string[] {
    if (spec === 'all') return [...this.defs.keys()];
    if (spec.endsWith(':')) {
      const g = spec.slice(0, -1);
      return [...this.defs.values()].filter((d) => d.group === g).map((d) => `${d.group}:${d.name}`);
    }
    if (this.defs.has(spec)) return [spec];
    return [...this.defs.values()].filter((d) => d.name === spec).map((d) => `${d.group}:${d.name}`);
  }

  /** Values (after reset baselines) of every key the specs select; unknown specs select nothing. */
  get(specs: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const spec of specs) {
      for (const key of this.select(spec)) {
        const def = this.defs.get(key)!;
        out[key] = def.read() - (def.kind === 'counter' ? (this.baseline.get(key) ?? 0) : 0);
      }
    }
    return out;
  }

  /** `group:name` → kind ('counter' | 'gauge'), for `list_statistics`. */
  list(specs: readonly string[] = ['all']): Record<string, StatKind> {
    const out: Record<string, StatKind> = {};
    for (const spec of specs) for (const key of this.select(spec)) out[key] = this.defs.get(key)!.kind;
    return out;
  }

  /** Reset the counters the specs select; returns the keys reset (gauges are skipped). */
  reset(specs: readonly string[]): string[] {
    const done: string[] = [];
    for (const spec of specs) {
      for (const key of this.select(spec)) {
        const def = this.defs.get(key)!;
        if (def.kind !== 'counter') continue;
        this.baseline.set(key, def.read());
        done.push(key);
      }
    }
    return done;
  }

  /** Prometheus text exposition format 0.0.4: `junction_<group>_<name>`, raw values. */
  prometheus(extra: readonly string[] = []): string {
    const lines: string[] = [];
    for (const def of this.defs.values()) {
      const metric = `junction_${def.group}_${def.name}`;
      if (def.help !== undefined)
        lines.push(`# HELP ${metric} ${def.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      lines.push(`# TYPE ${metric} ${def.kind}`);
      const v = def.read();
      lines.push(`${metric} ${Number.isFinite(v) ? v : 0}`);
    }
    lines.push(...extra);
    return `${lines.join('\n')}\n`;
  }
}

const MODULE_STATS: StatDefinition[] = [];

/**
 * A module's statistic, declared at import time from the module's folder (like its commands):
 * `defineModuleStatistic({ group: 'usrloc', name: 'registered_users', kind: 'gauge', read })`.
 * Every server started afterwards exposes it (get_statistics, /metrics).
 */
export function defineModuleStatistic(def: StatDefinition): void {
  MODULE_STATS.push(def);
}

export function moduleStatistics(): readonly StatDefinition[] {
  return MODULE_STATS;
}
