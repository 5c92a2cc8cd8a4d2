/**
 * A small JavaScript/TypeScript tokenizer: enough to find import/export statements and `KSR.a.b`
 * references without being fooled by comments, strings, template literals and regular
 * expressions. It is not a parser and never fails: unterminated constructs end at end of input
 * (the real parser, swc inside Node's type stripper, reports those errors first).
 */

export type TokenType = 'name' | 'punct' | 'string' | 'template' | 'number' | 'regex' | 'private';

export interface Token {
  readonly type: TokenType;
  /** Identifier or punctuator text; a string literal's decoded value; raw text otherwise. */
  readonly value: string;
  readonly start: number;
  readonly end: number;
  /** A line break separates this token from the previous one (for ASI decisions). */
  readonly nl: boolean;
}

const PUNCTUATORS = [
  '>>>=',
  '...',
  '===',
  '!==',
  '**=',
  '<<=',
  '>>=',
  '>>>',
  '&&=',
  '||=',
  '??=',
  '=>',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '??',
  '?.',
  '++',
  '--',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '**',
  '<<',
  '>>',
];

/** After these keywords a `/` starts a regular expression, not a division. */
const REGEX_AFTER_KEYWORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

function isIdStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x24 || c >= 0x80;
}

function isIdPart(c: number): boolean {
  return isIdStart(c) || (c >= 0x30 && c <= 0x39);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLineBreak(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}

function regexAllowed(prev: Token | undefined): boolean {
  if (prev === undefined) return true;
  if (prev.type === 'name') return REGEX_AFTER_KEYWORD.has(prev.value);
  if (prev.type === 'punct')
    return !(
      prev.value === ')' ||
      prev.value === ']' ||
      prev.value === '}' ||
      prev.value === '++' ||
      prev.value === '--'
    );
  return false;
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  v: '\v',
  0: '\0',
};

/** Decode the common escapes of a string literal body (enough for module specifiers and names). */
function decodeString(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch !== '\\' || i + 1 >= raw.length) {
      out += ch;
      continue;
    }
    const n = raw[++i];
    if (n === 'u' && raw[i + 1] === '{') {
      const close = raw.indexOf('}', i);
      out += String.fromCodePoint(Number.parseInt(raw.slice(i + 2, close), 16));
      i = close;
    } else if (n === 'u') {
      out += String.fromCharCode(Number.parseInt(raw.slice(i + 1, i + 5), 16));
      i += 4;
    } else if (n === 'x') {
      out += String.fromCharCode(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (n === '\r' || n === '\n') {
      if (n === '\r' && raw[i + 1] === '\n') i++;
    } else {
      out += ESCAPES[n] ?? n;
    }
  }
  return out;
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const n = src.length;
  let i = 0;
  let nl = false;
  let prev: Token | undefined;
  // Brace depth at which each open template substitution `${` resumes its template.
  const templateStack: number[] = [];
  let depth = 0;

  const push = (type: TokenType, value: string, start: number, end: number): void => {
    prev = { type, value, start, end, nl };
    out.push(prev);
    nl = false;
  };

  /** Scan template characters from i (just after ` or }) up to the next ${ or closing backtick. */
  const scanTemplate = (start: number): void => {
    while (i < n) {
      const c = src.charCodeAt(i);
      if (c === 0x5c) i += 2;
      else if (c === 0x60) {
        i++;
        push('template', src.slice(start, i), start, i);
        return;
      } else if (c === 0x24 && src.charCodeAt(i + 1) === 0x7b) {
        i += 2;
        push('template', src.slice(start, i), start, i);
        templateStack.push(depth);
        depth++;
        return;
      } else i++;
    }
    push('template', src.slice(start, n), start, n);
  };

  if (src.startsWith('#!')) {
    while (i < n && !isLineBreak(src.charCodeAt(i))) i++;
  }
  while (i < n) {
    const c = src.charCodeAt(i);
    if (isLineBreak(c)) {
      nl = true;
      i++;
      continue;
    }
    if (c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0xa0 || c === 0xfeff) {
      i++;
      continue;
    }
    const start = i;
    if (c === 0x2f) {
      const d = src.charCodeAt(i + 1);
      if (d === 0x2f) {
        while (i < n && !isLineBreak(src.charCodeAt(i))) i++;
        continue;
      }
      if (d === 0x2a) {
        const close = src.indexOf('*/', i + 2);
        const end = close < 0 ? n : close + 2;
        for (let k = i; k < end; k++) if (isLineBreak(src.charCodeAt(k))) nl = true;
        i = end;
        continue;
      }
      if (regexAllowed(prev)) {
        i++;
        let inClass = false;
        while (i < n) {
          const r = src.charCodeAt(i);
          if (r === 0x5c) i += 2;
          else if (isLineBreak(r)) break;
          else if (r === 0x5b || r === 0x5d) {
            inClass = r === 0x5b;
            i++;
          } else if (r === 0x2f && !inClass) {
            i++;
            break;
          } else i++;
        }
        while (i < n && isIdPart(src.charCodeAt(i))) i++;
        push('regex', src.slice(start, i), start, i);
        continue;
      }
    }
    if (isIdStart(c)) {
      i++;
      while (i < n && isIdPart(src.charCodeAt(i))) i++;
      push('name', src.slice(start, i), start, i);
      continue;
    }
    if (c === 0x23 && i + 1 < n && isIdStart(src.charCodeAt(i + 1))) {
      i += 2;
      while (i < n && isIdPart(src.charCodeAt(i))) i++;
      push('private', src.slice(start, i), start, i);
      continue;
    }
    if (isDigit(c) || (c === 0x2e && isDigit(src.charCodeAt(i + 1)))) {
      i++;
      while (i < n) {
        const d = src.charCodeAt(i);
        const expSign =
          (d === 0x2b || d === 0x2d) &&
          (src[i - 1] === 'e' || src[i - 1] === 'E') &&
          !/^0[xX]/.test(src.slice(start, i));
        if (isIdPart(d) || d === 0x2e || expSign) i++;
        else break;
      }
      push('number', src.slice(start, i), start, i);
      continue;
    }
    if (c === 0x22 || c === 0x27) {
      i++;
      while (i < n) {
        const d = src.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else if (d === c) break;
        else if (d === 0x0a) break;
        else i++;
      }
      const body = src.slice(start + 1, Math.min(i, n));
      if (i < n && src.charCodeAt(i) === c) i++;
      push('string', decodeString(body), start, i);
      continue;
    }
    if (c === 0x60) {
      i++;
      scanTemplate(start);
      continue;
    }
    if (c === 0x7b) depth++;
    if (c === 0x7d) {
      if (templateStack.length > 0 && templateStack[templateStack.length - 1] === depth - 1) {
        templateStack.pop();
        depth--;
        i++;
        scanTemplate(start);
        continue;
      }
      depth--;
    }
    let p = src[i];
    for (const cand of PUNCTUATORS) {
      if (src.startsWith(cand, i)) {
        p = cand;
        break;
      }
    }
    // `?.5` is a conditional followed by a number, not optional chaining.
    if (p === '?.' && isDigit(src.charCodeAt(i + 2))) p = '?';
    i += p.length;
    push('punct', p, start, i);
  }
  return out;
}

/** 1-based line and column of an offset (columns count UTF-16 code units, as V8's do). */
export class LineMap {
  private readonly starts: number[] = [0];

  constructor(src: string) {
    for (let i = 0; i < src.length; i++) {
      const c = src.charCodeAt(i);
      if (c === 0x0a || c === 0x2028 || c === 0x2029) this.starts.push(i + 1);
      else if (c === 0x0d && src.charCodeAt(i + 1) !== 0x0a) this.starts.push(i + 1);
    }
  }

  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}
