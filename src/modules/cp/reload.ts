/**
 * Server wiring of the call flow: the routing points and the external script service from the
 * config at start, and again from the config file on cp_reload (refused as a whole when the file
 * does not validate).
 */
import { formatConfigError, loadConfig } from '../../config/load.ts';
import type { Config } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';
import { type OptionsSender, TpChecker } from '../../routing_points/options_check.ts';
import { RoutingPoints, routingPoints, setRoutingPoints } from '../../routing_points/points.ts';
import { ExtScriptService, setExtScriptService, settingsOf } from '../extscript/service.ts';
import { uac } from '../uac/client.ts';

let source: string | null = null;
let service: ExtScriptService | undefined;

export interface CallRouting {
  stop(): Promise<void>;
}

export function startCallRouting(config: Config, log: Logger): CallRouting {
  source = config.source;
  setRoutingPoints(new RoutingPoints(config.connection_points, config.termination_points));
  const svc = new ExtScriptService(settingsOf(config), log.child({ module: 'extscript' }));
  service = svc;
  setExtScriptService(svc);
  const checker = new TpChecker(routingPoints, sendOptions, log.child({ module: 'cp' }));
  checker.start();
  return {
    async stop() {
      checker.stop();
      setExtScriptService(undefined);
      service = undefined;
      await svc.close();
    },
  };
}

export type ReloadResult =
  | { ok: true; connectionPoints: number; terminationPoints: number }
  | { ok: false; errors: string[] };

export function reloadCallRouting(): ReloadResult {
  if (source === null) return { ok: false, errors: ['the server runs without a config file'] };
  const r = loadConfig(source);
  if (!r.ok) return { ok: false, errors: r.errors.map(formatConfigError) };
  const c = r.config;
  setRoutingPoints(new RoutingPoints(c.connection_points, c.termination_points, routingPoints()));
  if (service !== undefined) service.settings = settingsOf(c);
  return {
    ok: true,
    connectionPoints: c.connection_points.length,
    terminationPoints: c.termination_points.length,
  };
}

/**
 * OPTIONS to a termination point through the server's UAC; any response counts, none within
 * `timeoutMs` (the check interval) is 0. -1 (not checked) while the server has no UAC.
 */
export const sendOptions: OptionsSender = async (tp, timeoutMs) => {
  const u = uac();
  if (u === undefined) return -1;
  const uri = tp.config.uri;
  const local = await u.localUri('junction', uri);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(0), timeoutMs);
  });
  const answered = u
    .send({ method: 'OPTIONS', ruri: uri, from: `<${local}>`, to: `<${uri}>`, authenticate: false })
    .then((o) => (o.response === undefined ? 0 : o.status));
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
};
