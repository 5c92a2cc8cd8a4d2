/**
 * `*( SEMI param )` parameter lists (RFC 3261 §25.1 generic-param, §19.1.1 uri-parameters) and
 * the ordered, case-insensitive ParamList that holds them.
 */
import {
  C_PARAM,
  C_PVALUE,
  C_TOKEN,
  CHAR_CLASS,
  describeChar,
  eqIgnoreCase,
  isEscapeAt,
  parseDecimal,
  rangeEqualsLower,
  scanParamValue,
  scanQuotedString,
  scanToken,
  skipLws,
  unquoteRange,
} from './chars.ts';
import { fail, type ParseError, SipErrors } from './errors.ts';
import type { Params } from './types.ts';

type Entry = readonly [string, string | undefined];

const NO_NAMES: readonly string[] = Object.freeze([]);
const NO_VALUES: ReadonlyArray<string | undefined> = Object.freeze([]);
const NO_OFFSETS: readonly number[] = Object.freeze([]);
const NO_ENTRIES: ReadonlyArray<Entry> = Object.freeze([]);

/**
 * Immutable ordered parameters. Parsing stores only the source text and four offsets per parameter
 * (name start/end, value start/end; -1 for a flag; a quoted value's range includes its quotes), so a
 * list costs two small allocations and names/values are sliced only when asked for.
 */
export class ParamList implements Params {
  static readonly EMPTY: ParamList = new ParamList();

  private src: string;
  private offs: readonly number[];
  private cachedEntries: ReadonlyArray<Entry> | undefined;

  /**
   * `names[i]` with `values[i]` as it is to be written (`undefined` for a flag; a quoted-string value
   * keeps its quotes, e.g. `'"<urn:uuid:1>"'`).
   */
  constructor(names: readonly string[] = NO_NAMES, values: ReadonlyArray<string | undefined> = NO_VALUES) {
    this.src = '';
    this.offs = NO_OFFSETS;
    this.cachedEntries = undefined;
    if (names.length === 0) return;
    let src = '';
    const offs: number[] = [];
    for (let k = 0; k < names.length; k++) {
      src += ';';
      const ns = src.length;
      src += names[k];
      const ne = src.length;
      const v = values[k];
      if (v === undefined) offs.push(ns, ne, -1, -1);
      else {
        src += '=';
        const vs = src.length;
        src += v;
        offs.push(ns, ne, vs, src.length);
      }
    }
    this.src = src;
    this.offs = offs;
  }

  /** The parser's path: `offsets` holds [nameStart, nameEnd, valueStart, valueEnd] per parameter in `src`. */
  static fromOffsets(src: string, offsets: readonly number[]): ParamList {
    if (offsets.length === 0) return ParamList.EMPTY;
    const p = new ParamList();
    p.src = src;
    p.offs = offsets;
    return p;
  }

  /** Build from [name, value-as-written] pairs. */
  static from(entries: ReadonlyArray<readonly [string, string | undefined]>): ParamList {
    const names: string[] = [];
    const values: Array<string | undefined> = [];
    for (const [name, value] of entries) {
      names.push(name);
      values.push(value);
    }
    return new ParamList(names, values);
  }

  get size(): number {
    return this.offs.length >> 2;
  }

  /** Name of the k-th parameter as written (0-based, wire order). */
  nameAt(k: number): string {
    return this.src.slice(this.offs[k * 4], this.offs[k * 4 + 1]);
  }

  /** Length of the k-th parameter's name. */
  nameLengthAt(k: number): number {
    return this.offs[k * 4 + 1] - this.offs[k * 4];
  }

  /** True when the k-th parameter's name equals `lower` (an all-lower-case literal), ignoring case. */
  nameIs(k: number, lower: string): boolean {
    return rangeEqualsLower(this.src, this.offs[k * 4], this.offs[k * 4 + 1], lower);
  }

  /** Value of the k-th parameter as written (quotes kept); undefined for a flag. */
  rawAt(k: number): string | undefined {
    const vs = this.offs[k * 4 + 2];
    return vs < 0 ? undefined : this.src.slice(vs, this.offs[k * 4 + 3]);
  }

  /** Value of the k-th parameter unquoted, quoted-pairs resolved; undefined for a flag. */
  valueAt(k: number): string | undefined {
    const vs = this.offs[k * 4 + 2];
    if (vs < 0) return undefined;
    const ve = this.offs[k * 4 + 3];
    const src = this.src;
    if (ve - vs >= 2 && src.charCodeAt(vs) === 0x22 && src.charCodeAt(ve - 1) === 0x22) {
      return unquoteRange(src, vs + 1, ve - 1);
    }
    return src.slice(vs, ve);
  }

  /** The k-th value as a decimal number at most `max`; -1 for a flag or anything else. No allocation. */
  numberAt(k: number, max: number): number {
    const vs = this.offs[k * 4 + 2];
    return vs < 0 ? -1 : parseDecimal(this.src, vs, this.offs[k * 4 + 3], max);
  }

  /** Index of the first parameter called `name` (any case), -1 when absent. */
  indexOf(name: string): number {
    const offs = this.offs;
    const src = this.src;
    const len = name.length;
    outer: for (let k = 0; k < offs.length; k += 4) {
      const ns = offs[k];
      if (offs[k + 1] - ns !== len) continue;
      for (let i = 0; i < len; i++) {
        let a = src.charCodeAt(ns + i);
        let b = name.charCodeAt(i);
        if (a === b) continue;
        if (a >= 0x41 && a <= 0x5a) a |= 0x20;
        if (b >= 0x41 && b <= 0x5a) b |= 0x20;
        if (a !== b) continue outer;
      }
      return k >> 2;
    }
    return -1;
  }

  get(name: string): string | undefined {
    const k = this.indexOf(name);
    if (k < 0) return undefined;
    return this.valueAt(k) ?? '';
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  /** The value as written (quotes kept); '' for a flag, undefined when absent. */
  getRaw(name: string): string | undefined {
    const k = this.indexOf(name);
    if (k < 0) return undefined;
    return this.rawAt(k) ?? '';
  }

  /** True when the parameter is present without `=value` (`;lr`). */
  isFlag(name: string): boolean {
    const k = this.indexOf(name);
    return k >= 0 && this.offs[k * 4 + 2] < 0;
  }

  entries(): ReadonlyArray<Entry> {
    let e = this.cachedEntries;
    if (e === undefined) {
      const n = this.size;
      if (n === 0) e = NO_ENTRIES;
      else {
        const out: Entry[] = [];
        for (let k = 0; k < n; k++) out.push([this.nameAt(k), this.valueAt(k)]);
        e = out;
      }
      this.cachedEntries = e;
    }
    return e;
  }

  private parts(): [string[], Array<string | undefined>] {
    const names: string[] = [];
    const raws: Array<string | undefined> = [];
    for (let k = 0; k < this.size; k++) {
      names.push(this.nameAt(k));
      raws.push(this.rawAt(k));
    }
    return [names, raws];
  }

  /** A copy with `name` set to `value` (as written; undefined for a flag), replacing the first one. */
  with(name: string, value: string | undefined): ParamList {
    const [names, raws] = this.parts();
    const k = this.indexOf(name);
    if (k < 0) {
      names.push(name);
      raws.push(value);
    } else {
      raws[k] = value;
    }
    return new ParamList(names, raws);
  }

  /** A copy without any parameter called `name`. */
  without(name: string): ParamList {
    if (this.indexOf(name) < 0) return this;
    const [names, raws] = this.parts();
    const keepNames: string[] = [];
    const keepRaws: Array<string | undefined> = [];
    for (let k = 0; k < names.length; k++) {
      if (!eqIgnoreCase(names[k], name)) {
        keepNames.push(names[k]);
        keepRaws.push(raws[k]);
      }
    }
    return keepNames.length === 0 ? ParamList.EMPTY : new ParamList(keepNames, keepRaws);
  }

  toString(): string {
    const offs = this.offs;
    const src = this.src;
    let out = '';
    for (let k = 0; k < offs.length; k += 4) {
      out += `;${src.slice(offs[k], offs[k + 1])}`;
      if (offs[k + 2] >= 0) out += `=${src.slice(offs[k + 2], offs[k + 3])}`;
    }
    return out;
  }
}

export interface ParsedParams {
  params: ParamList;
  /** Index of the first character after the list (trailing LWS consumed in header mode). */
  end: number;
}

/**
 * Parse `*( SEMI param )` starting at `pos`.
 *
 * Header mode (`uri` false): `param = token [ EQUAL ( token / host / quoted-string ) ]` with LWS allowed
 * around `;` and `=`. The list must end at the end of `s`, or at a top-level `,` when `stopAtComma`.
 *
 * URI mode (`uri` true, RFC 3261 §19.1.1 uri-parameters): names and values are `1*paramchar` with
 * `%HH` escapes, no LWS, no quoted strings; the list ends at the end of `s` or at `?`.
 *
 * Empty parameters (`;;`, a trailing `;`) and `name=` without a value are errors.
 */
export function parseParams(
  s: string,
  pos: number,
  stopAtComma: boolean,
  uri = false,
): ParsedParams | ParseError {
  const r = parseParamList(s, pos, stopAtComma, uri);
  return r instanceof ParamList ? { params: r, end: listEnd } : r;
}

/** Where the list the last parseParamList call read ends (ParsedParams.end). */
let listEnd = 0;

/**
 * parseParams without its result object (the hot path parses a list per Via, URI and name-addr):
 * the list, its end then read with lastParamsEnd() before the next call.
 */
export function parseParamList(
  s: string,
  pos: number,
  stopAtComma: boolean,
  uri = false,
): ParamList | ParseError {
  return uri ? parseParamsGeneral(s, pos, stopAtComma, true) : parseHeaderParamsFast(s, pos, stopAtComma);
}

/** End of the list the last parseParamList call read. */
export function lastParamsEnd(): number {
  return listEnd;
}

/**
 * Offsets of the list being parsed (reused; a ParamList gets an exact-size copy). Parsing is
 * synchronous and not reentrant: the fast path hands over to the general one by starting over.
 */
const SCRATCH: number[] = [];

/**
 * Header-mode fast path for the common shape (`;name=value;flag` with no LWS): one tight loop, no
 * helper calls. Anything else (LWS, errors) is handed to the general parser, which starts over.
 */
function parseHeaderParamsFast(s: string, pos: number, stopAtComma: boolean): ParamList | ParseError {
  const n = s.length;
  const offs = SCRATCH;
  let count = 0;
  let i = pos;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (c !== 0x3b) break;
    const ns = ++i;
    while (i < n) {
      c = s.charCodeAt(i);
      if (c >= 128 || (CHAR_CLASS[c] & C_TOKEN) === 0) break;
      i++;
    }
    const ne = i;
    if (ne === ns) return parseParamsGeneral(s, pos, stopAtComma, false);
    let vs = -1;
    let ve = -1;
    if (i < n && c === 0x3d) {
      vs = ++i;
      if (i < n && s.charCodeAt(i) === 0x22) {
        i = scanQuotedString(s, i);
        if (i < 0) return parseParamsGeneral(s, pos, stopAtComma, false);
      } else {
        while (i < n) {
          c = s.charCodeAt(i);
          if (c >= 128 || (CHAR_CLASS[c] & C_PVALUE) === 0) break;
          i++;
        }
        if (i === vs || s.charCodeAt(vs) === 0x3d) return parseParamsGeneral(s, pos, stopAtComma, false);
      }
      ve = i;
    }
    offs[count] = ns;
    offs[count + 1] = ne;
    offs[count + 2] = vs;
    offs[count + 3] = ve;
    count += 4;
  }
  if (i < n && !(stopAtComma && s.charCodeAt(i) === 0x2c))
    return parseParamsGeneral(s, pos, stopAtComma, false);
  listEnd = i;
  return count === 0 ? ParamList.EMPTY : ParamList.fromOffsets(s, offs.slice(0, count));
}

function parseParamsGeneral(
  s: string,
  pos: number,
  stopAtComma: boolean,
  uri: boolean,
): ParamList | ParseError {
  const n = s.length;
  const offs = SCRATCH;
  let count = 0;
  let i = pos;
  let lastStart = -1;
  let lastEnd = -1;
  for (;;) {
    const j = uri ? i : skipLws(s, i);
    if (j >= n) {
      i = n;
      break;
    }
    const c = s.charCodeAt(j);
    if (c !== 0x3b /* ; */) {
      i = j;
      if (uri ? c === 0x3f /* ? */ : c === 0x2c /* , */ && stopAtComma) break;
      const after = lastStart < 0 ? 'parameters' : `parameter "${s.slice(lastStart, lastEnd)}"`;
      if (uri && (c === 0x20 || c === 0x09)) return fail(SipErrors.PARAM, `whitespace after ${after} in URI`);
      return fail(SipErrors.PARAM, `unexpected ${describeChar(s, j)} after ${after}`);
    }
    const nameStart = uri ? j + 1 : skipLws(s, j + 1);
    const nameEnd = uri ? scanParamChars(s, nameStart) : scanToken(s, nameStart);
    if (nameEnd < 0) return fail(SipErrors.PARAM, `invalid % escape in URI parameter name`);
    if (nameEnd === nameStart) {
      const d = nameStart < n ? s.charCodeAt(nameStart) : -1;
      if (d === -1 || d === 0x3b || d === 0x2c || d === 0x3f) return fail(SipErrors.PARAM, 'empty parameter');
      return fail(SipErrors.PARAM, `invalid ${describeChar(s, nameStart)} in parameter name`);
    }
    lastStart = nameStart;
    lastEnd = nameEnd;
    let k = uri ? nameEnd : skipLws(s, nameEnd);
    let vs = -1;
    let ve = -1;
    if (k < n && s.charCodeAt(k) === 0x3d /* = */) {
      k = uri ? k + 1 : skipLws(s, k + 1);
      if (!uri && k < n && s.charCodeAt(k) === 0x22 /* " */) {
        const e = scanQuotedString(s, k);
        if (e < 0) {
          const name = s.slice(nameStart, nameEnd);
          return fail(SipErrors.QUOTED_STRING, `unterminated quoted string in parameter "${name}"`);
        }
        vs = k;
        ve = e;
      } else {
        const e = uri ? scanParamChars(s, k) : scanParamValue(s, k);
        const name = e <= k ? s.slice(nameStart, nameEnd) : '';
        if (e < 0) return fail(SipErrors.PARAM, `invalid % escape in URI parameter "${name}"`);
        if (e === k) {
          if (k >= n) return fail(SipErrors.PARAM, `missing value after "=" in parameter "${name}"`);
          return fail(SipErrors.PARAM, `invalid ${describeChar(s, k)} in value of parameter "${name}"`);
        }
        vs = k;
        ve = e;
      }
      i = ve;
    } else {
      i = nameEnd;
    }
    offs[count] = nameStart;
    offs[count + 1] = nameEnd;
    offs[count + 2] = vs;
    offs[count + 3] = ve;
    count += 4;
  }
  listEnd = i;
  return count === 0 ? ParamList.EMPTY : ParamList.fromOffsets(s, offs.slice(0, count));
}

/** paramchar run with `%HH` checked; -1 on a bad escape. Non-ASCII is tolerated (liberal, never a delimiter). */
function scanParamChars(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (!isEscapeAt(s, i)) return -1;
      i += 3;
      continue;
    }
    if (c < 128 ? (CHAR_CLASS[c] & C_PARAM) === 0 : c < 0xa0) break;
    i++;
  }
  return i;
}
