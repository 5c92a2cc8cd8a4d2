/**
 * `junction <command>`: argument parsing and the short commands. `start` lives in start.ts.
 *
 * Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error (a bad config, a bad
 * script, a bad command line) — so scripts and systemd can tell "fix your input" from "it broke".
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { formatConfigError, loadConfig } from '../config/load.ts';
import type { ConfigError } from '../config/spec.ts';
import { suggest } from '../config/suggest.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Where command output goes; tests substitute their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export const USAGE = `Usage: junction <command> [options]

Commands:
  start [-c FILE]                  run the server (embedded defaults without -c)
  check-config [-c FILE] [--print] validate a config file; --print writes the result as JSON
  check-script FILE                compile a routing script and check its KSR calls
  mi CMD [ARGS | name=value ...]   run a management command over HTTP (--url URL, --token T or -c FILE;
                                   --fifo PATH for the FIFO); prints the result as JSON
  fifo CMD [LINES ...]             run a command over the FIFO's SER text protocol (--fifo PATH or -c FILE)
  subscriber add|rm|list [-c FILE] manage digest subscribers (add USER@DOMAIN PASSWORD; rm USER@DOMAIN)
  cdr [--since T] [-c FILE]        call records from the database (--until, --callid, --table, --limit, --json)
  version                          print the version
  help                             print this text

Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error.
`;

const SEE_HELP = "Run 'junction help' for usage.\n";

const COMMANDS = [
  'start',
  'check-config',
  'check-script',
  'mi',
  'fifo',
  'subscriber',
  'cdr',
  'version',
  'help',
];

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * Modules declare their config parameters when imported; the config must be read after that, so
 * `modules.<name>` validates against every module. The index may not exist in a partial tree.
 */
export async function importModules(): Promise<void> {
  const index = new URL('../modules/index.ts', import.meta.url);
  if (existsSync(fileURLToPath(index))) await import(index.href);
}

/** Config errors, one per line, with the file named as the operator named it (relative to the cwd). */
export function printConfigErrors(errors: readonly ConfigError[], io: Io): void {
  const shown = errors.map((e) => {
    if (e.file === undefined) return formatConfigError(e);
    const rel = relative(process.cwd(), e.file);
    return formatConfigError({ ...e, file: rel.startsWith('..') || isAbsolute(rel) ? e.file : rel });
  });
  io.err(`${shown.join('\n')}\n`);
}

class UsageError extends Error {}

/** parseArgs with the error turned into a usage error (exit 2). */
function args(
  argv: readonly string[],
  options: ParseArgsOptionsConfig,
  positionals: [min: number, max: number, name?: string],
): { values: Record<string, unknown>; positionals: string[] } {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    // Node's message goes on about positionals after '--'; the first sentence says it all.
    throw new UsageError((e as Error).message.replace(/\. .*$/s, ''));
  }
  const [min, max, name] = positionals;
  if (parsed.positionals.length < min) throw new UsageError(`missing ${name ?? 'argument'}`);
  if (parsed.positionals.length > max)
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`);
  return parsed;
}

const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const;

async function checkConfig(argv: readonly string[], io: Io): Promise<number> {
  const { values } = args(argv, { ...CONFIG_OPTION, print: { type: 'boolean' } }, [0, 0]);
  await importModules();
  const path = values.config as string | undefined;
  const result = loadConfig(path);
  if (!result.ok) {
    printConfigErrors(result.errors, io);
    io.err(
      `${result.errors.length} error${result.errors.length === 1 ? '' : 's'} in ${path ?? 'the embedded defaults'}\n`,
    );
    return EXIT_USAGE;
  }
  if (values.print === true) io.out(`${JSON.stringify(result.config, null, 2)}\n`);
  else io.out(`config OK: ${result.config.source ?? 'embedded defaults'}\n`);
  return EXIT_OK;
}

async function checkScriptCommand(argv: readonly string[], io: Io): Promise<number> {
  const { positionals } = args(argv, {}, [1, 1, 'FILE']);
  const file = positionals[0]!;
  const { checkScript, formatCheckErrors } = await import('../script/check.ts');
  const result = await checkScript(file);
  if (result.ok) {
    io.out(`script OK: ${file}\n`);
    return EXIT_OK;
  }
  io.err(`${formatCheckErrors(result.errors)}\n`);
  return EXIT_USAGE;
}

/** Runs a command; `start` does not return until the server stopped. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.err(USAGE);
        return EXIT_USAGE;
      case 'help':
      case '-h':
      case '--help':
        io.out(USAGE);
        return EXIT_OK;
      case 'version':
      case '-v':
      case '--version':
        io.out(`junction ${version()} (node ${process.version})\n`);
        return EXIT_OK;
      case 'start': {
        const { values } = args(rest, CONFIG_OPTION, [0, 0]);
        const { start } = await import('./start.ts');
        return await start(values.config as string | undefined, io);
      }
      case 'check-config':
        return await checkConfig(rest, io);
      case 'check-script':
        return await checkScriptCommand(rest, io);
      case 'mi':
      case 'fifo': {
        const { miCli } = await import('./mi.ts');
        return await miCli(command, rest, io);
      }
      case 'subscriber': {
        const { subscriberCli } = await import('./subscriber.ts');
        return await subscriberCli(rest, io);
      }
      case 'cdr': {
        const { cdrCli } = await import('./cdr.ts');
        return await cdrCli(rest, io);
      }
      default: {
        const near = suggest(command, COMMANDS);
        io.err(
          `junction: unknown command ${JSON.stringify(command)}${near === undefined ? '' : ` (did you mean '${near}'?)`}\n${SEE_HELP}`,
        );
        return EXIT_USAGE;
      }
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`junction ${command}: ${e.message}\n${SEE_HELP}`);
      return EXIT_USAGE;
    }
    io.err(`junction ${command}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_FAILURE;
  }
}
