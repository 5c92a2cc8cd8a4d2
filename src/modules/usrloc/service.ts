/**
 * The location service behind KSR.registrar and the ul_* management commands: the storage in use,
 * a per-AOR lock (one REGISTER at a time per AOR, so read-modify-write stays consistent while the
 * storage awaits), the expiry timer and the usrloc statistics.
 *
 * The server installs one at start (`startLocationService`); until then (unit tests, the script
 * test harness) a memory storage is used.
 */
import { memoryStorage } from '../../storage/memory.ts';
import type { Binding, Storage } from '../../storage/types.ts';

export interface ServiceLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface UsrlocStats {
  /** Bindings removed by the expiry timer (Kamailio usrloc:expired_contacts). */
  expired_contacts: number;
  /** Bindings written / removed by REGISTERs. */
  registered_contacts: number;
  unregistered_contacts: number;
  /** Storage operations that failed (the REGISTER got a 500). */
  storage_errors: number;
  /** registrar:accepted_regs / rejected_regs. */
  accepted_regs: number;
  rejected_regs: number;
}

const NOOP_LOG: ServiceLogger = { info() {}, error() {} };

export class LocationService {
  readonly storage: Storage;
  readonly stats: UsrlocStats = {
    expired_contacts: 0,
    registered_contacts: 0,
    unregistered_contacts: 0,
    storage_errors: 0,
    accepted_regs: 0,
    rejected_regs: 0,
  };
  private readonly log: ServiceLogger;
  /** Locked AORs → the calls waiting for them. */
  private readonly locks = new Map<string, Array<() => void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(storage: Storage, log: ServiceLogger = NOOP_LOG) {
    this.storage = storage;
    this.log = log;
  }

  /**
   * Run `f` with the AOR locked: calls for one AOR run one after the other, in call order. An
   * unlocked AOR runs `f` at once (no promise chain): the common case, one REGISTER per AOR.
   */
  withAor<T>(aor: string, f: () => Promise<T>): Promise<T> {
    const waiting = this.locks.get(aor);
    if (waiting === undefined) {
      this.locks.set(aor, []);
      return this.runLocked(aor, f);
    }
    return new Promise<T>((resolve, reject) => {
      waiting.push(() => this.runLocked(aor, f).then(resolve, reject));
    });
  }

  private async runLocked<T>(aor: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } finally {
      const next = this.locks.get(aor)?.shift();
      if (next === undefined) this.locks.delete(aor);
      else next();
    }
  }

  /** Remove expired bindings now; returns them. Logs one line per sweep that removed any. */
  async expireNow(now = Date.now()): Promise<Binding[]> {
    let gone: Binding[];
    try {
      gone = await this.storage.location.expire(now);
    } catch (err) {
      this.stats.storage_errors++;
      this.log.error({ err: (err as Error).message }, 'usrloc: expiry sweep failed');
      return [];
    }
    if (gone.length > 0) {
      this.stats.expired_contacts += gone.length;
      this.log.info(
        {
          expired: gone.length,
          contacts: gone.slice(0, 10).map((b) => `${b.aor} ${b.contact}`),
        },
        'usrloc: expired contacts removed',
      );
    }
    return gone;
  }

  startTimer(intervalMs: number): void {
    this.stopTimer();
    this.timer = setInterval(() => void this.expireNow(), intervalMs);
    this.timer.unref();
  }

  stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

let current: LocationService | undefined;

/** The service in use (a memory one is created on first use when the server installed none). */
export function locationService(): LocationService {
  current ??= new LocationService(memoryStorage());
  return current;
}

/** Install `service` (the server at start, tests); undefined resets to a fresh memory service. */
export function setLocationService(service: LocationService | undefined): void {
  current?.stopTimer();
  current = service;
}
