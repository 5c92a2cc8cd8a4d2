import { runStorageConformance } from './conformance.ts';
import { memoryStorage } from './memory.ts';

runStorageConformance('memory', { open: async () => memoryStorage() });
