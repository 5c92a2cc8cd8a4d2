/**
 * The core's management commands (names from the seeds; Kamailio's dotted names as aliases):
 * uptime, version, ps, which, help, system.listMethods, log_level, get/list/reset_statistics,
 * reload_routes. t_uac_dlg lives in uac.ts; cp_list / tp_list / cp_reload in modules/cp.
 */
import { type MiCommand, MiError } from './command.ts';
import { describeRecipe } from './params.ts';
import type { MiRegistry } from './registry.ts';
import type { Statistics } from './statistics.ts';

/** What the core commands read and drive. */
export interface CoreServices {
  readonly registry: MiRegistry;
  readonly statistics: Statistics;
  readonly startedAt: Date;
  readonly version: string;
  getLogLevel(): string;
  /** Returns the level now in force, or undefined when `level` is not a level. */
  setLogLevel(level: string | number): string | undefined;
  /** Reload the routing script; errors as readable lines when refused. */
  reloadRoutes(): Promise<{ ok: true; generation: number } | { ok: false; errors: string[] }>;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** C's ctime() without the newline, as SER printed it: `Fri Dec  6 17:56:10 2002` (local time). */
export function ctime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

function specsOf(v: unknown): string[] {
  if (v === undefined) return ['all'];
  const list = Array.isArray(v) ? v.map(String) : String(v).split(/[\s,]+/);
  const out = list.filter((s) => s !== '');
  return out.length === 0 ? ['all'] : out;
}

/** The statistics param: an array, or (text protocol, CLI) one or more space-separated names. */
const STATS_RECIPES = [[{ name: 'statistics', type: 'array' as const, optional: true }]];

export function coreCommands(s: CoreServices): MiCommand[] {
  return [
    {
      name: 'uptime',
      aliases: ['core.uptime'],
      help: 'Current time, start time and seconds since the start.',
      recipes: [[]],
      handler: () => {
        const now = new Date();
        return {
          Now: ctime(now),
          'Up Since': ctime(s.startedAt),
          'Up time': `${Math.floor((now.getTime() - s.startedAt.getTime()) / 1000)} [sec]`,
        };
      },
    },
    {
      name: 'version',
      aliases: ['core.version'],
      help: 'Server name and version.',
      recipes: [[]],
      handler: () => ({ Server: `Junction ${s.version} (node ${process.version})` }),
    },
    {
      name: 'ps',
      aliases: ['core.psx', 'core.ps'],
      help: 'Processes: one Node.js process serves SIP, timers and management.',
      recipes: [[]],
      text: {
        lines: [],
        reply: (r) => ({
          code: 200,
          reason: 'OK',
          lines: (r as { Processes: Array<{ ID: number; PID: number; Type: string }> }).Processes.map(
            (p) => `${p.ID}\t${p.PID}\t${p.Type}`,
          ),
        }),
      },
      handler: () => ({
        Processes: [{ ID: 0, PID: process.pid, Type: 'main: SIP receivers, timers, management' }],
      }),
    },
    {
      name: 'which',
      help: 'Names of every command, or the parameter recipes of one.',
      recipes: [[], [{ name: 'command', type: 'string' }]],
      handler: (p) => {
        if (p.command === undefined) return s.registry.names();
        const cmd = s.registry.lookup(String(p.command));
        if (cmd === undefined) throw new MiError(404, `command '${String(p.command)}' not available`);
        return cmd.recipes.length === 0 ? [[]] : cmd.recipes.map(describeRecipe);
      },
    },
    {
      name: 'system.listMethods',
      help: 'Every command name, aliases included (Kamailio RPC).',
      recipes: [[]],
      handler: () => s.registry.allNames(),
    },
    {
      name: 'help',
      aliases: ['system.methodHelp'],
      help: 'One line of help for a command (every command without a name).',
      recipes: [[], [{ name: 'command', type: 'string' }]],
      handler: (p) => {
        if (p.command === undefined) {
          const out: Record<string, string> = {};
          for (const n of s.registry.names()) out[n] = s.registry.lookup(n)!.help;
          return out;
        }
        const name = String(p.command);
        const cmd = s.registry.lookup(name);
        if (cmd === undefined) throw new MiError(404, `command '${name}' not available`);
        return {
          Help: cmd.help,
          'Exported by': s.registry.ownerOf(name),
          Aliases: [cmd.name, ...(cmd.aliases ?? [])].filter((n) => n !== name),
          Recipes: cmd.recipes.map(describeRecipe),
        };
      },
    },
    {
      name: 'log_level',
      aliases: ['core.log_level', 'corex.debug'],
      help: 'Show the log level, or set it (trace … fatal, silent, Kamailio names and numbers).',
      recipes: [[], [{ name: 'level', type: 'string' }]],
      handler: (p) => {
        if (p.level === undefined) return { 'Log level': s.getLogLevel() };
        const raw = String(p.level).trim();
        const now = s.setLogLevel(/^-?\d+$/.test(raw) ? Number(raw) : raw);
        if (now === undefined) throw new MiError(400, `unknown log level ${JSON.stringify(raw)}`);
        return { 'New log level': now };
      },
    },
    {
      name: 'get_statistics',
      aliases: ['stats.get_statistics', 'stats.fetch'],
      help: 'Statistics values: `all`, `group:` or names (`tm:created`, `rcv_requests`).',
      recipes: STATS_RECIPES,
      handler: (p) => {
        const specs = specsOf(p.statistics);
        const out = s.statistics.get(specs);
        if (Object.keys(out).length === 0) throw new MiError(404, `statistics not found: ${specs.join(' ')}`);
        return out;
      },
    },
    {
      name: 'list_statistics',
      aliases: ['stats.list_statistics'],
      help: 'Names and kinds (counter, gauge) of statistics: `all`, `group:` or names.',
      recipes: STATS_RECIPES,
      handler: (p) => s.statistics.list(specsOf(p.statistics)),
    },
    {
      name: 'reset_statistics',
      aliases: ['stats.reset_statistics', 'stats.clear_statistics'],
      help: 'Reset counters (gauges stay): `all`, `group:` or names.',
      recipes: STATS_RECIPES,
      mutating: true,
      handler: (p) => {
        const specs = specsOf(p.statistics);
        const done = s.statistics.reset(specs);
        if (done.length === 0) throw new MiError(404, `no counters to reset in: ${specs.join(' ')}`);
        return { reset: done };
      },
    },
    {
      name: 'reload_routes',
      aliases: ['app_lua.reload', 'app_jsdt.reload', 'cfg.reload'],
      help: 'Reload the routing script; a refused script leaves the running one in place.',
      recipes: [[]],
      mutating: true,
      handler: async () => {
        const r = await s.reloadRoutes();
        if (!r.ok) throw new MiError(500, `routing script refused: ${r.errors.join('; ')}`);
        return { generation: r.generation };
      },
    },
  ];
}
