/** Test doubles for src/mi tests: a server with counters and no network. */
import { createLogger, type Logger } from '../log/logger.ts';
import type { ManagedServer } from './index.ts';

export interface FakeServer extends ManagedServer {
  reloads: number;
  failNextReload: boolean;
}

export function fakeServer(): FakeServer {
  const core = { requests: 5, replies: 3, relayed: 2, dropped: 0 };
  const tm = { serverTx: 1, clientTx: 0, created: 7 };
  const s: FakeServer = {
    reloads: 0,
    failNextReload: false,
    transport: {
      stats: () => ({
        udp: { messagesIn: 10, messagesOut: 9 },
        tcp: { messagesIn: 0, messagesOut: 0 },
        connections: { open: 0, accepted: 0 },
      }),
      selectListener: () => undefined,
      send: () => undefined,
    },
    transactions: { stats: tm, size: () => 1, sendRequest: () => undefined },
    core: { stats: core, resolver: { resolve: () => null } },
    engine: {
      stats: () => ({ generation: s.reloads + 1, loads: s.reloads + 1, failures: 0, runtimeErrors: 0 }),
      reload: async () => {
        if (s.failNextReload) {
          s.failNextReload = false;
          return { ok: false, errors: [{ file: 'r.ts', line: 3, message: 'boom' }] };
        }
        s.reloads++;
        return { ok: true, generation: s.reloads + 1 };
      },
    },
  };
  return s;
}

/** A logger that keeps its lines. */
export function memoryLogger(level = 'info'): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({
    level,
    destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  });
  return { log, lines };
}
