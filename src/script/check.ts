/**
 * `junction check-script FILE` and the check every (re)load runs: the script must compile, and
 * every `KSR.module.function` it names must exist — Kamailio refuses a config that calls an
 * unknown function at startup; a dynamic script would otherwise fail on the first message that
 * reaches the typo. Handler names given as string literals to t_on_* must be exported functions.
 *
 * The scan works on tokens (comments, strings, template text and regular expressions are not
 * code). The KSR object is recognised under any name: `KSR`, the first parameter of `ksr_*`
 * functions and of handlers given to t_on_*, and identifiers annotated with the KSR type (`k: KSR`,
 * or an alias from `import type { KSR as Ksr }`) — each only within its function or block, so a
 * short name reused for something else elsewhere is not mistaken for KSR.
 */

import { formatScriptError, type ScriptError } from './errors.ts';
import { checkKsrReferences } from './ksr_references.ts';
import { type Token, tokenize } from './lexer.ts';
import { isLoadedScript, type LoadedScript, loadScript } from './loader.ts';
import { checkLuaSource } from './lua/check.ts';
import { defaultRegistry, type KsrRegistry } from './registry.ts';

export type CheckResult = { ok: true } | { ok: false; errors: ScriptError[] };

/**
 * Compile a script in isolation (its own load generation: nothing is shared with a running
 * script) and check its KSR references against the registry (default: every Junction module).
 */
export async function checkScript(path: string, opts: { registry?: KsrRegistry } = {}): Promise<CheckResult> {
  const registry = opts.registry ?? (await defaultRegistry());
  const loaded = await loadScript(path, { registry });
  if (!isLoadedScript(loaded)) return { ok: false, errors: loaded };
  const errors = checkLoaded(loaded, registry);
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
}

/** Check every file of a loaded script. */
export function checkLoaded(script: LoadedScript, registry: KsrRegistry): ScriptError[] {
  const exported = new Set(Object.keys(script.exports));
  const errors: ScriptError[] = [];
  for (const f of script.files) {
    if (f.path.endsWith('.json')) continue;
    if (f.path.endsWith('.lua')) {
      errors.push(...checkLuaSource(f.path, f.source, registry, exported));
      continue;
    }
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

/** Index of the bracket closing the one at i (or the last token). */
function matching(toks: readonly Token[], i: number): number {
  let d = 0;
  for (let j = i; j < toks.length; j++) {
    const v = toks[j].type === 'punct' ? toks[j].value : '';
    if (v === '(' || v === '[' || v === '{') d++;
    else if (v === ')' || v === ']' || v === '}') d--;
    if (d === 0) return j;
  }
  return toks.length - 1;
}

/** Where a function whose parameter list opens at token `open` ends (its body's closing brace). */
function functionEnd(toks: readonly Token[], open: number): number {
  let j = matching(toks, open) + 1;
  // Skip a return type annotation and the arrow up to the body.
  while (j < toks.length && !isPunct(toks[j], '{') && !isPunct(toks[j], '=>')) j++;
  if (isPunct(toks[j], '=>')) j++;
  if (isPunct(toks[j], '{')) return matching(toks, j);
  // An expression body: up to the end of the statement.
  let d = 0;
  for (; j < toks.length; j++) {
    const v = toks[j].type === 'punct' ? toks[j].value : '';
    if (v === '(' || v === '[' || v === '{') d++;
    else if (v === ')' || v === ']' || v === '}') {
      if (d === 0) return j;
      d--;
    } else if (d === 0 && (v === ';' || v === ',')) return j;
  }
  return toks.length - 1;
}

/** The innermost `{ ... }` block around token i (the whole file at top level), as token indexes. */
function enclosingBlock(toks: readonly Token[], i: number): [number, number] {
  let d = 0;
  for (let j = i - 1; j >= 0; j--) {
    const v = toks[j].type === 'punct' ? toks[j].value : '';
    if (v === '}') d++;
    else if (v === '{') {
      if (d === 0) return [j, matching(toks, j)];
      d--;
    }
  }
  return [0, toks.length - 1];
}

/** Names under which the source refers to the KSR object, each with the offset ranges where it does. */
export type KsrNames = Map<string, Array<[number, number]>>;

/**
 * `KSR` everywhere; the first parameter of route functions (`ksr_*`) and of functions given to
 * t_on_* (by name or by reference), within that function; identifiers annotated with the KSR type
 * (or an alias from `import type { KSR as Ksr }`), within the enclosing block.
 */
export function ksrNames(toks: readonly Token[]): KsrNames {
  const typeNames = new Set(['KSR']);
  const handlers = new Set<string>();
  for (let i = 0; i + 2 < toks.length; i++) {
    if (isName(toks[i], 'KSR') && isName(toks[i + 1], 'as') && isName(toks[i + 2]))
      typeNames.add(toks[i + 2].value);
    if (isName(toks[i]) && toks[i].value.startsWith('t_on_') && isPunct(toks[i + 1], '(')) {
      const arg = toks[i + 2];
      if (arg.type === 'string' || arg.type === 'name') handlers.add(arg.value);
    }
  }
  const names: KsrNames = new Map([['KSR', [[0, Number.MAX_SAFE_INTEGER]]]]);
  const add = (name: string, from: number, to: number): void => {
    const ranges = names.get(name);
    const range: [number, number] = [toks[from].start, toks[to].end];
    if (ranges === undefined) names.set(name, [range]);
    else ranges.push(range);
  };
  const isRoute = (fname: string): boolean => fname.startsWith('ksr_') || handlers.has(fname);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    // function ksr_x(P ...) { ... }
    if (isName(t, 'function')) {
      let j = i + 1;
      if (isPunct(toks[j], '*')) j++;
      if (isName(toks[j]) && isPunct(toks[j + 1], '(') && isName(toks[j + 2]) && isRoute(toks[j].value)) {
        add(toks[j + 2].value, j + 2, functionEnd(toks, j + 1));
      }
    }
    // const ksr_x = [async] (P ...) => ... / [async] P => ... / [async] function (P ...) { ... }
    if (
      (isName(t, 'const') || isName(t, 'let') || isName(t, 'var')) &&
      isName(toks[i + 1]) &&
      isPunct(toks[i + 2], '=')
    ) {
      if (!isRoute(toks[i + 1].value)) continue;
      let j = i + 3;
      if (isName(toks[j], 'async')) j++;
      if (isName(toks[j], 'function')) j++;
      if (isPunct(toks[j], '(') && isName(toks[j + 1])) add(toks[j + 1].value, j + 1, functionEnd(toks, j));
      else if (isName(toks[j]) && isPunct(toks[j + 1], '=>')) add(toks[j].value, j, functionEnd(toks, j + 1));
    }
    // P: KSR — a parameter or a variable with the KSR type.
    if (isName(t) && isPunct(toks[i + 1], ':') && isName(toks[i + 2]) && typeNames.has(toks[i + 2].value)) {
      if (!isMemberAccess(toks[i - 1])) add(t.value, i, enclosingBlock(toks, i)[1]);
    }
  }
  return names;
}

function inScope(names: KsrNames, name: string, offset: number): boolean {
  const ranges = names.get(name);
  return ranges?.some(([a, b]) => offset >= a && offset <= b) === true;
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
  return checkKsrReferences(file, source, toks, registry, {
    isRoot: (i) => {
      const root = toks[i];
      return isName(root) && inScope(names, root.value, root.start) && !isMemberAccess(toks[i - 1]);
    },
    handlers: exported,
    noHandler: (name) => `the script exports no function named ${name}`,
    noHandlerHint: ' (handlers given by name must be exported)',
  });
}

/** Errors as lines for the CLI (`file:line:col: message`). */
export function formatCheckErrors(errors: readonly ScriptError[]): string {
  return errors.map(formatScriptError).join('\n');
}
