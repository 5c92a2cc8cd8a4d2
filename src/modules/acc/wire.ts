/** Server wiring of call records: open the store the config names, record every ended dialog. */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Config } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';
import type { Dialogs } from '../dialog/service.ts';
import type { AccParams } from './params.ts';
import { recordOfDialog } from './record.ts';
import { AccService, setAccService } from './service.ts';
import { type CdrStore, JsonLinesCdrStore, MemoryCdrStore, SqliteCdrStore } from './store.ts';

export async function startAcc(
  config: Config,
  dialogs: Dialogs,
  log: Logger,
): Promise<{ service: AccService; stop(): Promise<void> }> {
  const p = (config.modules.acc as AccParams | undefined) ?? {
    enabled: 1,
    json_file: '',
    memory_records: 10000,
  };
  const alog = log.child({ module: 'acc' });
  let service: AccService | undefined;
  const onError = (err: unknown): void => {
    if (service !== undefined) service.stats.store_errors++;
    alog.error({ err: (err as Error).message }, 'acc: writing call records failed');
  };
  let store: CdrStore;
  if (config.storage.kind === 'sqlite') {
    const { openDatabase } = await import('../../storage/sqlite.ts');
    store = new SqliteCdrStore(openDatabase(config.storage.path), onError);
  } else {
    store = new MemoryCdrStore(p.memory_records);
  }
  if (p.json_file !== '') {
    const base = config.source === null ? process.cwd() : dirname(config.source);
    const path = isAbsolute(p.json_file) ? p.json_file : resolve(base, p.json_file);
    store = new JsonLinesCdrStore(store, path, onError);
  }
  service = new AccService(store);
  setAccService(service);
  const svc = service;
  if (p.enabled === 1) dialogs.onEnd((d) => svc.write(recordOfDialog(d)));
  alog.info({ store: store.kind }, 'call records');
  return {
    service,
    async stop() {
      setAccService(undefined);
      await store.close();
    },
  };
}
