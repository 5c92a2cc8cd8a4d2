/**
 * The running server: transports → transactions → proxy core → routing script, wired from the
 * validated config. `startServer` resolves once every listener is bound and the script loaded.
 */
import { readFileSync } from 'node:fs';
import type { Config } from './config/types.ts';
import type { Logger } from './log/logger.ts';
import { type Management, startManagement } from './mi/index.ts';
import { startCallRouting } from './modules/cp/reload.ts';
import { type CallServices, startCallServices } from './modules/dialog/wire.ts';
import { closeExec, configureExec } from './modules/exec/exec.ts';
import type { ExecParams } from './modules/exec/params.ts';
import { MODULES } from './modules/index.ts';
import { startNathelper } from './modules/nathelper/wire.ts';
import { startRegistration } from './modules/usrloc/wire.ts';
import { buildErrorResponse } from './proxy/bad_request.ts';
import { ProxyCore, type ScriptPort } from './proxy/core.ts';
import { LocalAddresses } from './proxy/myself.ts';
import { dnsQueries } from './proxy/rfc3263.ts';
import { Resolver } from './proxy/target.ts';
import { ScriptEngine } from './script/engine.ts';
import { KsrRegistry } from './script/registry.ts';
import { newTag } from './sip/build.ts';
import { TransactionLayer } from './transaction/transaction_layer.ts';
import type { DatagramSocketFactory } from './transport/options.ts';
import { readTlsSettings } from './transport/tls_files.ts';
import { TransportLayer } from './transport/transport_layer.ts';

export interface RunningServer {
  /** Graceful stop: stop accepting, let in-flight work finish, release ports and files. */
  stop(): Promise<void>;
  /** SIGHUP: reload the routing script (and whatever else can change without a restart). */
  reload?(): Promise<void>;
}

export interface Server extends RunningServer {
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  readonly core: ProxyCore;
  readonly engine: ScriptEngine;
  /** The management interface (commands, statistics, HTTP/FIFO/socket transports). */
  readonly mi: Management;
  reload(): Promise<void>;
}

/** How long a graceful stop lets transactions finish before closing the sockets. */
const DRAIN_MS = 5000;

/** Wiring overrides for in-process benchmarks and tests; production passes none. */
export interface ServerHooks {
  /** UDP sockets for the listeners (node:dgram by default). */
  udpSocketFactory?: DatagramSocketFactory;
}

export async function startServer(config: Config, log: Logger, hooks: ServerHooks = {}): Promise<Server> {
  // Location / subscriber storage first: REGISTERs may arrive as soon as a listener is bound.
  const registration = await startRegistration(config, log);
  configureExec(config.modules.exec as ExecParams | undefined, log.child({ module: 'exec' }));
  const callRouting = startCallRouting(config, log);
  const registry = new KsrRegistry(MODULES);
  const engine = new ScriptEngine({ path: config.script, registry, log, watch: config.script_watch });
  const loaded = await engine.reload();
  if (!loaded.ok) {
    await registration.stop();
    throw new Error(
      `routing script refused:\n${loaded.errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`).join('\n')}`,
    );
  }

  let core: ProxyCore | undefined;
  let transactions: TransactionLayer | undefined;
  const stateless = config.proxy.stateless;
  const transport = new TransportLayer(
    {
      listen: config.listen.map((l) => ({
        protocol: l.protocol,
        address: l.address,
        port: l.port,
        ...(l.advertise === undefined ? {} : { advertise: l.advertise }),
      })),
      ...(config.tls === undefined ? {} : { tls: readTlsSettings(config.tls) }),
      limits: {
        idleTimeoutMs: config.transport.tcp_idle_timeout_ms,
        maxConnections: config.transport.max_connections,
        maxBufferedBytesPerConnection: config.transport.max_buffered_bytes,
        keepAliveIntervalMs: config.transport.keepalive_interval_ms,
      },
      logger: log.child({ module: 'transport' }),
      ...(hooks.udpSocketFactory === undefined ? {} : { udpSocketFactory: hooks.udpSocketFactory }),
    },
    {
      message(msg, info) {
        if (core === undefined) return;
        if (stateless) {
          if (msg.isRequest) core.onRequest(msg, info, undefined);
          else core.onStrayResponse(msg, info);
          return;
        }
        transactions?.receive(msg, info);
      },
      parseError(err, raw, info) {
        if (raw.length === 0) return;
        const reply = buildErrorResponse(raw, err, newTag());
        log.debug(
          { reason: err.phrase, source: `${info.source.address}:${info.source.port}` },
          'malformed message',
        );
        if (reply !== undefined)
          transport.send(reply, info.source, {
            listenerId: info.listener.id,
            connectionId: info.connectionId,
          });
      },
    },
  );
  try {
    await transport.start();
  } catch (e) {
    await registration.stop();
    throw e;
  }

  const pinger = startNathelper(config, registration.service, transport);
  const scriptPort: ScriptPort = engine;
  core = new ProxyCore({
    transport,
    local: new LocalAddresses(transport.listeners, config.aliases),
    resolver: new Resolver(config.proxy.dns_cache_ttl_s * 1000, 30_000, 10_000, undefined, {
      dns: dnsQueries({
        servers: config.dns.servers,
        timeoutMs: config.dns.timeout_ms,
        tries: config.dns.tries,
      }),
      supports: (p) => transport.supports(p),
    }),
    script: scriptPort,
    log: log.child({ module: 'core' }),
    stateless,
    maxBranches: config.proxy.max_branches,
  });
  const tm = config.modules.tm;
  transactions = new TransactionLayer(transport, core, {
    t1: tm.t1,
    t2: tm.t2,
    t4: tm.t4,
    waitTimer: tm.wt_timer,
    maxTransactions: tm.max_transactions,
    frTimer: tm.fr_timer,
    timerC: tm.fr_inv_timer,
    onError: (err: unknown) => log.error({ err }, 'transaction layer error'),
  });
  core.transactions = transactions;

  let calls: CallServices | undefined;
  let mi: Management;
  try {
    calls = await startCallServices(
      config,
      { core, port: { transport, transactions, resolver: core.resolver } },
      log,
    );
    mi = await startManagement(
      {
        server: { transport, transactions, core, engine },
        modules: MODULES,
        log,
        version: packageVersion(),
        config,
      },
      config.mi,
    );
  } catch (e) {
    pinger.stop();
    transactions.stop();
    await transport.stop(0);
    await calls?.stop();
    await registration.stop();
    throw e;
  }

  log.info(
    {
      listen: transport.listeners.map((l) => `${l.protocol}:${l.address}:${l.port}`),
      script: config.script,
      stateless,
    },
    'listening',
  );

  const server: Server = {
    transport,
    transactions,
    core,
    engine,
    mi,
    async reload() {
      // The engine logs the outcome (generation, or the refusal with file:line).
      await engine.reload();
    },
    async stop() {
      await mi.stop();
      engine.close();
      // Refuse new dialogs, give transactions time to finish, then close every socket.
      if (core !== undefined) core.draining = true;
      const deadline = Date.now() + DRAIN_MS;
      while (transactions !== undefined && transactions.unanswered() > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      pinger.stop();
      transactions?.stop();
      await transport.stop(1000);
      await calls?.stop();
      await registration.stop();
      closeExec();
      await callRouting.stop();
    },
  };
  return server;
}

function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}
