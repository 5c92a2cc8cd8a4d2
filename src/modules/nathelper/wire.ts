/** Server wiring of nathelper: its parameters, and the keep-alive pinger over the location table. */
import type { Config } from '../../config/types.ts';
import type { LocationService } from '../usrloc/service.ts';
import { type NathelperParams, nathelperParams, setNathelperParams } from './params.ts';
import { NatPinger, type PingTransport } from './pinger.ts';

export function startNathelper(
  config: Config,
  service: LocationService,
  transport: PingTransport,
): NatPinger {
  setNathelperParams(config.modules.nathelper as Partial<NathelperParams> | undefined);
  const pinger = new NatPinger(service, transport, nathelperParams());
  pinger.start();
  return pinger;
}
