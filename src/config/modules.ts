/**
 * Per-module parameter schemas. A module folder declares its parameters as a field table and
 * registers it under its name; `modules.<name>` in a config is then validated against that table,
 * and an unregistered name is an error (a misspelt module must not be silently ignored).
 *
 * Registration must happen before the config is loaded: modules register at import time, and the
 * CLI imports `src/modules/index.ts` (when it exists) before reading the config.
 */
import { TM_FIELDS } from './modules_builtin.ts';
import {
  type Fields,
  type InferFields,
  type ModuleSchemaLookup,
  type ObjectSpec,
  object,
  type ParseContext,
  type Path,
} from './spec.ts';

export interface ModuleSchemaOptions<F extends Fields> {
  /** One line on what the module does, for the docs. */
  doc?: string;
  /** Checks spanning several parameters, run once each parameter is valid on its own. */
  refine?: (value: InferFields<F>, at: Path, ctx: ParseContext) => void;
}

export interface ModuleRegistry extends ModuleSchemaLookup {
  /** Register a module's parameter table; returns its spec, whose inferred type types the params. */
  register<const F extends Fields>(
    name: string,
    fields: F,
    options?: ModuleSchemaOptions<F>,
  ): ObjectSpec<InferFields<F>>;
  has(name: string): boolean;
}

const MODULE_NAME = /^[a-z][a-z0-9_]*$/;

/** A registry; with `builtins` (the default) it starts with tm (modules_builtin.ts); exec registers from src/modules/exec/params.ts. */
export function createModuleRegistry(options: { builtins?: boolean } = {}): ModuleRegistry {
  const specs = new Map<string, ObjectSpec<unknown>>();
  const registry: ModuleRegistry = {
    register(name, fields, opts = {}) {
      if (!MODULE_NAME.test(name))
        throw new Error(`module name ${JSON.stringify(name)} must match ${MODULE_NAME}`);
      if (specs.has(name)) throw new Error(`module ${name}: parameter schema registered twice`);
      const spec = object(fields, {
        doc: opts.doc ?? `Parameters of the ${name} module.`,
        refine: opts.refine,
      });
      specs.set(name, spec as ObjectSpec<unknown>);
      return spec;
    },
    has: (name) => specs.has(name),
    get: (name) => specs.get(name),
    names: () => [...specs.keys()],
  };
  if (options.builtins !== false) registerBuiltins(registry);
  return registry;
}

function registerBuiltins(registry: ModuleRegistry): void {
  registry.register('tm', TM_FIELDS, {
    doc: 'Transaction timers.',
    refine(tm, at, ctx) {
      if (tm.t2 < tm.t1) ctx.report([...at, 't2'], `must not be below t1 (${tm.t1} ms), got ${tm.t2}`);
    },
  });
}

/** The process-wide registry that loadConfig uses unless given another. */
export const moduleSchemas: ModuleRegistry = createModuleRegistry();

/**
 * Declare a module's parameters (call once, at import time of the module's folder):
 *
 *     export const params = registerModuleSchema('registrar', {
 *       use_domain: flag({ doc: 'AORs include the domain.', default: 0 }),
 *     });
 *     type RegistrarParams = Infer<typeof params>;  // config.modules.registrar as RegistrarParams
 */
export function registerModuleSchema<const F extends Fields>(
  name: string,
  fields: F,
  options?: ModuleSchemaOptions<F>,
): ObjectSpec<InferFields<F>> {
  return moduleSchemas.register(name, fields, options);
}
