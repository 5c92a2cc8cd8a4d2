/**
 * `junction start`: config → logger → server, then run until a signal.
 *
 * SIGTERM / SIGINT stop gracefully (server.stop(), bounded by STOP_TIMEOUT_MS; a second signal
 * exits at once). SIGHUP calls server.reload() when the server has one; a SIGHUP arriving during
 * a reload runs one more reload after it, so the last edit is always picked up.
 */
import { loadConfig } from '../config/load.ts';
import { createLogger, flushLogger, type Logger } from '../log/logger.ts';
import type { RunningServer } from '../server.ts';
import {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  type Io,
  importModules,
  printConfigErrors,
  version,
} from './main.ts';

/** Safety net only: the server's stop() decides how long in-flight work may take below this. */
export const STOP_TIMEOUT_MS = 30_000;

export async function start(configPath: string | undefined, io: Io): Promise<number> {
  await importModules();
  const result = loadConfig(configPath);
  if (!result.ok) {
    printConfigErrors(result.errors, io);
    return EXIT_USAGE;
  }
  const config = result.config;
  const log = createLogger({ level: config.log_level, destination: config.log_destination });
  installCrashHandlers(log);
  // Signal handlers do not keep Node running; `start` runs until told to stop, whatever the server holds.
  const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
  log.info(
    { version: version(), config: config.source ?? 'embedded defaults', script: config.script },
    'junction starting',
  );

  let server: RunningServer;
  try {
    const { startServer } = await import('../server.ts');
    server = await startServer(config, log);
  } catch (err) {
    log.fatal({ err }, 'startup failed');
    clearInterval(keepAlive);
    await flushLogger(log);
    return EXIT_FAILURE;
  }
  const code = await runUntilStopped(server, log);
  clearInterval(keepAlive);
  await flushLogger(log);
  return code;
}

function runUntilStopped(server: RunningServer, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ signal }, 'second stop signal: exiting without waiting');
        resolve(EXIT_FAILURE);
        return;
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      const timer = setTimeout(() => {
        log.error({ timeout_ms: STOP_TIMEOUT_MS }, 'graceful stop timed out');
        resolve(EXIT_FAILURE);
      }, STOP_TIMEOUT_MS);
      server.stop().then(
        () => {
          clearTimeout(timer);
          log.info('stopped');
          resolve(EXIT_OK);
        },
        (err: unknown) => {
          clearTimeout(timer);
          log.error({ err }, 'stop failed');
          resolve(EXIT_FAILURE);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);

    let reloading = false;
    let again = false;
    const reload = async (): Promise<void> => {
      if (server.reload === undefined) {
        log.warn('SIGHUP: this server has no reload');
        return;
      }
      if (reloading) {
        again = true;
        return;
      }
      reloading = true;
      do {
        again = false;
        log.info('SIGHUP: reloading');
        try {
          await server.reload();
        } catch (err) {
          // A failed reload keeps the running script (the server's contract); say why.
          log.error({ err }, 'reload failed');
        }
      } while (again && !stopping);
      reloading = false;
    };
    process.on('SIGHUP', () => void reload());
  });
}

/**
 * A synchronous throw nobody caught leaves state unknown: log it and exit 1 (Node's own policy,
 * but with the reason in the server's log). A rejected promise nobody awaited costs the call that
 * made it, never the others: logged, and the server keeps running.
 */
function installCrashHandlers(log: Logger): void {
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception: exiting');
    void flushLogger(log).finally(() => process.exit(EXIT_FAILURE));
  });
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason }, 'unhandled promise rejection');
  });
}
