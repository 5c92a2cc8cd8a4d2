/**
 * Structured logs: pino, JSON lines, one logger per process with a child per module
 * (`{"level":"info","module":"tm",...}`). Writes go through pino's asynchronous destination
 * (sonic-boom) so logging never waits on the terminal or the disk; pino flushes it synchronously
 * when the process exits, and flushLogger() drains it before a planned exit.
 */
import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import { type LevelName, toLevelName, toThreshold } from './levels.ts';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** Threshold: a pino level, 'silent', or a Kamailio name / numeric level (dbg, notice, err, 3 …). Default info. */
  level?: string | number;
  /**
   * 'stdout' (default), 'stderr', a file path (appended to, folder created), a file descriptor, or
   * any object with write(line) — tests pass one to capture lines.
   */
  destination?: string | number | pino.DestinationStream;
  /** Write synchronously (default false: buffered asynchronous writes). */
  sync?: boolean;
  /** Extra fields on every line. */
  base?: Record<string, unknown>;
}

function destinationFor(dest: LoggerOptions['destination'], sync: boolean): pino.DestinationStream {
  if (dest === undefined || dest === 'stdout') return pino.destination({ dest: 1, sync });
  if (dest === 'stderr') return pino.destination({ dest: 2, sync });
  if (typeof dest === 'number') return pino.destination({ dest, sync });
  if (typeof dest === 'string') {
    // Opened here, synchronously: a log file that cannot be opened fails startup with the reason,
    // and the destination is ready at once (no lines buffered against a file still opening).
    mkdirSync(dirname(dest), { recursive: true });
    return pino.destination({ dest: openSync(dest, 'a'), sync });
  }
  return dest;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = toThreshold(options.level ?? 'info');
  if (level === undefined) throw new Error(`unknown log level ${JSON.stringify(options.level)}`);
  return pino(
    {
      level,
      // pid only: hostname is the same on every line and costs bytes on each.
      base: { pid: process.pid, ...options.base },
      // Level names, not numbers: lines read (and grep) without a lookup table.
      formatters: { level: (label) => ({ level: label }) },
    },
    destinationFor(options.destination, options.sync ?? false),
  );
}

/** A module's logger: every line carries `module: name`. */
export function moduleLogger(parent: Logger, module: string): Logger {
  return parent.child({ module });
}

/**
 * Log at a level named the Kamailio way (what `KSR.log(level, msg)` gets): dbg → debug,
 * notice → info, err → error, crit → fatal, numbers as Kamailio's debug levels. An unknown level
 * logs at error (as Kamailio does for an invalid level) with the name kept in `ksr_level`.
 */
export function logAt(
  logger: Logger,
  level: string | number,
  msg: string,
  fields?: Record<string, unknown>,
): void {
  const name: LevelName | undefined = toLevelName(level);
  if (name !== undefined) logger[name](fields ?? {}, msg);
  else logger.error({ ...fields, ksr_level: level }, msg);
}

/** What flushLogger needs of pino's asynchronous destination (sonic-boom). */
interface Drainable {
  readonly _writing?: boolean;
  once(event: string, listener: () => void): unknown;
}

/**
 * Wait until buffered lines are written (before a planned exit, or at the end of a test), at most
 * `timeoutMs`: a stdout pipe nobody reads must not hold the exit (pino's own exit hook still
 * writes what is left, synchronously). sonic-boom's flush(cb) does not wait for writes already
 * in flight, so this waits for its 'drain', emitted once nothing is left to write.
 */
export function flushLogger(logger: Logger, timeoutMs = 2000): Promise<void> {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | Drainable
    | undefined;
  if (stream?._writing !== true) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    stream.once('drain', done);
    stream.once('error', done);
    stream.once('close', done);
  });
}
