/**
 * `junction subscriber add|rm|list`: manage the subscriber table of the configured storage
 * (`storage:` of -c FILE, or the embedded default sqlite:./data/junction.db). Works while the
 * server runs (SQLite WAL; Redis). Only HA1 hashes are stored; the password is never printed.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { checkNames, subscriberFromPassword, subscriberView } from '../modules/auth_db/subscribers.ts';
import { openStorage } from '../storage/index.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type Io, importModules, printConfigErrors } from './main.ts';

export const SUBSCRIBER_USAGE = `Usage: junction subscriber add USER@DOMAIN PASSWORD [-c FILE]
       junction subscriber add USER DOMAIN PASSWORD [-c FILE]
       junction subscriber rm USER@DOMAIN | USER DOMAIN [-c FILE]
       junction subscriber list [-c FILE]
`;

function userDomain(pos: string[]): [string, string, string[]] | undefined {
  const first = pos[0];
  if (first === undefined) return undefined;
  const at = first.lastIndexOf('@');
  if (at > 0) return [first.slice(0, at), first.slice(at + 1), pos.slice(1)];
  if (pos[1] === undefined) return undefined;
  return [first, pos[1], pos.slice(2)];
}

export async function subscriberCli(argv: readonly string[], io: Io): Promise<number> {
  let parsed: { values: { config?: string }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { config: { type: 'string', short: 'c' } },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (e) {
    io.err(`junction subscriber: ${(e as Error).message.replace(/\. .*$/s, '')}\n${SUBSCRIBER_USAGE}`);
    return EXIT_USAGE;
  }
  const [action, ...pos] = parsed.positionals;
  const usage = (why: string): number => {
    io.err(`junction subscriber: ${why}\n${SUBSCRIBER_USAGE}`);
    return EXIT_USAGE;
  };
  if (action !== 'add' && action !== 'rm' && action !== 'list')
    return usage(action === undefined ? 'missing action' : `unknown action ${JSON.stringify(action)}`);
  await importModules();
  const cfg = loadConfig(parsed.values.config);
  if (!cfg.ok) {
    printConfigErrors(cfg.errors, io);
    return EXIT_USAGE;
  }
  let ud: [string, string, string[]] | undefined;
  if (action !== 'list') {
    ud = userDomain(pos);
    if (ud === undefined) return usage('missing USER@DOMAIN');
    const bad = checkNames(ud[0], ud[1]);
    if (bad !== undefined) return usage(bad);
    if (action === 'add' && (ud[2].length !== 1 || ud[2][0] === '')) return usage('missing PASSWORD');
    if (action === 'rm' && ud[2].length !== 0)
      return usage(`unexpected argument ${JSON.stringify(ud[2][0])}`);
  } else if (pos.length > 0) return usage(`unexpected argument ${JSON.stringify(pos[0])}`);
  const storage = await openStorage(cfg.config.storage);
  try {
    if (action === 'list') {
      const list = await storage.subscribers.list();
      for (const s of list) {
        const v = subscriberView(s);
        io.out(`${v.username}@${v.domain}\tsha-256: ${v.sha256}\n`);
      }
      return EXIT_OK;
    }
    const [user, domain, rest] = ud!;
    if (action === 'add') {
      await storage.subscribers.put(subscriberFromPassword(user, domain, rest[0]));
      io.out(`subscriber ${user}@${domain.toLowerCase()} saved\n`);
      return EXIT_OK;
    }
    if (!(await storage.subscribers.remove(user, domain))) {
      io.err(`junction subscriber: ${user}@${domain} not found\n`);
      return EXIT_FAILURE;
    }
    io.out(`subscriber ${user}@${domain.toLowerCase()} removed\n`);
    return EXIT_OK;
  } finally {
    await storage.close();
  }
}
