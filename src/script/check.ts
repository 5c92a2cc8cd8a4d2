/**
 * `junction check-script FILE` and the check every (re)load runs: the script must compile, and
 * every `KSR.module.function` it names must exist — Kamailio refuses a config that calls an
 * unknown function at startup; a dynamic script would otherwise fail on the first message that
 * reaches the typo. Handler names given as string literals to t_on_* must be exported functions.
 *
 * The scan works on tokens (comments, strings, template text and regular expressions are not
 * code). The KSR object is recognised under any name: `KSR`, the first parameter of `ksr_*` and
 * exported functions, and any identifier annotated with the KSR type (`k: KSR`, or an alias from
 * `import type { KSR as Ksr }`).
 */
import type { ModuleDefinition } from './module.ts';
import { type ScriptError, formatScriptError } from './errors.ts';
import { LineMap, type Token, tokenize } from './lexer.ts';
import { type LoadedScript, isLoadedScript, loadScript } from './loader.ts';
import { KsrRegistry } from './registry.ts';
import { closest } from './suggest.ts';

export type CheckResult = { ok: true } | { ok: false; errors: ScriptError[] };

const HANDLER_SETTERS = new Set(['t_on_branch', 't_on_reply', 't_on_failure', 't_on_branch_failure']);

async function defaultModules(): Promise<readonly ModuleDefinition[]> {
  const { MODULES } = await import('../modules/index.ts');
  return MODULES;
}

/**
 * Compile a script in isolation (its own load generation: nothing is shared with a running
 * script) and check its KSR references against the registry (default: every Junction module).
 */
export async function checkScript(path: string, opts: { registry?: KsrRegistry } = {}): Promise<CheckResult> {
  const loaded = await loadScript(path);
  if (!isLoadedScript(loaded)) return { ok: false, errors: loaded };
  const registry = opts.registry ?? new KsrRegistry(await defaultModules());
  const errors = checkLoaded(loaded, registry);
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
}

/** Check every file of a loaded script. */
export function checkLoaded(script: LoadedScript, registry: KsrRegistry): ScriptError[] {
  const exported = new Set(Object.keys(script.exports));
  const errors: ScriptError[] = [];
  for (const f of script.files) {
    if (f.path.endsWith('.json')) continue;
    errors.push(...checkSource(f.path, f.source, registry, exported));
  }
  return errors;
}

function isName(t: Token | undefined, value?: string): t is Token {
  return t !== undefined && t.type === 'name' && (value === undefined || t.value === value);
}

function isPunct(t: Token | undefined, value: string): boolean {
  return t !== undefined && t.type === 'punct' && t.value === value;
}

function isMemberAccess(prev: Token | undefined): boolean {
  return prev !== undefined && prev.type === 'punct' && (prev.value === '.' || prev.value === '?.');
}

/** Names under which the source refers to the KSR object. */
export function ksrNames(toks: readonly Token[]): Set<string> {
  const typeNames = new Set(['KSR']);
  // import type { KSR as Ksr } / import { type KSR as Ksr }
  for (let i = 0; i + 2 < toks.length; i++) {
    if (isName(toks[i], 'KSR') && isName(toks[i + 1], 'as') && isName(toks[i + 2])) typeNames.add(toks[i + 2].value);
  }
  const names = new Set(['KSR']);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    // function ksr_x(P   /   export [async] function name(P
    if (isName(t, 'function')) {
      let j = i + 1;
      if (isPunct(toks[j], '*')) j++;
      const fname = isName(toks[j]) ? toks[j].value : '';
      if (fname !== '') j++;
      const exported = isName(toks[i - 1], 'export') || (isName(toks[i - 1], 'async') && isName(toks[i - 2], 'export'));
      if (isPunct(toks[j], '(') && isName(toks[j + 1]) && (fname.startsWith('ksr_') || exported)) names.add(toks[j + 1].value);
    }
    // const ksr_x = [async] (P ... / const ksr_x = [async] P =>
    if ((isName(t, 'const') || isName(t, 'let') || isName(t, 'var')) && isName(toks[i + 1]) && isPunct(toks[i + 2], '=')) {
      const exported = isName(toks[i - 1], 'export');
      if (!toks[i + 1].value.startsWith('ksr_') && !exported) continue;
      let j = i + 3;
      if (isName(toks[j], 'async')) j++;
      if (isName(toks[j], 'function')) j++;
      if (isPunct(toks[j], '(') && isName(toks[j + 1])) names.add(toks[j + 1].value);
      else if (isName(toks[j]) && isPunct(toks[j + 1], '=>')) names.add(toks[j].value);
    }
    // P: KSR (parameters or variables annotated with the KSR type)
    if (isName(t) && isPunct(toks[i + 1], ':') && isName(toks[i + 2]) && typeNames.has(toks[i + 2].value)) {
      if (!isMemberAccess(toks[i - 1])) names.add(t.value);
    }
  }
  return names;
}

/**
 * Check one file's KSR references. `exported` is the set of functions the entry file exports
 * (handler names must be among them); undefined skips that check.
 */
export function checkSource(
  file: string,
  source: string,
  registry: KsrRegistry,
  exported: ReadonlySet<string> | undefined,
): ScriptError[] {
  const toks = tokenize(source);
  const names = ksrNames(toks);
  const lines = new LineMap(source);
  const errors: ScriptError[] = [];
  const at = (t: Token, message: string): void => {
    const { line, column } = lines.position(t.start);
    errors.push({ file, line, column, message });
  };
  const modules = registry.moduleNames();
  const core = registry.functionNames('');
  for (let i = 0; i + 2 < toks.length; i++) {
    const root = toks[i];
    if (!isName(root) || !names.has(root.value) || isMemberAccess(toks[i - 1])) continue;
    if (!isPunct(toks[i + 1], '.') || !isName(toks[i + 2])) continue;
    const a = toks[i + 2];
    const isModule = modules.includes(a.value);
    if (!isModule) {
      if (!core.includes(a.value)) {
        const guess = closest(a.value, [...modules, ...core]);
        at(a, `KSR.${a.value} does not exist${guess === undefined ? '' : `; did you mean ${guess}?`}`);
      }
      continue;
    }
    if (!isPunct(toks[i + 3], '.') || !isName(toks[i + 4])) continue;
    const b = toks[i + 4];
    if (!registry.has([a.value, b.value])) {
      const guess = closest(b.value, registry.functionNames(a.value));
      at(b, `KSR.${a.value}.${b.value} does not exist${guess === undefined ? '' : `; did you mean ${guess}?`}`);
      continue;
    }
    // KSR.tm.t_on_failure('name'): the name must be an exported function.
    const arg = toks[i + 6];
    if (
      exported !== undefined &&
      a.value === 'tm' &&
      HANDLER_SETTERS.has(b.value) &&
      isPunct(toks[i + 5], '(') &&
      arg?.type === 'string' &&
      (isPunct(toks[i + 7], ')') || isPunct(toks[i + 7], ','))
    ) {
      if (!exported.has(arg.value)) {
        const guess = closest(arg.value, exported);
        at(
          arg,
          `${b.value}('${arg.value}'): the script exports no function named ${arg.value}` +
            (guess === undefined ? ' (handlers given by name must be exported)' : `; did you mean ${guess}?`),
        );
      }
    }
  }
  return errors;
}

/** Errors as lines for the CLI (`file:line:col: message`). */
export function formatCheckErrors(errors: readonly ScriptError[]): string {
  return errors.map(formatScriptError).join('\n');
}
