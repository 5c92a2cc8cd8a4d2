/**
 * The call-record service: the store in use and the acc statistics. The server installs one
 * (wire.ts); until then a memory store is used (unit tests, the script harness).
 */
import type { CallRecord } from './record.ts';
import { type CdrStore, MemoryCdrStore } from './store.ts';

export interface AccStats {
  records: number;
  missed_calls: number;
  store_errors: number;
}

export class AccService {
  readonly store: CdrStore;
  readonly stats: AccStats = { records: 0, missed_calls: 0, store_errors: 0 };

  constructor(store: CdrStore) {
    this.store = store;
  }

  write(r: CallRecord): void {
    this.stats.records++;
    if (r.table === 'missed_calls') this.stats.missed_calls++;
    try {
      this.store.add(r);
    } catch {
      this.stats.store_errors++;
    }
  }
}

let current: AccService | undefined;

export function accService(): AccService {
  current ??= new AccService(new MemoryCdrStore());
  return current;
}

export function setAccService(s: AccService | undefined): void {
  current = s;
}
