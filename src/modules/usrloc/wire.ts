/**
 * Server wiring for the stateful modules: open the configured storage, install the location
 * service (expiry timer) and the registrar / auth parameters. server.ts calls this once at start
 * and `stop()` on shutdown.
 */
import type { Config } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';
import { openStorage } from '../../storage/index.ts';
import { configureAuth } from '../auth/auth.ts';
import type { AuthParams } from '../auth/params.ts';
import type { RegistrarParams, UsrlocParams } from '../registrar/params.ts';
import { setRegistrarParams } from '../registrar/params.ts';
import { LocationService, setLocationService } from './service.ts';

export interface RegistrationServices {
  readonly service: LocationService;
  stop(): Promise<void>;
}

export async function startRegistration(config: Config, log: Logger): Promise<RegistrationServices> {
  const storage = await openStorage(config.storage);
  const ulog = log.child({ module: 'usrloc' });
  const service = new LocationService(storage, {
    info: (o, m) => ulog.info(o, m),
    error: (o, m) => ulog.error(o, m),
  });
  setLocationService(service);
  setRegistrarParams(config.modules.registrar as RegistrarParams | undefined);
  const auth = config.modules.auth as AuthParams | undefined;
  configureAuth({ nonce_expire: auth?.nonce_expire, algorithms: auth?.algorithms, secret: auth?.secret });
  const ul = config.modules.usrloc as UsrlocParams | undefined;
  service.startTimer((ul?.timer_interval ?? 10) * 1000);
  await service.expireNow();
  log.info({ storage: config.storage.spec }, 'location storage open');
  return {
    service,
    async stop() {
      service.stopTimer();
      await storage.close();
    },
  };
}
