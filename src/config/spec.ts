/**
 * The building blocks of the config schema: one `Spec` per key, carrying its documentation, its
 * default (written as an operator would write it in YAML, so the docs show it verbatim and it goes
 * through the same validation as a value from the file) and the function that checks a raw YAML
 * value and turns it into its typed form.
 *
 * Validation never throws and never stops at the first problem: every spec reports into the shared
 * context and returns `undefined` for a bad value, so one run lists every mistake in the file.
 */
import { suggest } from './suggest.ts';

/** A key path from the root: `['listen', 1]`, `['modules', 'tm', 'fr_timer']`. */
export type Path = readonly (string | number)[];

/** One problem in a config: the dotted key path, what is wrong, and where in the file when known. */
export interface ConfigError {
  /** `listen[1]`, `modules.tm.fr_timer`, `connection_points[0].match.ip`; '' for the file itself. */
  readonly path: string;
  readonly message: string;
  readonly file?: string;
  /** 1-based, when the key exists in the file. */
  readonly line?: number;
  readonly column?: number;
}

/** What every spec's parse function gets besides the value. */
export interface ParseContext {
  /** Folder that relative paths are resolved against (the config file's folder, else the cwd). */
  readonly baseDir: string;
  /** Whether files named by the config (script, TLS keys, local hook scripts) must exist. */
  readonly checkFiles: boolean;
  /** Module schemas that `modules.<name>` is validated against. */
  readonly modules: ModuleSchemaLookup;
  /** The whole schema, to suggest a key that exists elsewhere in the tree. */
  readonly root: AnySpec;
  report(at: Path, message: string): void;
}

/** The part of the module registry that validation needs (see modules.ts). */
export interface ModuleSchemaLookup {
  get(name: string): ObjectSpec<unknown> | undefined;
  names(): string[];
}

export interface Spec<T> {
  /** Short type description for docs and messages: `integer ≥ 0`, `proto:host:port`. */
  readonly type: string;
  /** One or two sentences: what the key does. The README table is generated from these. */
  readonly doc: string;
  /** Raw (YAML-form) default used when the key is absent; absent and no default = required. */
  readonly default?: unknown;
  /** How the default reads in docs when the raw value is not what an operator should see. */
  readonly defaultDoc?: string;
  /** An absent key yields an absent property instead of an error. */
  readonly optional?: boolean;
  /** Sub-keys (objects), for docs and for "did you mean" lookups across the tree. */
  readonly fields?: Fields;
  /** Element spec (arrays), for the same reasons. */
  readonly items?: AnySpec;
  /** Set on the `modules` section: its keys are the registered modules' schemas. */
  readonly moduleMap?: true;
  /** Check and convert a value present in the file (or the default); `undefined` = reported bad. */
  readonly parse: (value: unknown, at: Path, ctx: ParseContext) => T | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: a table of specs of different value types
export type AnySpec = Spec<any>;
export type Fields = Readonly<Record<string, AnySpec>>;
export type ObjectSpec<T> = Spec<T> & { readonly fields: Fields };

/** The value type a spec produces. */
export type Infer<S> = S extends Spec<infer T> ? T : never;

type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends { readonly optional: true } ? K : never;
}[keyof F];
type Flatten<T> = { [K in keyof T]: T[K] } & {};
/** The object type a field table produces: optional specs become optional properties. */
export type InferFields<F extends Fields> = Flatten<
  { readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & {
    readonly [K in OptionalKeys<F>]?: Infer<F[K]>;
  }
>;

/** `listen[1].url`, `modules.tm.fr_timer`. */
export function formatPath(at: Path): string {
  let out = '';
  for (const seg of at) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** "got string \"abc\"", for messages about a value of the wrong kind. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') {
    const hint =
      value.trim() !== '' && Number.isFinite(Number(value)) ? ' (write numbers without quotes)' : '';
    return `string ${JSON.stringify(value)}${hint}`;
  }
  if (typeof value === 'object') return value instanceof Uint8Array ? 'binary data' : 'a mapping';
  return `${typeof value} ${String(value)}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/** What every spec constructor takes. `default` is raw, as written in YAML (see Spec.default). */
interface Common {
  doc: string;
  default?: unknown;
  defaultDoc?: string;
}

/** Marks a spec optional: an absent key is left out of the result instead of reported. */
export function optional<S extends AnySpec>(spec: S): S & { readonly optional: true } {
  return { ...spec, optional: true };
}

/** A spec from a type label and a parse function: the escape hatch for structured strings. */
export function custom<T>(
  type: string,
  opts: Common & { fields?: Fields },
  parse: (value: unknown, at: Path, ctx: ParseContext) => T | undefined,
): Spec<T> {
  return { type, ...opts, parse };
}

export function integer(opts: Common & { min?: number; max?: number; unit?: string }): Spec<number> {
  const { min, max, unit } = opts;
  let type = 'integer';
  if (min !== undefined && max !== undefined) type += ` ${min}-${max}`;
  else if (min !== undefined) type += ` ≥ ${min}`;
  if (unit !== undefined) type += ` (${unit})`;
  return {
    type,
    doc: opts.doc,
    default: opts.default,
    defaultDoc: opts.defaultDoc,
    parse(value, at, ctx) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        const what = typeof value === 'number' ? `the number ${value}` : describe(value);
        ctx.report(at, `expected ${type.startsWith('integer') ? 'an ' : 'a '}${type}, got ${what}`);
        return undefined;
      }
      if (min !== undefined && value < min) {
        // "negative" reads better than "at least 1" for a timer written as -1.
        ctx.report(
          at,
          value < 0 && min >= 0
            ? `must not be negative, got ${value}`
            : `must be at least ${min}, got ${value}`,
        );
        return undefined;
      }
      if (max !== undefined && value > max) {
        ctx.report(at, `must be at most ${max}, got ${value}`);
        return undefined;
      }
      return value;
    },
  };
}

/** A timer or timeout in milliseconds: a non-negative integer (or at least `min`). */
export function millis(opts: Common & { min?: number }): Spec<number> {
  return integer({ ...opts, min: opts.min ?? 0, unit: 'ms' });
}

/** true/false; 0/1 accepted too, since Kamailio writes its switches as integers. */
export function boolean(opts: Common): Spec<boolean> {
  return {
    type: 'boolean',
    doc: opts.doc,
    default: opts.default,
    defaultDoc: opts.defaultDoc,
    parse(value, at, ctx) {
      if (typeof value === 'boolean') return value;
      if (value === 0 || value === 1) return value === 1;
      ctx.report(at, `expected a boolean (true or false), got ${describe(value)}`);
      return undefined;
    },
  };
}

/** Kamailio/M4-style integer switch (`setvars: 1`), kept as 0 | 1 to keep the seeds' names and values. */
export function flag(opts: Common): Spec<0 | 1> {
  return {
    type: '0 | 1',
    doc: opts.doc,
    default: opts.default,
    defaultDoc: opts.defaultDoc,
    parse(value, at, ctx) {
      if (value === 0 || value === 1) return value;
      if (typeof value === 'boolean') return value ? 1 : 0;
      ctx.report(at, `expected 0 or 1, got ${describe(value)}`);
      return undefined;
    },
  };
}

export function string(opts: Common & { nonEmpty?: boolean }): Spec<string> {
  return {
    type: 'string',
    doc: opts.doc,
    default: opts.default,
    defaultDoc: opts.defaultDoc,
    parse(value, at, ctx) {
      if (typeof value !== 'string') {
        ctx.report(at, `expected a string, got ${describe(value)}`);
        return undefined;
      }
      if (opts.nonEmpty === true && value.trim() === '') {
        ctx.report(at, 'must not be empty');
        return undefined;
      }
      return value;
    },
  };
}

export function oneOf<const V extends string>(values: readonly V[], opts: Common): Spec<V> {
  return {
    type: values.join(' | '),
    doc: opts.doc,
    default: opts.default,
    defaultDoc: opts.defaultDoc,
    parse(value, at, ctx) {
      if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as V;
      const near = typeof value === 'string' ? suggest(value, values) : undefined;
      const hint = near === undefined ? '' : ` (did you mean '${near}'?)`;
      ctx.report(at, `expected one of ${values.join(', ')}, got ${describe(value)}${hint}`);
      return undefined;
    },
  };
}

/**
 * A mapping with known keys. Unknown keys are errors (a typo must not silently become a default),
 * with a suggestion; a key with no value (`tm:` followed by nothing) counts as an empty mapping.
 * `refine` runs after the fields parsed cleanly, for checks that span several keys.
 */
export function object<const F extends Fields>(
  fields: F,
  opts: {
    doc: string;
    type?: string;
    refine?: (value: InferFields<F>, at: Path, ctx: ParseContext) => void;
  },
): ObjectSpec<InferFields<F>> {
  return {
    type: opts.type ?? 'mapping',
    doc: opts.doc,
    default: {},
    fields,
    parse(value, at, ctx) {
      if (value === null) value = {};
      if (!isPlainObject(value)) {
        ctx.report(at, `expected a mapping (key: value), got ${describe(value)}`);
        return undefined;
      }
      const known = Object.keys(fields);
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(fields, key)) ctx.report([...at, key], unknownKeyMessage(key, known, at, ctx));
      }
      const out: Record<string, unknown> = {};
      let ok = true;
      for (const key of known) {
        const spec = fields[key]!;
        const present = Object.hasOwn(value, key) && value[key] !== undefined;
        if (!present && spec.optional === true) continue;
        if (!present && spec.default === undefined) {
          ctx.report([...at, key], `missing (required${spec.type === 'mapping' ? '' : `: ${spec.type}`})`);
          ok = false;
          continue;
        }
        // `key:` with nothing after it: sections and lists take it as empty, a scalar has no value.
        const isContainer = spec.fields !== undefined || spec.items !== undefined || spec.moduleMap === true;
        if (present && value[key] === null && !isContainer) {
          const dflt =
            spec.default === undefined
              ? ''
              : ` (remove the key to use the default, ${JSON.stringify(spec.default)})`;
          ctx.report([...at, key], `has no value${dflt}`);
          ok = false;
          continue;
        }
        const parsed = spec.parse(present ? value[key] : spec.default, [...at, key], ctx);
        if (parsed === undefined) ok = false;
        else out[key] = parsed;
      }
      if (!ok) return undefined;
      const result = out as InferFields<F>;
      opts.refine?.(result, at, ctx);
      return result;
    },
  };
}

/** A list; `key:` with no value counts as an empty list. */
export function array<T>(
  items: Spec<T>,
  opts: Common & { minItems?: number; refine?: (value: T[], at: Path, ctx: ParseContext) => void },
): Spec<readonly T[]> {
  return {
    type: `list of ${items.type}`,
    doc: opts.doc,
    default: opts.default,
    defaultDoc: opts.defaultDoc,
    items,
    parse(value, at, ctx) {
      if (value === null) value = [];
      if (!Array.isArray(value)) {
        ctx.report(at, `expected a list, got ${describe(value)}`);
        return undefined;
      }
      if (opts.minItems !== undefined && value.length < opts.minItems) {
        ctx.report(at, `needs at least ${opts.minItems} ${opts.minItems === 1 ? 'entry' : 'entries'}`);
        return undefined;
      }
      const out: T[] = [];
      let ok = true;
      value.forEach((item, i) => {
        const parsed = items.parse(item, [...at, i], ctx);
        if (parsed === undefined) ok = false;
        else out.push(parsed);
      });
      if (!ok) return undefined;
      opts.refine?.(out, at, ctx);
      return out;
    },
  };
}

/**
 * "unknown key 'fr_timr' (did you mean 'fr_timer'?)". When no sibling is close, a key of that exact
 * name elsewhere in the schema is suggested by its full path (`fr_timer` at the top level →
 * `modules.tm.fr_timer`), the usual mistake being the right key in the wrong section.
 */
function unknownKeyMessage(key: string, known: readonly string[], at: Path, ctx: ParseContext): string {
  const near = suggest(key, known);
  if (near !== undefined) return `unknown key (did you mean '${near}'?)`;
  const elsewhere = findKeyElsewhere(key, ctx);
  if (elsewhere !== undefined && elsewhere !== formatPath([...at, key])) {
    return `unknown key here (did you mean '${elsewhere}'?)`;
  }
  const list = known.length <= 12 ? ` (known keys: ${known.join(', ')})` : '';
  return `unknown key${list}`;
}

function findKeyElsewhere(key: string, ctx: ParseContext): string | undefined {
  const found: string[] = [];
  walkSchema(ctx.root, ctx.modules, (path) => {
    if (path.endsWith(`.${key}`) || path === key || path.endsWith(`[].${key}`)) found.push(path);
  });
  return found.length === 1 ? found[0] : undefined;
}

/**
 * Visit every documented key: `mi.http`, `listen[].url`, `modules.tm.fr_timer`. The module section
 * is expanded from the registry given, so docs and suggestions cover every registered module.
 */
export function walkSchema(
  root: AnySpec,
  modules: ModuleSchemaLookup,
  visit: (path: string, spec: AnySpec) => void,
): void {
  const walk = (spec: AnySpec, path: string): void => {
    if (path !== '') visit(path, spec);
    if (spec.fields !== undefined) {
      for (const [key, child] of Object.entries(spec.fields))
        walk(child, path === '' ? key : `${path}.${key}`);
    }
    if (spec.items !== undefined) walk(spec.items, `${path}[]`);
    if (spec.moduleMap === true) {
      for (const name of modules.names().sort()) walk(modules.get(name)!, `${path}.${name}`);
    }
  };
  walk(root, '');
}
