/**
 * KSR.acc: call records (Kamailio acc). Tracked dialogs are recorded when they end (wire.ts);
 * acc_db_request / acc_log_request write a record for the current request on demand — the seed's
 * missed-calls service calls acc_db_request("Missed call", "missed_calls") in its failure route.
 */
import { type MiCommand, MiError } from '../../mi/command.ts';
import { defineModuleStatistic } from '../../mi/statistics.ts';
import type { RouteContext } from '../../proxy/context.ts';
import { ANY_ROUTE, type ModuleDefinition } from '../../script/module.ts';
import { isParseError } from '../../sip/errors.ts';
import { dialogs } from '../dialog/service.ts';
import { def } from '../shared/define.ts';
import './params.ts';
import { type CallRecord, type CdrQuery, parseSince, recordView } from './record.ts';
import { type AccStats, accService } from './service.ts';

const TABLE_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A record of the current request: status from the failure/reply route, times from its dialog. */
export function recordOfRequest(ctx: RouteContext, comment: string, table: string): CallRecord {
  const req = ctx.request;
  const d = dialogs().forContext(ctx, false);
  const f = req.from();
  const t = req.to();
  const now = Date.now();
  const status = Math.max(ctx.replyCode, 0);
  const src = ctx.info.source;
  return {
    id: 0,
    table,
    callid: req.callId,
    from_uri: isParseError(f) ? '' : f.uriText,
    from_tag: req.fromTag ?? '',
    to_uri: isParseError(t) ? '' : t.uriText,
    to_tag: ctx.msg.toTag ?? req.toTag ?? '',
    ruri: req.originalRuri,
    source: `${src.protocol}:${src.address}:${src.port}`,
    cp_id: d?.vars.get('cp_id') ?? null,
    tp_id: d?.vars.get('tp_id') ?? null,
    hook: d?.vars.get('hook') ?? null,
    start_ts: d?.startTs ?? now,
    answer_ts: d?.answerTs ?? null,
    end_ts: now,
    duration: d?.durationS(now) ?? 0,
    status,
    reason: comment,
    hangup: 'none',
    comment,
  };
}

function accRequest(ctx: RouteContext, comment: unknown, table: unknown): number {
  const tbl = table === undefined || table === null || table === '' ? 'acc' : String(table);
  if (!TABLE_RE.test(tbl)) {
    ctx.log('err', `acc: bad table name ${JSON.stringify(tbl)}`);
    return -1;
  }
  accService().write(recordOfRequest(ctx, comment === undefined ? '' : String(comment), tbl));
  return 1;
}

const STATS: Array<[keyof AccStats, string]> = [
  ['records', 'Call records written.'],
  ['missed_calls', 'Records written to the missed_calls table.'],
  ['store_errors', 'Call records that could not be stored.'],
];
for (const [name, help] of STATS) {
  defineModuleStatistic({ group: 'acc', name, kind: 'counter', help, read: () => accService().stats[name] });
}

/** The query of cdr_list's parameters; MiError 400 on a bad one. */
export function cdrQuery(p: Readonly<Record<string, unknown>>): CdrQuery {
  const q: { -readonly [K in keyof CdrQuery]: CdrQuery[K] } = {};
  for (const key of ['since', 'until'] as const) {
    if (p[key] === undefined || p[key] === '') continue;
    const v = parseSince(String(p[key]));
    if (v === undefined)
      throw new MiError(
        400,
        `bad ${key} ${JSON.stringify(p[key])} (ISO time, epoch seconds, or 15m / 2h / 1d)`,
      );
    q[key] = v;
  }
  if (p.callid !== undefined && p.callid !== '') q.callid = String(p.callid);
  if (p.table !== undefined && p.table !== '') q.table = String(p.table);
  if (p.limit !== undefined) {
    const n = Number(p.limit);
    if (!Number.isInteger(n) || n < 1 || n > 100000) throw new MiError(400, 'limit must be 1..100000');
    q.limit = n;
  }
  return q;
}

export const cdrList: MiCommand = {
  name: 'cdr_list',
  aliases: ['acc.cdr_list'],
  help: 'Call records, newest first: since / until (ISO, epoch s, or 15m / 2h / 1d ago), callid, table (acc, missed_calls), limit (100).',
  recipes: [
    [
      { name: 'since', type: 'string', optional: true },
      { name: 'limit', type: 'int', optional: true },
      { name: 'callid', type: 'string', optional: true },
      { name: 'table', type: 'string', optional: true },
      { name: 'until', type: 'string', optional: true },
    ],
  ],
  async handler(p) {
    const records = await accService().store.query(cdrQuery(p));
    return { Records: records.map(recordView) };
  },
};

const COMMENT_TABLE = '(comment: string, table?: string) => number';

const acc = {
  name: 'acc',
  summary: 'Call records (CDRs): every tracked dialog, and acc_db_request (missed calls)',
  functions: {
    acc_db_request: def(
      COMMENT_TABLE,
      accRequest,
      ANY_ROUTE,
      'Write a call record for this request to the table (default acc), e.g. ("Missed call", "missed_calls") in a failure route.',
    ),
    acc_log_request: def(
      '(comment: string) => number',
      (ctx: RouteContext, comment: string): number => accRequest(ctx, comment, 'acc'),
      ANY_ROUTE,
      'Write a call record for this request (table acc).',
    ),
  },
  commands: [cdrList],
} satisfies ModuleDefinition;

export default acc;
