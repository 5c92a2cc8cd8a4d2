/**
 * RFC 3261 §17 timer values (Table 4 of Appendix A) with the RFC 6026 additions (Timers L and M),
 * and the one primitive every state machine arms them with.
 *
 * Design: live transactions arm one `setTimeout` per timer (at most a retransmission timer and a
 * lifetime timer each), unref'd so an idle server can exit, with the transaction passed as a timer
 * argument (`setTimeout(fire, ms, callback, tx)`) so arming allocates no closure; Node keeps one
 * list per distinct duration, so inserting and clearing are O(1). The timers that end a
 * transaction after its final response (J, I, K, D, L, M — the bulk under load: ~64k BYEs wait
 * out Timer J at 2,000 calls/s) have one duration per layer and are never cancelled, so they run
 * as TimerQueue FIFOs instead: no Timeout object per transaction, one setTimeout per queue.
 */

/** Every timer value is configurable (milliseconds) so tests can run the machines in a few ms. */
export interface TimerOptions {
  /** RTT estimate, RFC 3261 §17.1.1.1. Default 500 ms. */
  t1: number;
  /** Maximum retransmission interval for non-INVITE requests and INVITE responses. Default 4 s. */
  t2: number;
  /** Maximum time a message remains in the network. Default 5 s. */
  t4: number;
  /**
   * Proxy INVITE timer C (RFC 3261 §16.6 step 11, §16.8): how long a branch that sent a
   * provisional may go without a final response. Default 3 min. Kamailio's `fr_inv_timer` role.
   */
  timerC: number;
  /** Alias of `timerC` under Kamailio's name (tm `fr_inv_timer`); `timerC` wins when both are set. */
  frInvTimer: number;
  /** Non-INVITE final response timeout (Timer F), Kamailio's `fr_timer`. Default 64*T1. */
  frTimer: number;
  /** INVITE client Completed-state wait (Timer D) on unreliable transports. Default 32 s (RFC minimum). */
  timerD: number;
  /**
   * Leak guard for server transactions the TU never answers (Kamailio `max_inv_lifetime` /
   * `max_noninv_lifetime`); restarted by each provisional the TU sends. Defaults:
   * timerC + 128*T1 for INVITE, frTimer + 64*T1 for non-INVITE — long after the TU's own
   * branches have timed out and it had every chance to answer.
   */
  maxInvLifetime: number;
  maxNoninvLifetime: number;
  /** Delay of the automatic 100 Trying in 'delayed' mode (RFC 3261 §17.2.1: 200 ms). */
  tryingDelay: number;
  /**
   * Kamailio tm `wt_timer`: a cap on how long an INVITE transaction lingers after its final
   * response (Timers D, L, M), only absorbing retransmissions. Default: no cap (the RFC's 32 s).
   * A proxy may set it lower, as Kamailio does (5 s): late 2xx retransmissions are then relayed
   * statelessly by their Via, and memory follows calls per second × the cap instead of × 32 s.
   * Timer J is not capped: a non-INVITE client retransmits for 64·T1 until it hears a final, and
   * a BYE whose 200 was lost must still get it from the transaction, not from a UAS that forgot.
   */
  waitTimer: number;
}

/** Resolved values, named after the RFC's timers. */
export interface Timers {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** INVITE request retransmit, initial value (doubles, uncapped: §17.1.1.2). */
  readonly A: number;
  /** INVITE transaction timeout, 64*T1. */
  readonly B: number;
  /** Proxy INVITE transaction timeout after a provisional. */
  readonly C: number;
  /** Wait time for response retransmits (INVITE client, unreliable). */
  readonly D: number;
  /** Non-INVITE request retransmit, initial value (doubles, capped at T2: §17.1.2.2). */
  readonly E: number;
  /** Non-INVITE transaction timeout. */
  readonly F: number;
  /** INVITE final response retransmit, initial value (doubles, capped at T2: §17.2.1). */
  readonly G: number;
  /** Wait time for ACK receipt, 64*T1. */
  readonly H: number;
  /** Wait time for ACK retransmits (unreliable), T4. */
  readonly I: number;
  /** Wait time for non-INVITE request retransmits (unreliable), 64*T1. */
  readonly J: number;
  /** Wait time for response retransmits (non-INVITE client, unreliable), T4. */
  readonly K: number;
  /** RFC 6026 §7.1: wait time for INVITE retransmits after a 2xx (server Accepted), 64*T1. */
  readonly L: number;
  /** RFC 6026 §7.2: wait time for 2xx retransmits (client Accepted), 64*T1. */
  readonly M: number;
  /** RFC 3261 §9.1: an INVITE client tx with no final 64*T1 after its CANCEL is destroyed. */
  readonly cancelWait: number;
  readonly maxInvLifetime: number;
  readonly maxNoninvLifetime: number;
  readonly tryingDelay: number;
}

export const DEFAULT_T1 = 500;
export const DEFAULT_T2 = 4000;
export const DEFAULT_T4 = 5000;
/** RFC 3261 §16.6 step 11: Timer C MUST be larger than 3 minutes; the customary value. */
export const DEFAULT_TIMER_C = 180_000;
export const DEFAULT_TIMER_D = 32_000;

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < 0)
    throw new RangeError(`transaction timer ${name} must be a number of ms >= 0, got ${v}`);
  return v;
}

export function resolveTimers(o: Partial<TimerOptions> = {}): Timers {
  const t1 = positive('t1', o.t1, DEFAULT_T1);
  const t2 = positive('t2', o.t2, DEFAULT_T2);
  const t4 = positive('t4', o.t4, DEFAULT_T4);
  const t64 = 64 * t1;
  const C = positive('timerC', o.timerC ?? o.frInvTimer, DEFAULT_TIMER_C);
  const F = positive('frTimer', o.frTimer, t64);
  const wait = positive('waitTimer', o.waitTimer, Number.POSITIVE_INFINITY);
  return {
    t1,
    t2,
    t4,
    A: t1,
    B: t64,
    C,
    D: Math.min(positive('timerD', o.timerD, DEFAULT_TIMER_D), wait),
    E: t1,
    F,
    G: t1,
    H: t64,
    I: t4,
    J: t64,
    K: t4,
    L: Math.min(t64, wait),
    M: Math.min(t64, wait),
    cancelWait: t64,
    maxInvLifetime: positive('maxInvLifetime', o.maxInvLifetime, C + 2 * t64),
    maxNoninvLifetime: positive('maxNoninvLifetime', o.maxNoninvLifetime, F + t64),
    tryingDelay: positive('tryingDelay', o.tryingDelay, 200),
  };
}

export type TimerHandle = ReturnType<typeof setTimeout>;

/** Where a throwing timer callback is reported (set by the layer; never rethrown). */
export type ErrorSink = (err: unknown, where: string) => void;

function fire<T>(callback: (target: T) => void, target: T, sink: ErrorSink): void {
  try {
    callback(target);
  } catch (err) {
    // A timer callback must never throw into the event loop: one bad transaction (or a TU bug
    // reached from it) would take every other call down with the process.
    try {
      sink(err, 'timer');
    } catch {
      // The sink itself failed: nothing more can be done safely.
    }
  }
}

/**
 * Arm a one-shot timer. `callback` should be a module-level function (not a fresh closure) so
 * arming allocates only the Timeout object itself.
 */
export function arm<T>(callback: (target: T) => void, ms: number, target: T, sink: ErrorSink): TimerHandle {
  const h = setTimeout(fire<T>, ms, callback, target, sink);
  h.unref();
  return h;
}

/** An item of a TimerQueue: the queue links items through these two fields (no wrapper object). */
export interface QueueItem {
  qnext: QueueItem | undefined;
  /** performance.now() at which the item is due. */
  qdue: number;
}

/**
 * All timers of one duration, in a FIFO: items are due in insertion order, so one setTimeout for
 * the head serves the whole queue and pushing is O(1) with no allocation (the item is its own
 * list node). Used for the timers that end a transaction (J, I, K, D for retained records, L, M
 * for Accepted INVITEs): fixed per layer, tens of thousands pending at once under load, never
 * cancelled — an item that ended early is skipped by its callback when it comes due.
 */
export class TimerQueue<T extends QueueItem> {
  readonly ms: number;
  private head: QueueItem | undefined = undefined;
  private tail: QueueItem | undefined = undefined;
  private handle: TimerHandle | undefined = undefined;
  private readonly callback: (item: T) => void;
  private readonly sink: ErrorSink;

  constructor(ms: number, callback: (item: T) => void, sink: ErrorSink) {
    this.ms = ms;
    this.callback = callback;
    this.sink = sink;
  }

  push(item: T): void {
    item.qdue = performance.now() + this.ms;
    item.qnext = undefined;
    if (this.tail === undefined) this.head = item;
    else this.tail.qnext = item;
    this.tail = item;
    if (this.handle === undefined) this.armFor(this.ms);
  }

  /** The head's setTimeout fired: it is due, and so is every item due within a millisecond of it. */
  run(): void {
    this.handle = undefined;
    let item = this.head;
    if (item === undefined) return;
    const limit = Math.max(item.qdue, performance.now()) + 1;
    while (item !== undefined && item.qdue <= limit) {
      const next: QueueItem | undefined = item.qnext;
      item.qnext = undefined;
      this.head = next;
      if (next === undefined) this.tail = undefined;
      fire(this.callback, item as T, this.sink);
      item = this.head;
    }
    if (this.head !== undefined && this.handle === undefined) this.armFor(this.head.qdue - limit + 1);
  }

  /** Drop every item without calling back (layer shutdown). */
  clear(): void {
    this.head = undefined;
    this.tail = undefined;
    if (this.handle !== undefined) {
      clearTimeout(this.handle);
      this.handle = undefined;
    }
  }

  private armFor(ms: number): void {
    const h = setTimeout(runQueue<T>, Math.max(1, Math.ceil(ms)), this);
    h.unref();
    this.handle = h;
  }
}

function runQueue<T extends QueueItem>(q: TimerQueue<T>): void {
  q.run();
}

/** Next retransmission interval: doubled, capped at `cap` (pass Infinity for Timer A). */
export function backoff(interval: number, cap: number): number {
  return Math.min(interval * 2, cap);
}
