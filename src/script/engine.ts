/**
 * The routing-script engine the proxy calls for every route. It owns the loaded script and swaps
 * it atomically on reload (SIGHUP, the `reload_routes` management command, an optional file
 * watch): the new script is compiled in its own generation and checked first, and replaces the
 * old one only when both succeed; otherwise the old script keeps running and the errors (with
 * file:line:column) are returned and logged. A route that started keeps the script it started
 * with: run() reads the current script once, and an awaiting route holds that reference.
 *
 * run() stays synchronous when the route function is: no Promise is made on the hot path unless
 * the script returned one.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { RouteContext, RouteHandler, RouteKind } from '../proxy/context.ts';
import { checkLoaded } from './check.ts';
import { errorMessage, formatScriptError, type ScriptError } from './errors.ts';
import { isExitSentinel } from './exit.ts';
import { isLoadedScript, type LoadedScript, loadScript, type RouteFunction } from './loader.ts';
import type { KsrRegistry } from './registry.ts';

/** The subset of a pino logger the engine writes to. */
export interface ScriptLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ScriptEngineOptions {
  /** The routing script (.ts, .mts, .js, .mjs, or .lua: Kamailio KEMI Lua). */
  path: string;
  registry: KsrRegistry;
  log: ScriptLogger;
  /** Reload when a file of the script changes (fs.watch, debounced). */
  watch?: boolean;
  /** Quiet period before a watched change reloads, ms. Default 200. */
  watchDebounceMs?: number;
  /** Check KSR references at load (default true; `junction check-script` runs the same check). */
  check?: boolean;
  /** Called after a route threw (already logged): the test harness records errors per message. */
  onError?: (
    error: unknown,
    info: { kind: RouteKind; ctx: RouteContext; location: ScriptError | undefined },
  ) => void;
}

export type ReloadResult = { ok: true; generation: number } | { ok: false; errors: ScriptError[] };

export interface ScriptEngineStats {
  readonly path: string;
  /** Generation of the running script (1 after the first load, +1 per successful reload); 0 before. */
  readonly generation: number;
  /** Successful loads, failed loads. */
  readonly loads: number;
  readonly failures: number;
  /** Exceptions thrown by routes (the exit sentinel excluded). */
  readonly runtimeErrors: number;
  readonly loadedAt: string | undefined;
  readonly lastError: { readonly at: string; readonly errors: readonly ScriptError[] } | undefined;
}

const NOOP = (): void => undefined;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as PromiseLike<unknown>).then === 'function'
  );
}

export class ScriptEngine {
  readonly path: string;
  private readonly registry: KsrRegistry;
  private readonly log: ScriptLogger;
  private readonly checkRefs: boolean;
  private readonly onError: ScriptEngineOptions['onError'];
  private script: LoadedScript | undefined;
  /** Loads run one at a time: each waits for the previous one. */
  private queue: Promise<unknown> = Promise.resolve();
  private loads = 0;
  private failures = 0;
  private runtimeErrors = 0;
  private loadedAt: string | undefined;
  private lastError: ScriptEngineStats['lastError'];
  private readonly watchEnabled: boolean;
  private readonly debounceMs: number;
  private watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(opts: ScriptEngineOptions) {
    this.path = opts.path;
    this.registry = opts.registry;
    this.log = opts.log;
    this.checkRefs = opts.check ?? true;
    this.onError = opts.onError;
    this.watchEnabled = opts.watch ?? false;
    this.debounceMs = opts.watchDebounceMs ?? 200;
  }

  /** The running script (undefined before the first successful load). */
  get current(): LoadedScript | undefined {
    return this.script;
  }

  /** The initial load: the script, or why it cannot run. */
  async load(): Promise<LoadedScript | ScriptError[]> {
    const r = await this.reload();
    return r.ok ? this.script! : r.errors;
  }

  /** Compile and check the script in isolation; swap it in only if both succeed. */
  reload(): Promise<ReloadResult> {
    const next = this.queue.then(() => this.doReload());
    this.queue = next.catch(NOOP);
    return next;
  }

  private async doReload(): Promise<ReloadResult> {
    const generation = (this.script?.generation ?? 0) + 1;
    let errors: ScriptError[];
    try {
      const loaded = await loadScript(this.path, { generation, registry: this.registry });
      errors = isLoadedScript(loaded) ? (this.checkRefs ? checkLoaded(loaded, this.registry) : []) : loaded;
      if (errors.length === 0 && isLoadedScript(loaded)) {
        const previous = this.script;
        this.script = loaded;
        previous?.retire?.();
        this.loads++;
        this.loadedAt = new Date().toISOString();
        this.log.info(
          { script: this.path, generation },
          generation === 1 ? 'routing script loaded' : 'routing script reloaded',
        );
        this.rewatch(loaded);
        return { ok: true, generation };
      }
      // Loaded but refused by the check: never runs.
      if (isLoadedScript(loaded)) loaded.retire?.();
    } catch (e) {
      errors = [{ file: this.path, line: 0, column: 0, message: errorMessage(e) }];
    }
    this.failures++;
    this.lastError = { at: new Date().toISOString(), errors };
    const running =
      this.script === undefined
        ? 'no script is running'
        : `generation ${this.script.generation} keeps running`;
    this.log.error(
      { script: this.path, errors: errors.map(formatScriptError) },
      `routing script refused (${running}):\n${errors.map(formatScriptError).join('\n')}`,
    );
    return { ok: false, errors };
  }

  /**
   * Whether the running script has a ksr_reply_route / ksr_onsend_route (the proxy skips them
   * otherwise). Takes the route kind (the proxy's ScriptPort) or the function name.
   */
  has(kind: 'reply' | 'onsend' | 'ksr_reply_route' | 'ksr_onsend_route'): boolean {
    const s = this.script;
    if (s === undefined) return false;
    return kind === 'reply' || kind === 'ksr_reply_route'
      ? s.replyRoute !== undefined
      : s.onsendRoute !== undefined;
  }

  /**
   * Run a route: request/reply/onsend use the script's ksr_* functions; branch, onreply, failure,
   * branch_failure and event routes run `handler` (a function, or an exported function's name,
   * resolved in the running script). Returns a Promise only when the script returned one.
   * Never throws: exceptions are logged with file:line, KSR.x.exit() is a normal end.
   */
  run(kind: RouteKind, ctx: RouteContext, handler?: RouteHandler): Promise<void> | void {
    const script = this.script;
    if (script === undefined) return;
    let fn: RouteFunction | undefined;
    if (kind === 'request') fn = script.requestRoute;
    else if (kind === 'reply' && handler === undefined) fn = script.replyRoute;
    else if (kind === 'onsend' && handler === undefined) fn = script.onsendRoute;
    else if (handler !== undefined) {
      fn = script.resolveHandler(handler);
      if (fn === undefined) {
        this.runtimeErrors++;
        const msg = `no exported function ${String(handler)} for the ${kind} route`;
        this.log.error({ script: script.path, route: kind, handler }, msg);
        this.onError?.(new Error(msg), { kind, ctx, location: undefined });
        return;
      }
    }
    if (fn === undefined) return;
    let r: unknown;
    try {
      r = fn(this.registry.createKsr(ctx));
    } catch (e) {
      this.failed(e, kind, ctx, script);
      return;
    }
    if (!isThenable(r)) return;
    return Promise.resolve(r).then(NOOP, (e: unknown) => this.failed(e, kind, ctx, script));
  }

  private failed(e: unknown, kind: RouteKind, ctx: RouteContext, script: LoadedScript): void {
    if (isExitSentinel(e)) return;
    this.runtimeErrors++;
    const where = script.locate(e);
    const at =
      where === undefined
        ? script.path
        : `${where.file}:${where.line}${where.column > 0 ? `:${where.column}` : ''}`;
    this.log.error(
      {
        err: e,
        script: script.path,
        generation: script.generation,
        route: kind,
        file: where?.file,
        line: where?.line,
        column: where?.column,
      },
      `routing script error in ${kind} route at ${at}: ${errorMessage(e)}`,
    );
    this.onError?.(e, { kind, ctx, location: where });
  }

  stats(): ScriptEngineStats {
    return {
      path: this.path,
      generation: this.script?.generation ?? 0,
      loads: this.loads,
      failures: this.failures,
      runtimeErrors: this.runtimeErrors,
      loadedAt: this.loadedAt,
      lastError: this.lastError,
    };
  }

  /** Stop watching files (the script keeps running). */
  close(): void {
    this.closed = true;
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  /**
   * Watch the directories of the script's files (editors replace a file by renaming a new one
   * over it, which ends a watch on the file itself) and reload after a quiet period.
   */
  private rewatch(script: LoadedScript): void {
    if (!this.watchEnabled || this.closed) return;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    const byDir = new Map<string, Set<string>>();
    for (const f of script.files) {
      const d = dirname(f.path);
      let names = byDir.get(d);
      if (names === undefined) {
        names = new Set();
        byDir.set(d, names);
      }
      names.add(basename(f.path));
    }
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, { persistent: false }, (_event, filename) => {
          if (filename === null || names.has(String(filename))) this.scheduleReload();
        });
        w.on('error', (err) => this.log.warn({ err, dir }, 'routing script watch failed'));
        this.watchers.push(w);
      } catch (err) {
        this.log.warn({ err, dir }, 'cannot watch the routing script directory');
      }
    }
  }

  private scheduleReload(): void {
    if (this.closed) return;
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.reload();
    }, this.debounceMs);
    this.debounce.unref();
  }
}
