/**
 * Reading a config: YAML text → schema validation → a deep-frozen Config, or every problem found,
 * each with its key path and, when the key is in the file, its line and column.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { moduleSchemas } from './modules.ts';
import { configSchema } from './schema.ts';
import {
  type ConfigError,
  formatPath,
  type ModuleSchemaLookup,
  type ParseContext,
  type Path,
} from './spec.ts';
import type { Config } from './types.ts';

export interface LoadOptions {
  /** Module schemas to validate `modules.<name>` against; the process-wide registry by default. */
  modules?: ModuleSchemaLookup;
  /** Require the files the config names (script, TLS files, local hook programs) to exist. Default true. */
  checkFiles?: boolean;
  /** Base folder for relative paths when there is no config file. Default: process.cwd(). */
  cwd?: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };

/**
 * Load and validate a config file; without a path, the embedded defaults (relative paths then
 * resolve against the cwd). Never throws for a bad or missing file: that is an error result.
 */
export function loadConfig(path?: string, options: LoadOptions = {}): ConfigResult {
  if (path === undefined) return parseConfig('', options);
  const file = resolve(options.cwd ?? process.cwd(), path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : String((e as Error).message);
    return { ok: false, errors: [{ path: '', file, message: `cannot read config file: ${why}` }] };
  }
  return parseConfig(text, { ...options, file });
}

/** Validate config text. `file` (absolute) names it in errors and sets the base of relative paths. */
export function parseConfig(text: string, options: LoadOptions & { file?: string } = {}): ConfigResult {
  const file = options.file;
  const errors: ConfigError[] = [];
  const lineCounter = new LineCounter();
  // merge: YAML `<<: *anchor` keys, handy for connection points that share most settings.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    errors.push(
      withFile(
        { path: '', message: `YAML: ${firstLine(err.message)}`, line: pos.line, column: pos.col },
        file,
      ),
    );
  }
  if (errors.length > 0) return { ok: false, errors };

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return {
      ok: false,
      errors: [withFile({ path: '', message: `YAML: ${firstLine((e as Error).message)}` }, file)],
    };
  }
  // An empty file (or one with only comments) is the embedded defaults.
  if (raw === null || raw === undefined) raw = {};

  const ctx: ParseContext = {
    baseDir: file === undefined ? resolve(options.cwd ?? process.cwd()) : dirname(file),
    checkFiles: options.checkFiles ?? true,
    modules: options.modules ?? moduleSchemas,
    root: configSchema,
    report(at: Path, message: string) {
      const pos = locate(doc.contents, at, lineCounter);
      errors.push(withFile({ path: formatPath(at), message, ...pos }, file));
    },
  };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    ctx.report([], 'the config file must be a mapping of keys (listen:, script:, ...)');
    return { ok: false, errors };
  }
  const parsed = configSchema.parse(raw, [], ctx);
  if (parsed === undefined || errors.length > 0) return { ok: false, errors: sortByLine(errors) };
  return { ok: true, config: deepFreeze({ ...parsed, source: file ?? null }) };
}

/** The embedded defaults; throws only if the defaults themselves are broken (a bug). */
export function defaultConfig(options: LoadOptions = {}): Config {
  const result = loadConfig(undefined, options);
  if (!result.ok)
    throw new Error(
      `embedded config defaults are invalid:\n${result.errors.map(formatConfigError).join('\n')}`,
    );
  return result.config;
}

/** `junction.yaml:7:5: modules.tm.fr_timer: must not be negative, got -1` (compiler style). */
export function formatConfigError(e: ConfigError): string {
  let where = e.file ?? '';
  if (e.line !== undefined)
    where += `${where === '' ? 'line ' : ':'}${e.line}${e.column === undefined ? '' : `:${e.column}`}`;
  const head = [where, e.path].filter((s) => s !== '').join(': ');
  return head === '' ? e.message : `${head}: ${e.message}`;
}

function withFile(e: ConfigError, file: string | undefined): ConfigError {
  return file === undefined ? e : { ...e, file };
}

function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  return nl === -1 ? s : s.slice(0, nl);
}

function sortByLine(errors: ConfigError[]): ConfigError[] {
  // Stable: errors on one line (or with no line) keep the schema's order.
  return errors.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
}

/**
 * Line and column of the deepest node of `at` present in the file: the key itself for mapping
 * entries (where an operator looks), the item for list entries. Defaults have no position.
 */
function locate(root: Node | null, at: Path, lc: LineCounter): { line?: number; column?: number } {
  let node: unknown = root;
  let offset: number | undefined;
  for (const seg of at) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
      );
      if (pair === undefined) break;
      const key = pair.key as Node;
      offset = key.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      offset = (node as Node | null)?.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  if (offset === undefined) return {};
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
