/**
 * Server wiring for calls: the server's UAC (with the configured credentials), the dialog table
 * and its hook in the proxy core, call records (acc). server.ts calls this once the transaction
 * layer exists, and `stop()` on shutdown.
 */
import type { Config } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';
import type { ProxyCore } from '../../proxy/core.ts';
import { startAcc } from '../acc/wire.ts';
import { setUac, Uac, type UacPort } from '../uac/client.ts';
import { ownDialogs } from '../uac/own_dialogs.ts';
import type { UacParams } from '../uac/params.ts';
import type { DialogParams } from './params.ts';
import { Dialogs, setDialogs } from './service.ts';

export interface CallServices {
  readonly dialogs: Dialogs;
  readonly uac: Uac;
  stop(): Promise<void>;
}

export async function startCallServices(
  config: Config,
  server: { core: ProxyCore; port: UacPort },
  log: Logger,
): Promise<CallServices> {
  const uacParams = config.modules.uac as UacParams | undefined;
  const uac = new Uac(server.port, uacParams?.credentials ?? []);
  setUac(uac);
  const dlog = log.child({ module: 'dialog' });
  const dialogs = new Dialogs(config.modules.dialog as Partial<DialogParams> | undefined, {
    info: (o, m) => dlog.info(o, m),
    warn: (o, m) => dlog.warn(o, m),
  });
  dialogs.uac = uac;
  dialogs.stateless = config.proxy.stateless;
  const local = server.core.local;
  dialogs.isMyself = (uri) => local.isMyselfUri(uri);
  setDialogs(dialogs);
  const own = ownDialogs();
  server.core.requestHook = (req, info, tx, state) =>
    own.onRequest(req, info, tx, server.core) || dialogs.onRequest(req, info, tx, state);
  const acc = await startAcc(config, dialogs, log);
  return {
    dialogs,
    uac,
    async stop() {
      server.core.requestHook = undefined;
      setDialogs(undefined);
      setUac(undefined);
      await acc.stop();
    },
  };
}
