/**
 * A call record (accounting / CDR): one per call attempt and per completed call. Written when a
 * tracked dialog ends (table `acc`), and on demand by KSR.acc.acc_db_request (e.g. `missed_calls`
 * from a failure route, as in the seed's missed-calls service).
 *
 * Connection point, termination point and hook outcome come from the dialog variables `cp_id`,
 * `tp_id` and `hook` ($dlg_var(cp_id) …), set by whoever routes the call.
 */
import type { Dialog } from '../dialog/dialog.ts';

export interface CallRecord {
  /** Assigned by the store (increasing); 0 before it is stored. */
  id: number;
  /** `acc` for dialog records; the table named by acc_db_request otherwise. */
  table: string;
  callid: string;
  from_uri: string;
  from_tag: string;
  to_uri: string;
  to_tag: string;
  /** Request-URI as the INVITE arrived. */
  ruri: string;
  /** `udp:IP:PORT` the INVITE came from. */
  source: string;
  cp_id: string | null;
  tp_id: string | null;
  hook: string | null;
  /** Epoch ms; answer_ts null when never answered. */
  start_ts: number;
  answer_ts: number | null;
  end_ts: number;
  /** Seconds from answer to end (0 when not answered). */
  duration: number;
  /** Final status (200 answered; 486, 487 cancelled, 408 timed out …) and its reason phrase. */
  status: number;
  reason: string;
  /** caller | callee | timeout | mi | script | server | none (not answered). */
  hangup: string;
  /** Free text (acc_db_request's comment); '' for dialog records. */
  comment: string;
}

/** The record of a tracked dialog that ended. */
export function recordOfDialog(d: Dialog): CallRecord {
  return {
    id: 0,
    table: 'acc',
    callid: d.callId,
    from_uri: d.fromUri,
    from_tag: d.fromTag,
    to_uri: d.toUri,
    to_tag: d.toTag ?? '',
    ruri: d.requestUri,
    source: d.source,
    cp_id: d.vars.get('cp_id') ?? null,
    tp_id: d.vars.get('tp_id') ?? null,
    hook: d.vars.get('hook') ?? null,
    start_ts: d.startTs,
    answer_ts: d.answerTs ?? null,
    end_ts: d.endTs ?? Date.now(),
    duration: d.durationS(),
    status: d.status,
    reason: d.reason,
    hangup: d.endedBy ?? 'none',
    comment: '',
  };
}

/** What `cdr_list` and `junction cdr` select on. */
export interface CdrQuery {
  /** Records that started at or after this (epoch ms). */
  readonly since?: number;
  readonly until?: number;
  readonly callid?: string;
  readonly table?: string;
  /** Most records (the newest first); default 100. */
  readonly limit?: number;
}

/** "2026-11-23T10:00:00Z", "1763892000" (epoch s), "15m" / "2h" / "3d" ago. */
export function parseSince(text: string, now = Date.now()): number | undefined {
  const t = text.trim();
  const rel = /^(\d+)\s*([smhd])$/.exec(t);
  if (rel !== null) {
    const unit = { s: 1000, m: 60000, h: 3600000, d: 86400000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return now - Number(rel[1]) * unit;
  }
  if (/^\d{9,13}$/.test(t)) return t.length <= 10 ? Number(t) * 1000 : Number(t);
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A record for people: ISO times. */
export function recordView(r: CallRecord): Record<string, unknown> {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return { ...r, start_ts: iso(r.start_ts), answer_ts: iso(r.answer_ts), end_ts: iso(r.end_ts) };
}
