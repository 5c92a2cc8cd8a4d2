/**
 * Binding JSON-RPC params to a command's recipes (OpenSIPS MI style): positional params bind in
 * recipe order, named params by name; the first recipe that fits wins. Values are coerced
 * string↔number↔bool, since the FIFO text protocol, the CLI and `mi("cmd a b")` only carry strings.
 */
import type { MiCommand, MiParam, MiParamType } from './command.ts';

export type Bound = { ok: true; values: Record<string, unknown> } | { ok: false; error: string };

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** `value` as `type`, or an Error saying why not. */
export function coerce(value: unknown, type: MiParamType): unknown {
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
        return String(value);
      return new Error('expected a string');
    case 'int': {
      const n = typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : value;
      if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
      return new Error('expected an integer');
    }
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n === 'number' && Number.isFinite(n)) return n;
      return new Error('expected a number');
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 0 || value === 1) return value === 1;
      if (typeof value === 'string') {
        const k = value.trim().toLowerCase();
        if (TRUE.has(k)) return true;
        if (FALSE.has(k)) return false;
      }
      return new Error('expected a boolean (true/false, 1/0, yes/no)');
    case 'json':
      if (typeof value === 'string') {
        try {
          return JSON.parse(value) as unknown;
        } catch {
          return value;
        }
      }
      return value;
    case 'array':
      if (Array.isArray(value)) return value;
      if (typeof value === 'string') {
        const t = value.trim();
        if (t.startsWith('[')) {
          try {
            const parsed = JSON.parse(t) as unknown;
            if (Array.isArray(parsed)) return parsed;
          } catch {
            // a plain string
          }
        }
        return [value];
      }
      return new Error('expected an array');
  }
}

function bindRecipe(recipe: readonly MiParam[], params: unknown): Bound {
  const values: Record<string, unknown> = {};
  const set = (p: MiParam, v: unknown): string | undefined => {
    if (v === undefined || v === null) {
      return p.optional === true ? undefined : `parameter '${p.name}' is required`;
    }
    const c = coerce(v, p.type);
    if (c instanceof Error) return `parameter '${p.name}': ${c.message}`;
    values[p.name] = c;
    return undefined;
  };
  if (params === undefined || Array.isArray(params)) {
    let list = (params ?? []) as unknown[];
    // A trailing array parameter takes the rest of the positional params (`get_statistics a b c`).
    const last = recipe[recipe.length - 1];
    if (last?.type === 'array' && list.length > recipe.length) {
      list = [...list.slice(0, recipe.length - 1), list.slice(recipe.length - 1)];
    }
    const required = recipe.filter((p) => p.optional !== true).length;
    if (list.length < required) return { ok: false, error: `expected at least ${required} parameter(s)` };
    if (list.length > recipe.length)
      return { ok: false, error: `expected at most ${recipe.length} parameter(s)` };
    for (let i = 0; i < recipe.length; i++) {
      const err = set(recipe[i]!, list[i]);
      if (err !== undefined) return { ok: false, error: err };
    }
    return { ok: true, values };
  }
  const named = params as Record<string, unknown>;
  for (const key of Object.keys(named)) {
    if (!recipe.some((p) => p.name === key)) return { ok: false, error: `unknown parameter '${key}'` };
  }
  for (const p of recipe) {
    const err = set(p, named[p.name]);
    if (err !== undefined) return { ok: false, error: err };
  }
  return { ok: true, values };
}

/**
 * The params bound by the first recipe that fits; otherwise the error of the recipe that came
 * closest (the last one tried when none explains better), for the -32602 message.
 */
export function bindParams(cmd: MiCommand, params: unknown): Bound {
  const recipes = cmd.recipes.length === 0 ? [[]] : cmd.recipes;
  let first: Bound | undefined;
  for (const recipe of recipes) {
    const b = bindRecipe(recipe, params);
    if (b.ok) return b;
    first ??= b;
  }
  const shapes = recipes.map(
    (r) => `[${r.map((p) => (p.optional === true ? `${p.name}?` : p.name)).join(', ')}]`,
  );
  const why = first !== undefined && !first.ok ? first.error : 'no recipe fits';
  return { ok: false, error: `${why}; ${cmd.name} takes ${shapes.join(' or ')}` };
}

/** A recipe as `which <cmd>` shows it: parameter names, optional ones with a trailing '?'. */
export function describeRecipe(recipe: readonly MiParam[]): string[] {
  return recipe.map((p) => (p.optional === true ? `${p.name}?` : p.name));
}
