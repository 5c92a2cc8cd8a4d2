/**
 * The KSR reference check for Lua scripts (check-script and every load): each `KSR.fn` and
 * `KSR.module.fn` must exist in the registry, with a suggestion when it does not, and a handler
 * name given as a string to KSR.tm.t_on_*('name') must be a global function of the script
 * (Kamailio's app_lua looks handlers up by name among the globals). Works on tokens: comments and
 * strings are not code.
 */
import type { ScriptError } from '../errors.ts';
import { checkKsrReferences } from '../ksr_references.ts';
import type { KsrRegistry } from '../registry.ts';

interface LuaToken {
  readonly type: 'name' | 'string' | 'punct' | 'number';
  readonly value: string;
  readonly start: number;
}

function isNameChar(c: number, first: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (!first && c >= 48 && c <= 57);
}

/** `[[`, `[=[`, ... at i: the number of `=` (or -1 when no long bracket opens there). */
function longBracket(src: string, i: number): number {
  if (src[i] !== '[') return -1;
  let j = i + 1;
  while (src[j] === '=') j++;
  return src[j] === '[' ? j - i - 1 : -1;
}

function skipLong(src: string, i: number, level: number): number {
  const close = `]${'='.repeat(level)}]`;
  const end = src.indexOf(close, i + level + 2);
  return end < 0 ? src.length : end + close.length;
}

/** Lua 5.4 tokens, enough for the check: names, strings (unescaped value), numbers, punctuation. */
export function tokenizeLua(src: string): LuaToken[] {
  const toks: LuaToken[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11) {
      i++;
      continue;
    }
    if (src.startsWith('--', i)) {
      const level = longBracket(src, i + 2);
      if (level >= 0) i = skipLong(src, i + 2, level);
      else {
        const nl = src.indexOf('\n', i);
        i = nl < 0 ? n : nl + 1;
      }
      continue;
    }
    if (isNameChar(c, true)) {
      const s = i;
      while (i < n && isNameChar(src.charCodeAt(i), false)) i++;
      toks.push({ type: 'name', value: src.slice(s, i), start: s });
      continue;
    }
    if (c >= 48 && c <= 57) {
      const s = i;
      while (i < n && /[0-9a-fA-FxX.pP]/.test(src[i])) i++;
      toks.push({ type: 'number', value: src.slice(s, i), start: s });
      continue;
    }
    if (c === 34 || c === 39) {
      const s = i;
      let value = '';
      i++;
      while (i < n && src.charCodeAt(i) !== c && src[i] !== '\n') {
        if (src[i] === '\\') {
          value += src[i + 1] ?? '';
          i += 2;
        } else value += src[i++];
      }
      i++;
      toks.push({ type: 'string', value, start: s });
      continue;
    }
    const level = longBracket(src, i);
    if (level >= 0) {
      const s = i;
      i = skipLong(src, i, level);
      let body = src.slice(s + level + 2, Math.max(s + level + 2, i - level - 2));
      if (body.startsWith('\n')) body = body.slice(1);
      toks.push({ type: 'string', value: body, start: s });
      continue;
    }
    toks.push({ type: 'punct', value: src[i], start: i });
    i++;
  }
  return toks;
}

const isPunct = (t: LuaToken | undefined, v: string): boolean => t?.type === 'punct' && t.value === v;
const isName = (t: LuaToken | undefined): t is LuaToken => t?.type === 'name';
const isWord = (t: LuaToken | undefined, ...words: string[]): boolean => isName(t) && words.includes(t.value);

/**
 * Whether the reference ending at token `last` only tests for existence (`not KSR.auth`,
 * `KSR.tm.x == nil`, `if KSR.auth then`, `KSR.auth and ...`): Kamailio's Lua examples probe
 * modules that way, so a missing name there is not an error.
 */
function isProbe(toks: readonly LuaToken[], first: number, last: number): boolean {
  const next = toks[last + 1];
  // Called or indexed further: a use, not a test.
  if (next?.type === 'string' || ['(', '.', ':', '[', '{'].some((p) => isPunct(next, p))) return false;
  if (isWord(toks[first - 1], 'not', 'if', 'and', 'or', 'elseif')) return true;
  const after = toks[last + 2];
  if ((isPunct(next, '=') || isPunct(next, '~')) && isPunct(after, '=')) return true;
  return isWord(next, 'then', 'and', 'or');
}

/** `KSR.<name>` starts at token i (not a field of something else). */
function isRoot(toks: readonly LuaToken[], i: number): boolean {
  const t = toks[i];
  if (!isName(t) || t.value !== 'KSR') return false;
  if (isPunct(toks[i - 1], '.') || isPunct(toks[i - 1], ':')) return false;
  return isPunct(toks[i + 1], '.') && isName(toks[i + 2]);
}

export function checkLuaSource(
  file: string,
  source: string,
  registry: KsrRegistry,
  globals: ReadonlySet<string> | undefined,
): ScriptError[] {
  const toks = tokenizeLua(source);
  // Names the script tests for (`if KSR.dialog then KSR.dialog.dlg_manage() end`): used under
  // such a guard, a module that is not loaded is the script's choice, not a typo.
  const probed = new Set<string>();
  for (let i = 0; i + 2 < toks.length; i++) {
    if (!isRoot(toks, i)) continue;
    if (isProbe(toks, i, i + 2)) probed.add(toks[i + 2].value);
    if (isPunct(toks[i + 3], '.') && isName(toks[i + 4]) && isProbe(toks, i, i + 4))
      probed.add(`${toks[i + 2].value}.${toks[i + 4].value}`);
  }
  return checkKsrReferences(file, source, toks, registry, {
    isRoot: (i) => isRoot(toks, i),
    handlers: globals,
    noHandler: (name) => `the script defines no global function ${name}`,
    noHandlerHint: '',
    probed,
  });
}
