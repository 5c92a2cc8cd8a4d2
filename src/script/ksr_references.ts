/**
 * The KSR reference check both script languages share (TypeScript/JavaScript in check.ts, Lua in
 * lua/check.ts): each `KSR.fn` and `KSR.module.fn` must exist in the registry, with a suggestion
 * when it does not, and a handler name given as a string to KSR.tm.t_on_*('name') must be one
 * the script defines. The languages differ in their tokens, in what counts as the KSR object
 * (`isRoot`), in which missing names are deliberate (`probed`, Lua) and in how they say it.
 */
import type { ScriptError } from './errors.ts';
import { LineMap } from './lexer.ts';
import type { KsrRegistry } from './registry.ts';
import { closest } from './suggest.ts';

/** What the check reads of a token (both lexers' tokens have it). */
export interface RefToken {
  readonly type: string;
  readonly value: string;
  readonly start: number;
}

export interface RefCheckOptions {
  /** Token i names the KSR object here (not a member of something else). */
  isRoot(i: number): boolean;
  /** Names the script defines for handlers given by name; undefined skips that check. */
  handlers: ReadonlySet<string> | undefined;
  /** The message for a handler name the script does not define. */
  noHandler(name: string): string;
  /** Added to `noHandler` when there is no close name to suggest. */
  noHandlerHint: string;
  /** `fn` and `module.fn` references the script only tests for: not errors when missing. */
  probed?: ReadonlySet<string>;
}

const HANDLER_SETTERS = new Set(['t_on_branch', 't_on_reply', 't_on_failure', 't_on_branch_failure']);

const isPunct = (t: RefToken | undefined, v: string): boolean => t?.type === 'punct' && t.value === v;
const isName = (t: RefToken | undefined): t is RefToken => t?.type === 'name';
const didYouMean = (guess: string | undefined): string =>
  guess === undefined ? '' : `; did you mean ${guess}?`;

export function checkKsrReferences(
  file: string,
  source: string,
  toks: readonly RefToken[],
  registry: KsrRegistry,
  opts: RefCheckOptions,
): ScriptError[] {
  const lines = new LineMap(source);
  const errors: ScriptError[] = [];
  const at = (t: RefToken, message: string): void => {
    const { line, column } = lines.position(t.start);
    errors.push({ file, line, column, message });
  };
  const { handlers, probed } = opts;
  const modules = registry.moduleNames();
  const core = registry.functionNames('');
  for (let i = 0; i + 2 < toks.length; i++) {
    if (!opts.isRoot(i) || !isPunct(toks[i + 1], '.') || !isName(toks[i + 2])) continue;
    const a = toks[i + 2];
    if (!modules.includes(a.value)) {
      if (core.includes(a.value) || probed?.has(a.value)) continue;
      at(a, `KSR.${a.value} does not exist${didYouMean(closest(a.value, [...modules, ...core]))}`);
      continue;
    }
    if (!isPunct(toks[i + 3], '.') || !isName(toks[i + 4])) continue;
    const b = toks[i + 4];
    if (!registry.has([a.value, b.value])) {
      if (probed?.has(`${a.value}.${b.value}`)) continue;
      const guess = closest(b.value, registry.functionNames(a.value));
      at(b, `KSR.${a.value}.${b.value} does not exist${didYouMean(guess)}`);
      continue;
    }
    // KSR.tm.t_on_failure('name'): the script must define that handler.
    const arg = toks[i + 6];
    if (
      handlers !== undefined &&
      a.value === 'tm' &&
      HANDLER_SETTERS.has(b.value) &&
      isPunct(toks[i + 5], '(') &&
      arg?.type === 'string' &&
      (isPunct(toks[i + 7], ')') || isPunct(toks[i + 7], ',')) &&
      !handlers.has(arg.value)
    ) {
      const guess = closest(arg.value, handlers);
      at(
        arg,
        `${b.value}('${arg.value}'): ${opts.noHandler(arg.value)}` +
          (guess === undefined ? opts.noHandlerHint : didYouMean(guess)),
      );
    }
  }
  return errors;
}
