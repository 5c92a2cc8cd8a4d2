/**
 * Parameter schemas of modules whose folders do not exist yet. They live here so the embedded
 * defaults (`modules.tm`) validate from day one; when a module's folder is written
 * it should move its table there and call registerModuleSchema itself (and drop it from here:
 * registering a name twice throws).
 */
import { integer, millis } from './spec.ts';

/** Kamailio tm parameter names; RFC 3261 §17 timer names for T1/T2/T4. All milliseconds. */
export const TM_FIELDS = {
  fr_timer: millis({
    doc: 'Timer F: how long a non-INVITE branch waits for a final reply (Kamailio tm fr_timer).',
    default: 30000,
    min: 1,
  }),
  fr_inv_timer: millis({
    doc: 'Timer C: how long an INVITE branch waits for a final reply after a provisional (Kamailio tm fr_inv_timer).',
    default: 120000,
    min: 1,
  }),
  t1: millis({
    doc: 'RFC 3261 T1, the round-trip estimate that retransmission intervals start from.',
    default: 500,
    min: 1,
  }),
  t2: millis({
    doc: 'RFC 3261 T2, the cap on non-INVITE request and INVITE response retransmission intervals.',
    default: 4000,
    min: 1,
  }),
  t4: millis({
    doc: 'RFC 3261 T4, how long a message may remain in the network (completed-state waits).',
    default: 5000,
  }),
  max_transactions: integer({
    doc: 'Bound on live transactions (server + client); a new request beyond it is answered 503 statelessly. A finished transaction lingers for its wait timers (a BYE for Timer J, 32 s), so at N calls/s about 32·N + 15·N are live; each costs a few KB.',
    default: 250000,
    min: 1,
  }),
  wt_timer: millis({
    doc: 'How long an INVITE transaction lingers after its final reply absorbing retransmissions (caps Timers D, L, M; Kamailio tm wt_timer). 32000 = the RFC values.',
    default: 5000,
    min: 1,
  }),
} as const;
