/**
 * The management interface of a running server: one registry holding the core's commands, every
 * module's (ModuleDefinition.commands), t_uac_dlg; the statistics over the server's counters; and
 * the transports the config's `mi:` section asks for (HTTP + /metrics, FIFO, unix socket).
 */
import type { Config } from '../config/types.ts';
import { toThreshold } from '../log/levels.ts';
import type { Logger } from '../log/logger.ts';
import { bindMiRegistry } from '../modules/mi/index.ts';
import type { ModuleDefinition } from '../script/module.ts';
import type { TlsSettings } from '../transport/options.ts';
import { coreCommands } from './core_commands.ts';
import { type FifoServer, startFifoServer } from './fifo.ts';
import { type MiHttpServer, startHttpServer } from './http.ts';
import { MiRegistry } from './registry.ts';
import { type MiSocketServer, startSocketServer } from './socket.ts';
import { moduleStatistics, Statistics } from './statistics.ts';
import { tlsReloadCommand } from './tls_command.ts';
import { type UacPort, uacCommand } from './uac.ts';

export { type MiCallContext, type MiCommand, MiError, type MiParam } from './command.ts';
export { MiRegistry } from './registry.ts';
export { defineModuleStatistic, Statistics } from './statistics.ts';

/** What the management interface reads from the server (src/server.ts's Server fits). */
export interface ManagedServer {
  readonly transport: UacPort['transport'] & { stats(): object; reloadTls?(settings: TlsSettings): void };
  readonly transactions: UacPort['transactions'] & { readonly stats: object; size(): number };
  readonly core: { readonly stats: object; readonly resolver: UacPort['resolver'] };
  readonly engine: {
    stats(): object;
    reload(): Promise<
      | { ok: true; generation: number }
      | { ok: false; errors: ReadonlyArray<{ file: string; line: number; message: string }> }
    >;
  };
}

export interface Management {
  readonly registry: MiRegistry;
  readonly statistics: Statistics;
  readonly http: MiHttpServer | undefined;
  readonly fifo: FifoServer | undefined;
  readonly socket: MiSocketServer | undefined;
  stop(): Promise<void>;
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function numericFields(o: object): string[] {
  return Object.entries(o)
    .filter(([, v]) => typeof v === 'number')
    .map(([k]) => k);
}

/** The server's counters as statistics groups core:, tm:, net:, script:, mi:. */
export function serverStatistics(server: ManagedServer, registry: MiRegistry, startedAt: Date): Statistics {
  const s = new Statistics();
  const core = server.core.stats as Record<string, number>;
  s.define({
    group: 'core',
    name: 'rcv_requests',
    kind: 'counter',
    help: 'SIP requests received.',
    read: () => core.requests ?? 0,
  });
  s.define({
    group: 'core',
    name: 'rcv_replies',
    kind: 'counter',
    help: 'SIP replies received.',
    read: () => core.replies ?? 0,
  });
  for (const f of numericFields(core)) {
    if (f === 'requests' || f === 'replies') continue;
    s.define({ group: 'core', name: snake(f), kind: 'counter', read: () => core[f] ?? 0 });
  }
  s.define({
    group: 'core',
    name: 'uptime',
    kind: 'gauge',
    help: 'Seconds since the start.',
    read: () => Math.floor((Date.now() - startedAt.getTime()) / 1000),
  });
  const tm = server.transactions.stats as Record<string, number>;
  for (const f of numericFields(tm)) {
    s.define({
      group: 'tm',
      name: snake(f),
      kind: f === 'serverTx' || f === 'clientTx' ? 'gauge' : 'counter',
      read: () => tm[f] ?? 0,
    });
  }
  s.define({
    group: 'tm',
    name: 'inuse_transactions',
    kind: 'gauge',
    read: () => server.transactions.size(),
  });
  const net = server.transport.stats() as Record<string, Record<string, number>>;
  for (const [group, counters] of Object.entries(net)) {
    for (const f of numericFields(counters)) {
      const prefix = group === 'connections' ? 'conn' : group;
      s.define({
        group: 'net',
        name: `${prefix}_${snake(f)}`,
        kind: group === 'connections' && f === 'open' ? 'gauge' : 'counter',
        read: () => (server.transport.stats() as Record<string, Record<string, number>>)[group]?.[f] ?? 0,
      });
    }
  }
  const engineFields = numericFields(server.engine.stats());
  for (const f of engineFields) {
    s.define({
      group: 'script',
      name: snake(f),
      kind: f === 'generation' ? 'gauge' : 'counter',
      read: () => (server.engine.stats() as Record<string, number>)[f] ?? 0,
    });
  }
  s.defineObject('mi', ['requests', 'errors', 'internalErrors'], () => registry.stats);
  for (const d of moduleStatistics()) s.define(d);
  return s;
}

export interface ManagementOptions {
  readonly server: ManagedServer;
  readonly modules: readonly ModuleDefinition[];
  readonly log: Logger;
  readonly version: string;
  readonly config?: Pick<Config, 'connection_points' | 'termination_points'> & {
    readonly tls?: Config['tls'];
  };
  readonly startedAt?: Date;
}

/** Registry + statistics, no transports (tests, and the part of startManagement that cannot fail). */
export function createManagement(opts: ManagementOptions): { registry: MiRegistry; statistics: Statistics } {
  const log = opts.log.child({ module: 'mi' });
  const registry = new MiRegistry({
    onInternalError: (err, command) => log.error({ err, command }, 'MI command failed unexpectedly'),
  });
  const startedAt = opts.startedAt ?? new Date();
  const statistics = serverStatistics(opts.server, registry, startedAt);
  const { server } = opts;
  const commands = coreCommands({
    registry,
    statistics,
    startedAt,
    version: opts.version,
    getLogLevel: () => opts.log.level,
    setLogLevel: (level) => {
      const t = toThreshold(level);
      if (t === undefined) return undefined;
      opts.log.level = t;
      return t;
    },
    reloadRoutes: async () => {
      const r = await server.engine.reload();
      if (r.ok) {
        log.info({ generation: r.generation }, 'routing script reloaded (MI)');
        return r;
      }
      return { ok: false, errors: r.errors.map((e) => `${e.file}:${e.line}: ${e.message}`) };
    },
  });
  for (const c of commands) registry.register(c, 'core');
  registry.register(
    uacCommand({
      transport: server.transport,
      transactions: server.transactions,
      resolver: server.core.resolver,
    }),
    'tm',
  );
  if (server.transport.reloadTls !== undefined)
    registry.register(
      tlsReloadCommand({ reloadTls: server.transport.reloadTls.bind(server.transport) }, opts.config?.tls),
      'core',
    );
  registry.registerModules(opts.modules);
  bindMiRegistry(registry, log);
  return { registry, statistics };
}

export interface MiTransportConfig {
  readonly http: { readonly host: string; readonly port: number } | null;
  readonly fifo: string | null;
  readonly socket?: string | null;
  readonly token?: string | null;
  readonly fifo_reply_dir?: string;
}

/** Start the transports the config asks for; a transport that fails to start stops the others and throws. */
export async function startManagement(opts: ManagementOptions, mi: MiTransportConfig): Promise<Management> {
  const { registry, statistics } = createManagement(opts);
  const log = opts.log.child({ module: 'mi' });
  let http: MiHttpServer | undefined;
  let fifo: FifoServer | undefined;
  let socket: MiSocketServer | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([http?.close(), fifo?.close(), socket?.close()]);
    bindMiRegistry(undefined, undefined);
  };
  try {
    if (mi.http !== null) {
      http = await startHttpServer({
        host: mi.http.host,
        port: mi.http.port,
        registry,
        metrics: () => statistics.prometheus(),
        ...(mi.token === undefined || mi.token === null ? {} : { token: mi.token }),
        log,
      });
      log.info({ http: `${http.address}:${http.port}` }, 'MI HTTP listening (POST /mi, GET /metrics)');
    }
    if (mi.fifo !== null) {
      fifo = await startFifoServer({
        path: mi.fifo,
        registry,
        ...(mi.fifo_reply_dir === undefined ? {} : { replyDir: mi.fifo_reply_dir }),
        log,
      });
      log.info({ fifo: fifo.path }, 'MI FIFO listening');
    }
    if (mi.socket !== undefined && mi.socket !== null) {
      socket = await startSocketServer({ path: mi.socket, registry, log });
      log.info({ socket: socket.path }, 'MI socket listening');
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { registry, statistics, http, fifo, socket, stop };
}
