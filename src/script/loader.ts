/**
 * Loads a routing script (.ts, .mts, .js, .mjs; .lua goes to lua/script.ts) and the relative files it imports, as one
 * "generation" that can be dropped and garbage-collected when a new one replaces it.
 *
 * Why not import() or vm.SourceTextModule: Node's ESM cache never frees a module, and in Node 24
 * every vm.SourceTextModule / vm.Script / vm.compileFunction stays in memory for good (measured:
 * ~33 KB retained per load of a 20 KB script, OOM after a few thousand loads at 100 MB heap;
 * nodejs/node#59118). Code compiled by indirect eval is collected like any function, so each file
 * is stripped of its types (`module.stripTypeScriptTypes`, strip mode: positions unchanged),
 * rewritten from module syntax to an async function body (esm_transform.ts, line numbers
 * unchanged) and evaluated with a `//# sourceURL=` naming the file, so stack traces read
 * file:line:column. It runs in the main context: Buffer, Promise and instanceof are shared with
 * the server. No Node flag is needed.
 *
 * `node:` builtins and packages are loaded with import() (cached by Node, once per package, which
 * is fine: they do not change between reloads); relative imports are loaded by this loader, cached
 * per generation only.
 */
import { createRequire, isBuiltin, stripTypeScriptTypes } from 'node:module';
import { dirname, extname, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RouteHandler } from '../proxy/context.ts';
import {
  errorMessage,
  formatScriptError,
  locateInStack,
  locateWithNodeCheck,
  positionFromCodeFrame,
  readScriptFile,
  type ScriptError,
  type SourceFile,
} from './errors.ts';
import { isTransformError, type ModuleRequest, transformModule } from './esm_transform.ts';
import { LineMap } from './lexer.ts';
import { loadLuaScript } from './lua/script.ts';
import type { KsrRegistry } from './registry.ts';
import type { KSR } from './types.ts';

export type { ScriptError } from './errors.ts';

/** Any function a script exports. */
export type ScriptFunction = (...args: never[]) => unknown;
/** A route function: request/reply/onsend routes and t_on_* handlers. */
export type RouteFunction = (KSR: KSR) => unknown;

export interface LoadedScript {
  /** Absolute path of the entry file. */
  readonly path: string;
  readonly generation: number;
  /** The entry file's exported functions. */
  readonly exports: Readonly<Record<string, ScriptFunction>>;
  readonly requestRoute: RouteFunction;
  readonly replyRoute: RouteFunction | undefined;
  readonly onsendRoute: RouteFunction | undefined;
  /** A handler given to t_on_*: the function itself, or the exported function of that name. */
  resolveHandler(nameOrFn: RouteHandler): RouteFunction | undefined;
  /** Every file of the script (entry first) with its source text: for check-script and the watcher. */
  readonly files: ReadonlyArray<{ readonly path: string; readonly source: string }>;
  /** file:line:column of an error thrown by the script (innermost frame in one of its files). */
  locate(err: unknown): ScriptError | undefined;
  /**
   * Called by the engine once a reload replaced this script (Lua: frees its VM state when its
   * last running route ends). Routes that started on it still finish.
   */
  retire?(): void;
}

export interface LoadOptions {
  /** Generation number recorded in the result (the engine counts reloads). */
  generation?: number;
  /** The KSR modules a Lua script's global `KSR` is built from (default: every Junction module). */
  registry?: KsrRegistry;
}

export function isLoadedScript(r: LoadedScript | ScriptError[]): r is LoadedScript {
  return !Array.isArray(r);
}

/** Name of the wrapper's parameter: the module's import/export plumbing. */
const API = '__junction';

type Namespace = Record<string, unknown>;

interface ModuleApi {
  i(k: number): Namespace;
  e(getters: Record<string, () => unknown>): void;
  star(k: number): void;
  d(specifier: unknown, options?: unknown): Promise<Namespace>;
  meta: { url: string; filename: string; dirname: string; resolve(specifier: string): string };
}

interface ModuleRecord {
  readonly path: string;
  readonly ns: Namespace;
  state: 'loading' | 'evaluated';
}

/** Thrown inside the loader to unwind with positioned errors. */
class LoadFailure {
  readonly errors: ScriptError[];
  constructor(errors: ScriptError[]) {
    this.errors = errors;
  }
}

interface Where {
  readonly file: string;
  readonly source: string;
  readonly offset: number;
}

function errorAt(where: Where | undefined, file: string, message: string): ScriptError {
  if (where === undefined) return { file, line: 0, column: 0, message };
  const pos = new LineMap(where.source).position(where.offset);
  return { file: where.file, line: pos.line, column: pos.column, message };
}

/** stripTypeScriptTypes without its one-time ExperimentalWarning on the server's stderr. */
function stripTypes(code: string): string {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]): void => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.includes('stripTypeScriptTypes')) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return stripTypeScriptTypes(code, { mode: 'strip' });
  } finally {
    process.emitWarning = emit;
  }
}

function sourceUrlOf(path: string): string {
  // A sourceURL ends at white space: such paths are given as file: URLs.
  return /\s/.test(path) ? pathToFileURL(path).href : path;
}

type Resolved = { kind: 'file'; path: string } | { kind: 'external'; url: string };

function resolveSpecifier(specifier: string, fromFile: string): Resolved {
  if (specifier.startsWith('node:') || isBuiltin(specifier)) return { kind: 'external', url: specifier };
  if (specifier.startsWith('file:')) return { kind: 'file', path: fileURLToPath(specifier) };
  if (specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/')) {
    return { kind: 'file', path: resolvePath(dirname(fromFile), specifier) };
  }
  // A package: looked up from the importing file first (a script outside the repository may
  // have its own node_modules), else from Junction's own dependencies.
  try {
    return { kind: 'external', url: pathToFileURL(createRequire(fromFile).resolve(specifier)).href };
  } catch {
    return { kind: 'external', url: specifier };
  }
}

class Generation {
  readonly id: number;
  readonly records = new Map<string, ModuleRecord>();
  /** sourceURL → file, for locating errors in stack traces. */
  readonly sourceFiles = new Map<string, SourceFile>();
  readonly files: Array<{ path: string; source: string }> = [];

  constructor(id: number) {
    this.id = id;
  }

  async load(path: string, where: Where | undefined): Promise<ModuleRecord> {
    const existing = this.records.get(path);
    if (existing !== undefined) {
      if (existing.state === 'loading') {
        throw new LoadFailure([
          errorAt(where, path, `circular import of ${path} (not supported in routing scripts)`),
        ]);
      }
      return existing;
    }
    const record: ModuleRecord = { path, ns: Object.create(null) as Namespace, state: 'loading' };
    this.records.set(path, record);
    const ext = extname(path);
    let source: string;
    try {
      source = await readScriptFile(path);
    } catch (e) {
      throw new LoadFailure([errorAt(where, path, (e as Error).message)]);
    }
    this.files.push({ path, source });
    if (ext === '.json') {
      try {
        Object.defineProperty(record.ns, 'default', { value: JSON.parse(source), enumerable: true });
      } catch (e) {
        throw new LoadFailure([{ file: path, line: 0, column: 0, message: errorMessage(e) }]);
      }
      record.state = 'evaluated';
      return record;
    }
    const code = this.compileSource(path, source, ext);
    await this.evaluate(record, source, code);
    record.state = 'evaluated';
    return record;
  }

  /** Types stripped (.ts) or checked absent (.js); syntax errors with their position. */
  private compileSource(path: string, source: string, ext: string): string {
    if (ext !== '.ts' && ext !== '.mts' && ext !== '.js' && ext !== '.mjs') {
      throw new LoadFailure([
        {
          file: path,
          line: 0,
          column: 0,
          message: `unsupported file type ${ext || '(none)'}: use .ts, .mts, .js or .mjs (or a .lua script)`,
        },
      ]);
    }
    let stripped: string;
    try {
      stripped = stripTypes(source);
    } catch (e) {
      const pos = positionFromCodeFrame(e instanceof Error ? (e.stack ?? '') : '') ?? { line: 0, column: 0 };
      const msg = e instanceof Error ? e.message : String(e);
      throw new LoadFailure([{ file: path, ...pos, message: `SyntaxError: ${msg}` }]);
    }
    if (ext === '.js' || ext === '.mjs') {
      if (stripped !== source) {
        let at = 0;
        while (at < source.length && source[at] === stripped[at]) at++;
        const message = 'TypeScript syntax in a JavaScript file (rename it to .ts)';
        throw new LoadFailure([errorAt({ file: path, source, offset: at }, path, message)]);
      }
      return source;
    }
    return stripped;
  }

  private async evaluate(record: ModuleRecord, source: string, code: string): Promise<void> {
    const path = record.path;
    const t = transformModule(code, API);
    if (isTransformError(t))
      throw new LoadFailure([
        errorAt({ file: path, source, offset: t.offset }, path, `SyntaxError: ${t.message}`),
      ]);
    const deps: Namespace[] = [];
    for (const req of t.requests) deps.push(await this.loadRequest(req, path, source));
    const api = this.moduleApi(record, deps);
    const head = `(async function (${API}) {"use strict";${t.prefix}`;
    const url = sourceUrlOf(path);
    this.sourceFiles.set(url, { path, firstLineShift: head.length });
    let fn: (api: ModuleApi) => Promise<void>;
    try {
      // Indirect eval: global scope, collectable code (see the top of this file).
      // biome-ignore lint/security/noGlobalEval: this is how routing scripts are compiled
      fn = globalThis.eval(`${head}${t.body}\n})\n//# sourceURL=${url}`);
    } catch (e) {
      // eval reports syntax errors without a position: ask `node --check` for it.
      const found = await locateWithNodeCheck(code);
      const message = found?.message ?? errorMessage(e);
      throw new LoadFailure([{ file: path, line: found?.line ?? 1, column: found?.column ?? 1, message }]);
    }
    try {
      await fn(api);
    } catch (e) {
      if (e instanceof LoadFailure) throw e;
      const located = locateInStack(e, this.sourceFiles) ?? {
        file: path,
        line: 0,
        column: 0,
        message: errorMessage(e),
      };
      throw new LoadFailure([{ ...located, message: `${located.message} (while loading the script)` }]);
    }
  }

  private async loadRequest(req: ModuleRequest, from: string, source: string): Promise<Namespace> {
    const where: Where = { file: from, source, offset: req.offset };
    const ns = await this.importFrom(req.specifier, req.attributes, from, where);
    const missing: ScriptError[] = [];
    for (const { name, offset } of req.names) {
      if (!(name in ns)) {
        missing.push(
          errorAt(
            { file: from, source, offset },
            from,
            `SyntaxError: '${req.specifier}' does not provide an export named '${name}'`,
          ),
        );
      }
    }
    if (missing.length > 0) throw new LoadFailure(missing);
    return ns;
  }

  private async importFrom(
    specifier: string,
    attributes: Readonly<Record<string, string>>,
    from: string,
    where: Where | undefined,
  ): Promise<Namespace> {
    const r = resolveSpecifier(specifier, from);
    if (r.kind === 'file') {
      const isJson = extname(r.path) === '.json';
      if (isJson !== (attributes.type === 'json')) {
        const msg = isJson
          ? `import of a JSON file needs with { type: 'json' }: ${specifier}`
          : `${specifier} is not a JSON file`;
        throw new LoadFailure([errorAt(where, from, msg)]);
      }
      return (await this.load(r.path, where)).ns;
    }
    try {
      const options = Object.keys(attributes).length > 0 ? { with: attributes } : undefined;
      return (await import(r.url, options)) as Namespace;
    } catch (e) {
      throw new LoadFailure([errorAt(where, from, `cannot import '${specifier}': ${errorMessage(e)}`)]);
    }
  }

  private moduleApi(record: ModuleRecord, deps: Namespace[]): ModuleApi {
    const ns = record.ns;
    const path = record.path;
    return {
      i: (k) => deps[k],
      e: (getters) => {
        for (const name of Object.keys(getters))
          Object.defineProperty(ns, name, { get: getters[name], enumerable: true });
      },
      star: (k) => {
        const dep = deps[k];
        for (const name of Object.keys(dep)) {
          if (name === 'default' || name in ns) continue;
          Object.defineProperty(ns, name, { get: () => dep[name], enumerable: true });
        }
      },
      d: async (specifier, options) => {
        const attrs = (options as { with?: Record<string, string> } | undefined)?.with ?? {};
        try {
          return await this.importFrom(String(specifier), attrs, path, undefined);
        } catch (e) {
          if (e instanceof LoadFailure) throw new Error(e.errors.map(formatScriptError).join('\n'));
          throw e;
        }
      },
      meta: {
        url: pathToFileURL(path).href,
        filename: path,
        dirname: dirname(path),
        resolve: (specifier) => {
          const r = resolveSpecifier(specifier, path);
          return r.kind === 'file' ? pathToFileURL(r.path).href : r.url;
        },
      },
    };
  }
}

const ROUTES = ['ksr_request_route', 'ksr_reply_route', 'ksr_onsend_route'] as const;

/**
 * Load a routing script: the entry file and every relative import, evaluated in a fresh
 * generation (nothing is shared with a previous load). Never throws for a bad script: returns
 * the errors with file:line:column.
 */
export async function loadScript(
  path: string,
  opts: LoadOptions = {},
): Promise<LoadedScript | ScriptError[]> {
  const abs = resolvePath(path);
  // Lua (Kamailio KEMI app_lua style): its own VM, the same LoadedScript contract.
  if (extname(abs) === '.lua') return loadLuaScript(abs, opts);
  const gen = new Generation(opts.generation ?? 1);
  let entry: ModuleRecord;
  try {
    entry = await gen.load(abs, undefined);
  } catch (e) {
    if (e instanceof LoadFailure) return e.errors;
    return [{ file: abs, line: 0, column: 0, message: errorMessage(e) }];
  }
  const exports: Record<string, ScriptFunction> = {};
  const errors: ScriptError[] = [];
  for (const name of Object.keys(entry.ns)) {
    let v: unknown;
    try {
      v = entry.ns[name];
    } catch (e) {
      errors.push({ file: abs, line: 0, column: 0, message: `export ${name}: ${errorMessage(e)}` });
      continue;
    }
    if (typeof v === 'function') exports[name] = v as ScriptFunction;
    else if ((ROUTES as readonly string[]).includes(name))
      errors.push({ file: abs, line: 1, column: 1, message: `${name} is exported but is not a function` });
  }
  if (
    exports.ksr_request_route === undefined &&
    !errors.some((e) => e.message.startsWith('ksr_request_route'))
  ) {
    errors.push({
      file: abs,
      line: 1,
      column: 1,
      message: 'the script does not export a function ksr_request_route(KSR)',
    });
  }
  if (errors.length > 0) return errors;
  Object.freeze(exports);
  const sourceFiles = gen.sourceFiles;
  return {
    path: abs,
    generation: gen.id,
    exports,
    requestRoute: exports.ksr_request_route as RouteFunction,
    replyRoute: exports.ksr_reply_route as RouteFunction | undefined,
    onsendRoute: exports.ksr_onsend_route as RouteFunction | undefined,
    resolveHandler(nameOrFn: RouteHandler): RouteFunction | undefined {
      if (typeof nameOrFn === 'function') return nameOrFn as RouteFunction;
      const f = exports[nameOrFn];
      return typeof f === 'function' ? (f as RouteFunction) : undefined;
    },
    files: gen.files,
    locate: (err) => locateInStack(err, sourceFiles),
  };
}
