/** usrloc / registrar / auth statistics (get_statistics, /metrics), read from the live counters. */
import { defineModuleStatistic } from '../../mi/statistics.ts';
import { authState } from '../auth/auth.ts';
import { locationService, type UsrlocStats } from './service.ts';

const USRLOC: Array<[keyof UsrlocStats, string, string]> = [
  ['expired_contacts', 'usrloc', 'Bindings removed by the expiry timer.'],
  ['registered_contacts', 'usrloc', 'Bindings written by REGISTERs and ul_add.'],
  ['unregistered_contacts', 'usrloc', 'Bindings removed by REGISTERs and ul_rm*.'],
  ['storage_errors', 'usrloc', 'Location / subscriber storage operations that failed.'],
  ['accepted_regs', 'registrar', 'REGISTERs accepted.'],
  ['rejected_regs', 'registrar', 'REGISTERs refused (4xx/5xx).'],
];

for (const [name, group, help] of USRLOC) {
  defineModuleStatistic({ group, name, kind: 'counter', help, read: () => locationService().stats[name] });
}

for (const name of ['challenges', 'successes', 'failures', 'stale', 'replays'] as const) {
  defineModuleStatistic({
    group: 'auth',
    name,
    kind: 'counter',
    help: `Digest ${name}.`,
    read: () => authState.stats[name],
  });
}
