/**
 * Where the third-party SIP corpus lives: `../shared/corpus` beside the repository (as on every
 * developer machine and in CI), or $JUNCTION_CORPUS. A missing corpus fails the tests loudly:
 * conformance that silently skips is no conformance.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

export const CORPUS_DIR = process.env.JUNCTION_CORPUS ?? resolve(repoRoot, '../shared/corpus');

if (!existsSync(join(CORPUS_DIR, 'rfc4475'))) {
  throw new Error(`SIP corpus not found at ${CORPUS_DIR} (set JUNCTION_CORPUS)`);
}

/** [file name, raw bytes] of every file in a corpus folder with this extension, sorted. */
export function corpusFiles(folder: string, ext: string): Array<[string, Buffer]> {
  const dir = join(CORPUS_DIR, folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f): [string, Buffer] => [f, readFileSync(join(dir, f))]);
}

export function corpusFile(folder: string, name: string): Buffer {
  return readFileSync(join(CORPUS_DIR, folder, name));
}
