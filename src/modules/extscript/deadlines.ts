/**
 * Timeouts of many pending hook calls without one timer each: the calls of one timeout value
 * form a list in deadline order (same duration, monotonic clock: appending keeps it sorted), and
 * one Node timer per list is armed for its head. Adding and removing a call is O(1) and
 * allocates nothing; the timer fires about once per timeout period instead of being created
 * and cleared per call. A settled call leaves its list at once, so nothing is retained.
 */

/** Something with a deadline: `expire` runs when it is reached (and the entry has left the list). */
export abstract class Expiring {
  deadline = 0;
  prev: Expiring | undefined = undefined;
  next: Expiring | undefined = undefined;
  list: DeadlineList | undefined = undefined;
  abstract expire(): void;
}

/** Entries expire up to this much before their deadline instead of re-arming for a fraction of a ms. */
const SLACK_MS = 0.5;

class DeadlineList {
  head: Expiring | undefined = undefined;
  tail: Expiring | undefined = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;
  /** When the armed timer fires (performance.now() clock). */
  #armedFor = 0;

  add(e: Expiring, deadline: number): void {
    e.deadline = deadline;
    e.list = this;
    e.prev = this.tail;
    e.next = undefined;
    if (this.tail === undefined) this.head = e;
    else this.tail.next = e;
    this.tail = e;
    if (this.#timer === undefined) this.#arm(deadline);
  }

  remove(e: Expiring): void {
    if (e.prev === undefined) this.head = e.next;
    else e.prev.next = e.next;
    if (e.next === undefined) this.tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = undefined;
    e.next = undefined;
    e.list = undefined;
  }

  #arm(at: number): void {
    this.#armedFor = at;
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(at - performance.now())));
    // Pending work (a socket with a request on it, a child process) keeps the loop alive; the
    // timer alone must not.
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    // A timer may fire a little early by this clock: what is left is re-armed.
    if (now + SLACK_MS < this.#armedFor && this.head !== undefined) {
      this.#arm(this.head.deadline);
      return;
    }
    let e = this.head;
    while (e !== undefined && e.deadline <= now + SLACK_MS) {
      this.remove(e);
      e.expire();
      e = this.head;
    }
    if (e !== undefined) this.#arm(e.deadline);
  };
}

export class Deadlines {
  readonly #lists = new Map<number, DeadlineList>();

  /** `e` expires `timeoutMs` after `started` (performance.now() clock) unless removed before. */
  add(e: Expiring, started: number, timeoutMs: number): void {
    let l = this.#lists.get(timeoutMs);
    if (l === undefined) {
      l = new DeadlineList();
      this.#lists.set(timeoutMs, l);
    }
    l.add(e, started + timeoutMs);
  }

  remove(e: Expiring): void {
    e.list?.remove(e);
  }
}
