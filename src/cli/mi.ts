/**
 * `junction mi CMD [ARGS | name=value ...]` (JSON-RPC over HTTP, or over the FIFO with --fifo)
 * and `junction fifo CMD [LINES ...]` (the SER text protocol, what `serctl fifo` did).
 *
 * The server is found from `--url` / `--fifo`, else from `-c FILE`'s `mi:` section, else the
 * defaults http://127.0.0.1:8888/mi and /tmp/junction_fifo. `mi` prints the result as pretty
 * JSON; both exit 0 on success, 1 when the command failed (or the server could not be reached),
 * 2 on a usage error.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { fifoText, miOverFifo, miOverHttp } from '../mi/client.ts';
import type { MiResponse } from '../mi/registry.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type Io, importModules, printConfigErrors } from './main.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8888/mi';
export const DEFAULT_FIFO = '/tmp/junction_fifo';

/** `a b` → positional ['a','b']; `k=v l=w` → named {k:'v', l:'w'}; a mix is refused. */
export function miParams(args: readonly string[]): string[] | Record<string, string> | undefined {
  if (args.length === 0) return undefined;
  const named = args.map((a) => /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(a));
  if (named.every((m) => m !== null)) {
    const out: Record<string, string> = {};
    for (const m of named) out[m![1]!] = m![2]!;
    return out;
  }
  if (named.some((m) => m !== null) && named.some((m) => m === null)) {
    throw new Error(
      'mix of positional and name=value arguments; use one form (or -- before positional ones)',
    );
  }
  return [...args];
}

interface Target {
  url: string;
  fifo: string;
  replyDir: string;
  token: string | undefined;
  /** The config has no HTTP interface but a FIFO. */
  fifoOnly: boolean;
}

async function target(values: Record<string, unknown>, io: Io): Promise<Target | number> {
  const t: Target = {
    url: DEFAULT_URL,
    fifo: DEFAULT_FIFO,
    replyDir: '/tmp',
    token: process.env.JUNCTION_MI_TOKEN,
    fifoOnly: false,
  };
  if (typeof values.config === 'string') {
    await importModules();
    const r = loadConfig(values.config, { checkFiles: false });
    if (!r.ok) {
      printConfigErrors(r.errors, io);
      return EXIT_USAGE;
    }
    const mi = r.config.mi;
    if (mi.http !== null) {
      const host = mi.http.host === '0.0.0.0' ? '127.0.0.1' : mi.http.host === '::' ? '::1' : mi.http.host;
      t.url = `http://${host.includes(':') ? `[${host}]` : host}:${mi.http.port}/mi`;
    }
    if (mi.fifo !== null) t.fifo = mi.fifo;
    t.replyDir = mi.fifo_reply_dir;
    if (mi.token !== undefined) t.token = mi.token;
    t.fifoOnly = mi.http === null && mi.fifo !== null;
  }
  if (typeof values.url === 'string') t.url = values.url;
  if (typeof values.fifo === 'string') t.fifo = values.fifo;
  if (typeof values.token === 'string') t.token = values.token;
  return t;
}

export async function miCli(command: 'mi' | 'fifo', argv: readonly string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        url: { type: 'string' },
        fifo: { type: 'string' },
        token: { type: 'string' },
        timeout: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.err(
      `junction ${command}: ${(e as Error).message.replace(/\. .*$/s, '')}\nRun 'junction help' for usage.\n`,
    );
    return EXIT_USAGE;
  }
  const [cmd, ...rest] = parsed.positionals;
  if (cmd === undefined) {
    io.err(`junction ${command}: missing CMD\nRun 'junction help' for usage.\n`);
    return EXIT_USAGE;
  }
  const t = await target(parsed.values, io);
  if (typeof t === 'number') return t;
  const timeoutMs = parsed.values.timeout === undefined ? 130_000 : Number(parsed.values.timeout) * 1000;

  if (command === 'fifo') {
    try {
      const text = await fifoText(t.fifo, cmd, rest, { replyDir: t.replyDir, timeoutMs });
      io.out(text.endsWith('\n') || text === '' ? text : `${text}\n`);
      const code = Number(text.slice(0, 3));
      return code >= 200 && code < 300 ? EXIT_OK : EXIT_FAILURE;
    } catch (e) {
      io.err(`junction fifo: ${(e as Error).message}\n`);
      return EXIT_FAILURE;
    }
  }

  let params: unknown;
  try {
    params = miParams(rest);
  } catch (e) {
    io.err(`junction mi: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  let res: MiResponse;
  try {
    const viaFifo =
      typeof parsed.values.fifo === 'string' || (t.fifoOnly && typeof parsed.values.url !== 'string');
    res = viaFifo
      ? await miOverFifo(t.fifo, cmd, params, { replyDir: t.replyDir, timeoutMs })
      : await miOverHttp(t.url, cmd, params, {
          ...(t.token === undefined ? {} : { token: t.token }),
          timeoutMs,
        });
  } catch (e) {
    io.err(`junction mi: ${(e as Error).message}\n`);
    return EXIT_FAILURE;
  }
  if (res.error !== undefined) {
    io.err(`error ${res.error.code}: ${res.error.message}\n`);
    return EXIT_FAILURE;
  }
  io.out(`${JSON.stringify(res.result, null, 2)}\n`);
  return EXIT_OK;
}
