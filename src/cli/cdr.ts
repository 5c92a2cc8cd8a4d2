/**
 * `junction cdr [--since T] [--until T] [--callid ID] [--table acc|missed_calls] [--limit N] [--json]`:
 * call records from the SQLite database of `storage:` (-c FILE, or the embedded default), newest
 * first. Works while the server runs (SQLite WAL). With memory or redis storage the records live in
 * the server: `junction mi cdr_list since=1h`.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { type CdrQuery, parseSince, recordView } from '../modules/acc/record.ts';
import { queryDatabase } from '../modules/acc/store.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type Io, importModules, printConfigErrors } from './main.ts';

export const CDR_USAGE = `Usage: junction cdr [--since T] [--until T] [--callid ID] [--table NAME] [--limit N] [--json] [-c FILE]
  T: ISO time (2026-11-23T10:00:00Z), epoch seconds, or an age: 15m, 2h, 1d
  --table: acc (calls, the default view shows every table) or missed_calls
`;

export async function cdrCli(argv: readonly string[], io: Io): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        since: { type: 'string' },
        until: { type: 'string' },
        callid: { type: 'string' },
        table: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (e) {
    io.err(`junction cdr: ${(e as Error).message.replace(/\. .*$/s, '')}\n${CDR_USAGE}`);
    return EXIT_USAGE;
  }
  const usage = (why: string): number => {
    io.err(`junction cdr: ${why}\n${CDR_USAGE}`);
    return EXIT_USAGE;
  };
  const q: { -readonly [K in keyof CdrQuery]: CdrQuery[K] } = { limit: 100 };
  for (const key of ['since', 'until'] as const) {
    const v = values[key];
    if (typeof v !== 'string') continue;
    const t = parseSince(v);
    if (t === undefined) return usage(`bad --${key} ${JSON.stringify(v)}`);
    q[key] = t;
  }
  if (typeof values.callid === 'string') q.callid = values.callid;
  if (typeof values.table === 'string') q.table = values.table;
  if (typeof values.limit === 'string') {
    const n = Number(values.limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000000) return usage('--limit must be 1..1000000');
    q.limit = n;
  }
  await importModules();
  const cfg = loadConfig(typeof values.config === 'string' ? values.config : undefined);
  if (!cfg.ok) {
    printConfigErrors(cfg.errors, io);
    return EXIT_USAGE;
  }
  const storage = cfg.config.storage;
  if (storage.kind !== 'sqlite') {
    io.err(
      `junction cdr: storage is ${storage.kind}: the records are in the running server (junction mi cdr_list since=1h)\n`,
    );
    return EXIT_FAILURE;
  }
  if (!existsSync(storage.path)) {
    io.err(`junction cdr: no database at ${storage.path}\n`);
    return EXIT_FAILURE;
  }
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(storage.path, { readOnly: true });
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'acc'").get();
    const records = hasTable === undefined ? [] : queryDatabase(db, q);
    if (values.json === true) {
      for (const r of records) io.out(`${JSON.stringify(recordView(r))}\n`);
      return EXIT_OK;
    }
    const rows = records.map((r) => [
      new Date(r.start_ts).toISOString(),
      r.table,
      `${r.status} ${r.reason}`,
      `${r.duration}s`,
      r.hangup,
      r.from_uri,
      r.to_uri,
      r.cp_id ?? '-',
      r.tp_id ?? '-',
      r.hook ?? '-',
      r.callid,
    ]);
    const head = [
      'start',
      'table',
      'status',
      'duration',
      'hangup',
      'from',
      'to',
      'cp',
      'tp',
      'hook',
      'callid',
    ];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string =>
      `${cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`;
    io.out(line(head));
    for (const r of rows) io.out(line(r));
    io.out(`${records.length} record${records.length === 1 ? '' : 's'}\n`);
    return EXIT_OK;
  } finally {
    db.close();
  }
}
