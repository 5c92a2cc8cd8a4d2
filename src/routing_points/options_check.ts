/**
 * Termination point liveness: every TP with `options_interval_ms` gets an OPTIONS that often; any
 * response (even 404 or 405) means it is alive; no response before the next check is due (or a
 * transport error) marks it dead, and the call flow skips it until it answers again. State
 * changes are logged; `tp_list` shows `alive` and the last status.
 */
import type { RoutingPoints, TpRuntime } from './points.ts';

/** Send an OPTIONS to the TP; resolve with the response status, 0 when there was none, -1 when it could not be checked. */
export type OptionsSender = (tp: TpRuntime, timeoutMs: number) => Promise<number>;

export interface CheckLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const TICK_MS = 250;

export class TpChecker {
  readonly #points: () => RoutingPoints;
  readonly #send: OptionsSender;
  readonly #log: CheckLog;
  readonly #due = new Map<number, number>();
  readonly #pending = new Set<number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(points: () => RoutingPoints, send: OptionsSender, log: CheckLog) {
    this.#points = points;
    this.#send = send;
    this.#log = log;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.tick(Date.now()), TICK_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Start the checks that are due at `now` (exposed for tests). */
  tick(now: number): void {
    for (const tp of this.#points().terminationPoints.values()) {
      const every = tp.config.options_interval_ms;
      const id = tp.config.id;
      if (every <= 0 || !tp.config.active || this.#pending.has(id)) continue;
      const due = this.#due.get(id) ?? 0;
      if (now < due) continue;
      this.#due.set(id, now + every);
      this.#pending.add(id);
      void this.check(tp, every);
    }
  }

  async check(tp: TpRuntime, timeoutMs: number): Promise<void> {
    let status = 0;
    try {
      status = await this.#send(tp, timeoutMs);
    } catch {
      status = 0;
    }
    this.#pending.delete(tp.config.id);
    if (status < 0) return;
    tp.lastCheck = Date.now();
    tp.lastStatus = status;
    const alive = status > 0;
    if (alive === tp.alive) return;
    tp.alive = alive;
    if (alive)
      this.#log.info(
        { tp_id: tp.config.id, status },
        `termination point ${tp.config.id} answers again (${status})`,
      );
    else
      this.#log.warn(
        { tp_id: tp.config.id },
        `termination point ${tp.config.id} does not answer OPTIONS: skipped until it does`,
      );
  }
}
