/**
 * Storage behind `storage:` in the config: memory | sqlite:PATH | redis://HOST:PORT.
 * See types.ts for the contracts and conformance.ts for the suite every backend passes.
 */
import type { StorageConfig } from '../config/types.ts';
import { memoryStorage } from './memory.ts';
import type { Storage } from './types.ts';

export type { AorUpdate, Binding, LocationStore, Storage, Subscriber, SubscriberStore } from './types.ts';
export { StorageError } from './types.ts';

export async function openStorage(config: StorageConfig): Promise<Storage> {
  switch (config.kind) {
    case 'memory':
      return memoryStorage();
    case 'sqlite': {
      const { sqliteStorage } = await import('./sqlite.ts');
      return sqliteStorage(config.path);
    }
    case 'redis': {
      const { redisStorage } = await import('./redis.ts');
      return redisStorage(config.url);
    }
  }
}
