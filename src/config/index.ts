/**
 * The config layer's public API: load a YAML file into a typed, frozen Config, or get every
 * problem with its key path; let modules declare their parameters.
 */
export {
  type ConfigResult,
  defaultConfig,
  formatConfigError,
  type LoadOptions,
  loadConfig,
  parseConfig,
} from './load.ts';
export {
  createModuleRegistry,
  type ModuleRegistry,
  type ModuleSchemaOptions,
  moduleSchemas,
  registerModuleSchema,
} from './modules.ts';
export { configSchema, DEFAULT_SCRIPT, REPO_ROOT } from './schema.ts';
export {
  array,
  boolean,
  type ConfigError,
  custom,
  flag,
  type Infer,
  type InferFields,
  integer,
  millis,
  object,
  oneOf,
  optional,
  type ParseContext,
  type Path,
  type Spec,
  string,
} from './spec.ts';
export type * from './types.ts';
