/**
 * The per-message KSR object. Every module's functions are bound once, at registry build time, as
 * methods on one prototype per module; `createKsr(ctx)` then costs an Object.create and two
 * property stores, and a sub-module (`KSR.tm`) is created on first access only. Methods find their
 * RouteContext through `this`, so no closure is made per message or per call.
 *
 * Kamailio refuses, at startup, a function used in a route type it does not support. Scripts here
 * are dynamic, so the check happens at call time: the call logs an error and returns -1.
 */
import type { RouteContext, RouteKind } from '../proxy/context.ts';
import { endRoute, exitSentinel } from './exit.ts';
import type { KsrFunction, ModuleDefinition } from './module.ts';
import type { KSR } from './types.ts';

export { isExitSentinel, wasExited } from './exit.ts';

const CTX = Symbol('junction.ksr.ctx');
const ROOT = Symbol('junction.ksr.root');
const EXITED = Symbol('junction.ksr.exited');
const SUBS = Symbol('junction.ksr.subs');

/** What a KSR object (the root or a sub-module) carries; the root points at itself. */
interface KsrNode {
  [ROOT]: KsrRoot;
}
interface KsrRoot extends KsrNode {
  [CTX]: RouteContext;
  [EXITED]: boolean;
  /** Sub-module objects made so far, by module index. */
  [SUBS]: Array<KsrNode | undefined>;
}

type SubConstructor = new (root: KsrRoot) => KsrNode;

/**
 * A constructor of one module's sub-objects: `new Sub(root)` gives the same shape every time (with
 * the module's methods on its prototype, which has no Object.prototype above it).
 */
function subConstructor(proto: object): SubConstructor {
  function Sub(this: KsrNode, root: KsrRoot): void {
    this[ROOT] = root;
  }
  Sub.prototype = proto;
  return Sub as unknown as SubConstructor;
}

/** One bit per route kind: a function's allowed kinds are a mask (both engines check it per call). */
export const KIND_BITS: Readonly<Record<RouteKind, number>> = {
  request: 1,
  branch: 2,
  onsend: 4,
  reply: 8,
  onreply: 16,
  failure: 32,
  branch_failure: 64,
  event: 128,
};
const ALL_KINDS = 255;

/** Kamailio's names for route blocks, for error messages. */
const ROUTE_NAMES: Readonly<Record<RouteKind, string>> = {
  request: 'request_route',
  branch: 'branch_route',
  onsend: 'onsend_route',
  reply: 'reply_route',
  onreply: 'onreply_route',
  failure: 'failure_route',
  branch_failure: 'branch_failure_route',
  event: 'event_route',
};

export function maskOf(routes: readonly RouteKind[] | undefined): number {
  if (routes === undefined) return ALL_KINDS;
  let m = 0;
  for (const r of routes) m |= KIND_BITS[r];
  return m;
}

/** Where a function may run, in Kamailio's words ("request_route, failure_route"). */
export function routeNames(routes: readonly RouteKind[] | undefined): string {
  return routes === undefined ? 'any route' : routes.map((r) => ROUTE_NAMES[r]).join(', ');
}

function detached(path: string): TypeError {
  return new TypeError(`${path}() was called without its KSR object; call it as ${path}(...)`);
}

type Method = (this: KsrNode | undefined, ...args: unknown[]) => unknown;
type Fn = (ctx: RouteContext, ...args: unknown[]) => unknown;

/**
 * One KSR method: exit check, route check (a bit of the allowed-kinds mask), then the module's
 * implementation over the context. Calls with up to three arguments (nearly all of them) pass
 * them on as they are: no rest array and no spread call per KSR call; `arguments.length` keeps
 * what the implementation sees exactly what the script passed (an omitted optional argument stays
 * omitted).
 */
function makeMethod(path: string, name: string, def: KsrFunction): Method {
  const fn = def.fn as Fn;
  const mask = maskOf(def.routes);
  const allowed = routeNames(def.routes);
  const method = function (this: KsrNode | undefined, a?: unknown, b?: unknown, c?: unknown): unknown {
    const root = this?.[ROOT];
    if (root === undefined) throw detached(path);
    if (root[EXITED]) throw exitSentinel();
    const ctx = root[CTX];
    if ((mask & KIND_BITS[ctx.kind]) === 0) return refuseRoute(ctx, path, allowed);
    // biome-ignore lint/complexity/noArguments: the argument count, without a rest array per call
    switch (arguments.length) {
      case 0:
        return fn(ctx);
      case 1:
        return fn(ctx, a);
      case 2:
        return fn(ctx, a, b);
      case 3:
        return fn(ctx, a, b, c);
      default:
        // biome-ignore lint/complexity/noArguments: more than three arguments (rare): passed as given
        return fn(ctx, ...Array.prototype.slice.call(arguments));
    }
  } as Method;
  Object.defineProperty(method, 'name', { value: name });
  return method;
}

/** A call in a route kind the function does not support: logged, -1 (as in both engines). */
export function refuseRoute(ctx: RouteContext, path: string, allowed: string): number {
  ctx.log('err', `${path}() cannot be used in ${ROUTE_NAMES[ctx.kind]} (allowed in: ${allowed})`);
  return -1;
}

/** KSR.x.exit / KSR.x.drop: control flow, so the registry owns them whatever the x module says. */
function exitMethod(drop: boolean): Method {
  return function (this: KsrNode | undefined): never {
    const root = this?.[ROOT];
    if (root === undefined) throw detached(drop ? 'KSR.x.drop' : 'KSR.x.exit');
    root[EXITED] = true;
    endRoute(root[CTX], drop);
    throw exitSentinel();
  };
}

const BUILTIN_X: Readonly<Record<string, KsrFunction>> = {
  exit: { fn: () => undefined, doc: 'Stop the execution of the route (ends it even through try/catch).' },
  drop: { fn: () => undefined, doc: 'Stop the route and drop the request branch or the response.' },
};

interface ModuleEntry {
  readonly name: string;
  readonly functions: Map<string, KsrFunction>;
  readonly summary: string | undefined;
}

export class KsrRegistry {
  private readonly rootProto: object;
  private readonly entries = new Map<string, ModuleEntry>();
  /** Slots of the root's sub-module array given out so far (one per module a script used). */
  private readonly slots = { used: 0 };

  constructor(modules: readonly ModuleDefinition[]) {
    const core: ModuleEntry = { name: '', functions: new Map(), summary: 'core functions' };
    this.entries.set('', core);
    for (const m of modules) {
      let entry = this.entries.get(m.name);
      if (entry === undefined) {
        entry = { name: m.name, functions: new Map(), summary: m.summary };
        this.entries.set(m.name, entry);
      }
      for (const [fname, f] of Object.entries(m.functions)) {
        if (entry.functions.has(fname))
          throw new Error(`KSR function ${pathOf(m.name, fname)} is defined twice`);
        entry.functions.set(fname, f);
      }
    }
    let x = this.entries.get('x');
    if (x === undefined) {
      x = { name: 'x', functions: new Map(), summary: 'script control' };
      this.entries.set('x', x);
    }
    for (const [fname, f] of Object.entries(BUILTIN_X)) x.functions.set(fname, f);
    for (const name of this.entries.keys()) {
      if (name !== '' && core.functions.has(name))
        throw new Error(`KSR.${name} is both a module and a core function`);
    }
    this.rootProto = this.buildPrototypes();
  }

  private buildPrototypes(): object {
    const root: Record<string, unknown> = Object.create(null);
    for (const [fname, f] of this.entries.get('')!.functions)
      root[fname] = makeMethod(`KSR.${fname}`, fname, f);
    for (const entry of this.entries.values()) {
      if (entry.name === '') continue;
      const proto: Record<string, unknown> = Object.create(null);
      for (const [fname, f] of entry.functions)
        proto[fname] = makeMethod(pathOf(entry.name, fname), fname, f);
      if (entry.name === 'x') {
        proto.exit = exitMethod(false);
        proto.drop = exitMethod(true);
      }
      // The sub-module object is made on first access and kept in the root's slot array (one
      // fixed-shape root per message; a store per module under its own symbol would give every
      // root a different shape, by the order the script touches modules in). A module gets its
      // slot when a script first uses it, so the array a root carries is as long as the number
      // of modules scripts use (a dozen), not the number of modules there are.
      let slot = -1;
      const Sub = subConstructor(proto);
      const slots = this.slots;
      Object.defineProperty(root, entry.name, {
        enumerable: true,
        get(this: KsrRoot): unknown {
          if (slot < 0) slot = slots.used++;
          const subs = this[SUBS];
          // A root made before this module had a slot reads past its array's end: undefined.
          const cached = subs[slot];
          if (cached !== undefined) return cached;
          const sub = new Sub(this[ROOT]);
          subs[slot] = sub;
          return sub;
        },
      });
    }
    return root;
  }

  /** A KSR object for one message and route. */
  createKsr(ctx: RouteContext): KSR {
    const k = Object.create(this.rootProto) as KsrRoot;
    k[CTX] = ctx;
    k[EXITED] = false;
    k[ROOT] = k;
    k[SUBS] = new Array<KsrNode | undefined>(this.slots.used);
    return k as unknown as KSR;
  }

  /** Whether `KSR.a` (a module or core function) or `KSR.a.b` exists — the load-time check. */
  has(path: readonly string[]): boolean {
    if (path.length === 1) return this.entries.has(path[0]) || this.entries.get('')!.functions.has(path[0]);
    if (path.length === 2)
      return this.entries.get(path[0])?.functions.has(path[1]) === true && path[0] !== '';
    return false;
  }

  /** Module names (without the core ''), sorted. */
  moduleNames(): string[] {
    return [...this.entries.keys()].filter((n) => n !== '').sort();
  }

  /** Function names of a module ('' = core), sorted; [] for an unknown module. */
  functionNames(module: string): string[] {
    const e = this.entries.get(module);
    return e === undefined ? [] : [...e.functions.keys()].sort();
  }

  /** The declaration of a KSR function ('' = core). */
  definition(module: string, fname: string): KsrFunction | undefined {
    return this.entries.get(module)?.functions.get(fname);
  }

  summary(module: string): string | undefined {
    return this.entries.get(module)?.summary;
  }

  /** The context a KSR object acts on (for tools such as the test harness). */
  static contextOf(ksr: unknown): RouteContext | undefined {
    return (ksr as Partial<KsrNode> | undefined)?.[ROOT]?.[CTX];
  }

  /** Whether KSR.x.exit()/drop() was called on this KSR object. */
  static isExited(ksr: unknown): boolean {
    return (ksr as Partial<KsrNode> | undefined)?.[ROOT]?.[EXITED] === true;
  }
}

/** 'exit' / 'drop' for KSR.x.exit and KSR.x.drop (control flow every engine implements itself). */
export function controlOf(module: string, fname: string): 'exit' | 'drop' | undefined {
  return module === 'x' && (fname === 'exit' || fname === 'drop') ? fname : undefined;
}

export function pathOf(module: string, fname: string): string {
  return module === '' ? `KSR.${fname}` : `KSR.${module}.${fname}`;
}

/** A registry of every Junction module (loaded lazily: the module list imports the scripts). */
export async function defaultRegistry(): Promise<KsrRegistry> {
  const { MODULES } = await import('../modules/index.ts');
  return new KsrRegistry(MODULES);
}
