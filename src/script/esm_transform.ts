/**
 * Turns an ES module's source (already free of TypeScript types) into the body of an async
 * function, so a routing script can be evaluated with indirect eval and garbage-collected when it
 * is replaced. (vm.SourceTextModule, vm.Script and vm.compileFunction all leak every compiled unit
 * in Node 24 — nodejs/node#59118 — and import() caches modules forever; eval'd code is collected.)
 *
 * Every line keeps its number: import/export syntax is blanked in place (line breaks kept) and the
 * bindings it declared are created by a prefix placed on the wrapper's first line. Semantics kept:
 * imports are hoisted (dependencies are evaluated first, in order), exports are live (getters
 * over the module's bindings), `import.meta` and dynamic `import()` work. Not kept: importers see
 * a snapshot of an imported binding taken when they start (reassigning an exported `let` later is
 * not seen), and circular imports are refused by the loader.
 */
import { type Token, tokenize } from './lexer.ts';

/** One static dependency: `import ... from 'specifier'` or `export ... from 'specifier'`. */
export interface ModuleRequest {
  readonly specifier: string;
  /** Offset of the specifier string (for error positions). */
  readonly offset: number;
  /** Import attributes (`with { type: 'json' }`). */
  readonly attributes: Readonly<Record<string, string>>;
  /** Names this module imports from it, with the offset of each (checked after loading). */
  readonly names: Array<{ name: string; offset: number }>;
}

export interface TransformedModule {
  /** The module body: same line structure as the input. */
  readonly body: string;
  /** Statements (one line, no line break) that run before the body: import bindings, exports. */
  readonly prefix: string;
  readonly requests: readonly ModuleRequest[];
}

export interface TransformError {
  readonly offset: number;
  readonly message: string;
}

interface Edit {
  start: number;
  end: number;
  text: string | null; // null: blank (spaces, line breaks kept)
}

const CONTINUES_EXPRESSION = new Set(['in', 'instanceof', 'of', 'as', 'satisfies']);

function opens(t: Token): number {
  if (t.type === 'punct') return t.value === '(' || t.value === '[' || t.value === '{' ? 1 : 0;
  if (t.type === 'template') return t.value.endsWith('${') ? 1 : 0;
  return 0;
}

function closes(t: Token): number {
  if (t.type === 'punct') return t.value === ')' || t.value === ']' || t.value === '}' ? 1 : 0;
  if (t.type === 'template') return t.value.startsWith('}') ? 1 : 0;
  return 0;
}

function canEndExpression(t: Token): boolean {
  if (
    t.type === 'name' ||
    t.type === 'number' ||
    t.type === 'string' ||
    t.type === 'regex' ||
    t.type === 'private'
  ) {
    return true;
  }
  if (t.type === 'template') return t.value.endsWith('`') && t.value.length > 1;
  return t.value === ')' || t.value === ']' || t.value === '}' || t.value === '++' || t.value === '--';
}

function startsStatement(t: Token): boolean {
  if (t.type === 'name') return !CONTINUES_EXPRESSION.has(t.value);
  if (t.type === 'punct')
    return t.value === '{' || t.value === '++' || t.value === '--' || t.value === '!' || t.value === '~';
  if (t.type === 'template') return t.value.startsWith('`');
  return true;
}

function blank(s: string): string {
  return s.replace(/[^\r\n\u2028\u2029]/g, ' ');
}

function key(name: string): string {
  return JSON.stringify(name);
}

class Transformer {
  private readonly toks: Token[];
  private readonly edits: Edit[] = [];
  private readonly requests: ModuleRequest[] = [];
  private readonly imports: string[] = [];
  private readonly exports: string[] = [];
  private readonly stars: number[] = [];
  private readonly api: string;
  private readonly src: string;

  constructor(src: string, api: string) {
    this.src = src;
    this.toks = tokenize(src);
    this.api = api;
  }

  private tok(i: number): Token | undefined {
    return this.toks[i];
  }

  private is(i: number, type: Token['type'], value?: string): boolean {
    const t = this.toks[i];
    return t !== undefined && t.type === type && (value === undefined || t.value === value);
  }

  private fail(i: number, message: string): never {
    const t = this.toks[Math.min(i, this.toks.length - 1)];
    throw { offset: t?.start ?? 0, message } satisfies TransformError;
  }

  run(): TransformedModule {
    let depth = 0;
    for (let i = 0; i < this.toks.length; i++) {
      const t = this.toks[i];
      depth -= closes(t);
      const prev = this.tok(i - 1);
      const afterDot =
        prev !== undefined && prev.type === 'punct' && (prev.value === '.' || prev.value === '?.');
      if (t.type === 'name' && !afterDot) {
        if (t.value === 'import') i = this.onImport(i, depth);
        else if (t.value === 'export' && depth === 0) i = this.onExport(i);
      }
      // Statements consumed above are balanced; only the token the scan resumes after counts.
      depth += opens(this.toks[i]);
    }
    return { body: this.applyEdits(), prefix: this.buildPrefix(), requests: this.requests };
  }

  private onImport(i: number, depth: number): number {
    const next = this.tok(i + 1);
    if (next?.type === 'punct' && next.value === '.') {
      if (this.is(i + 2, 'name', 'meta')) {
        this.edits.push({ start: this.toks[i].start, end: this.toks[i + 2].end, text: `${this.api}.meta` });
        return i + 2;
      }
      return i;
    }
    if (next?.type === 'punct' && next.value === '(') {
      const close = this.matching(i + 1);
      // `import() { ... }` is a method called import, not a dynamic import.
      if (!this.is(close + 1, 'punct', '{')) {
        this.edits.push({ start: this.toks[i].start, end: this.toks[i].end, text: `${this.api}.d` });
      }
      return i;
    }
    if (depth !== 0 || next === undefined || (next.type === 'punct' && next.value === ':')) return i;
    return this.importDeclaration(i);
  }

  /** Index of the bracket closing the one at i. */
  private matching(i: number): number {
    let d = 0;
    for (let j = i; j < this.toks.length; j++) {
      d += opens(this.toks[j]) - closes(this.toks[j]);
      if (d === 0) return j;
    }
    return this.toks.length - 1;
  }

  private importDeclaration(i: number): number {
    let j = i + 1;
    const bindings: Array<{ imported: string; local: string; offset: number }> = [];
    let specTok: Token | undefined;
    if (this.is(j, 'string')) {
      specTok = this.toks[j];
    } else {
      if (this.is(j, 'name') && !this.is(j, 'name', 'from')) {
        bindings.push({ imported: 'default', local: this.toks[j].value, offset: this.toks[j].start });
        j++;
        if (this.is(j, 'punct', ',')) j++;
      } else if (this.is(j, 'name', 'from') && this.is(j + 1, 'name', 'from')) {
        bindings.push({ imported: 'default', local: 'from', offset: this.toks[j].start });
        j++;
      }
      if (this.is(j, 'punct', '*')) {
        if (!this.is(j + 1, 'name', 'as') || !this.is(j + 2, 'name')) this.fail(j, 'expected `* as name`');
        bindings.push({ imported: '*', local: this.toks[j + 2].value, offset: this.toks[j + 2].start });
        j += 3;
      } else if (this.is(j, 'punct', '{')) {
        j = this.specifierList(j, (imported, local, offset) => bindings.push({ imported, local, offset }));
      }
      if (!this.is(j, 'name', 'from')) this.fail(j, 'expected `from` in import declaration');
      j++;
      if (!this.is(j, 'string')) this.fail(j, 'expected a module specifier string');
      specTok = this.toks[j];
    }
    const { index, end } = this.request(specTok, j);
    const req = this.requests[index];
    const named: string[] = [];
    for (const b of bindings) {
      if (b.imported === '*') this.imports.push(`const ${b.local} = ${this.api}.i(${index});`);
      else {
        named.push(`${key(b.imported)}: ${b.local}`);
        req.names.push({ name: b.imported, offset: b.offset });
      }
    }
    if (named.length > 0) this.imports.push(`const { ${named.join(', ')} } = ${this.api}.i(${index});`);
    this.edits.push({ start: this.toks[i].start, end: this.toks[end].end, text: null });
    return end;
  }

  /**
   * `{ a, b as c, 'x y' as d }` starting at the `{`; calls back (importedOrLocal, exportedOrLocal)
   * and returns the index after the `}`.
   */
  private specifierList(j: number, add: (left: string, right: string, offset: number) => void): number {
    j++;
    while (!this.is(j, 'punct', '}')) {
      if (j >= this.toks.length) this.fail(j, 'unterminated `{ ... }` in import/export');
      if (this.is(j, 'punct', ',')) {
        j++;
        continue;
      }
      const left = this.toks[j];
      if (left.type !== 'name' && left.type !== 'string')
        this.fail(j, `unexpected ${left.value} in import/export list`);
      let right = left;
      if (this.is(j + 1, 'name', 'as')) {
        right = this.toks[j + 2];
        if (right === undefined || (right.type !== 'name' && right.type !== 'string'))
          this.fail(j + 2, 'expected a name after `as`');
        j += 3;
      } else j++;
      add(left.value, right.value, left.start);
    }
    return j + 1;
  }

  /** Register the request whose specifier is at token s; returns its index and the statement's last token. */
  private request(specTok: Token, s: number): { index: number; end: number } {
    let end = s;
    const attributes: Record<string, string> = {};
    if (
      (this.is(s + 1, 'name', 'with') || this.is(s + 1, 'name', 'assert')) &&
      this.is(s + 2, 'punct', '{')
    ) {
      let j = s + 3;
      while (!this.is(j, 'punct', '}') && j < this.toks.length) {
        if (
          (this.is(j, 'name') || this.is(j, 'string')) &&
          this.is(j + 1, 'punct', ':') &&
          this.is(j + 2, 'string')
        ) {
          attributes[this.toks[j].value] = this.toks[j + 2].value;
          j += 3;
        } else j++;
      }
      end = j;
    }
    if (this.is(end + 1, 'punct', ';')) end++;
    const index = this.requests.length;
    this.requests.push({ specifier: specTok.value, offset: specTok.start, attributes, names: [] });
    return { index, end };
  }

  private onExport(i: number): number {
    const next = this.tok(i + 1);
    if (next === undefined) this.fail(i, 'unexpected end after export');
    const exportTok = this.toks[i];
    if (next.type === 'name' && next.value === 'default') return this.exportDefault(i);
    if (
      next.type === 'name' &&
      (next.value === 'function' || next.value === 'async' || next.value === 'class')
    ) {
      const name = this.declarationName(i + 1);
      if (name === undefined) this.fail(i + 1, 'an exported function or class needs a name');
      this.exports.push(`${key(name)}: () => ${name}`);
      this.edits.push({ start: exportTok.start, end: exportTok.end, text: null });
      return i;
    }
    if (next.type === 'name' && (next.value === 'const' || next.value === 'let' || next.value === 'var')) {
      const names: string[] = [];
      this.declarators(i + 2, names);
      for (const n of names) this.exports.push(`${key(n)}: () => ${n}`);
      this.edits.push({ start: exportTok.start, end: exportTok.end, text: null });
      return i;
    }
    if (next.type === 'punct' && next.value === '{') {
      const pairs: Array<[string, string]> = [];
      let j = this.specifierList(i + 1, (local, exported) => pairs.push([local, exported]));
      if (this.is(j, 'name', 'from') && this.is(j + 1, 'string')) {
        const { index, end } = this.request(this.toks[j + 1], j + 1);
        for (const [imported, exported] of pairs) {
          this.exports.push(`${key(exported)}: () => ${this.api}.i(${index})[${key(imported)}]`);
          this.requests[index].names.push({ name: imported, offset: this.toks[i + 1].start });
        }
        j = end;
      } else {
        for (const [local, exported] of pairs) this.exports.push(`${key(exported)}: () => ${local}`);
        // j is after the `}`: end the statement at its `;` when there is one, else at the `}`.
        if (!this.is(j, 'punct', ';')) j--;
      }
      this.edits.push({ start: exportTok.start, end: this.toks[j].end, text: null });
      return j;
    }
    if (next.type === 'punct' && next.value === '*') {
      let j = i + 2;
      let alias: string | undefined;
      if (this.is(j, 'name', 'as')) {
        const a = this.tok(j + 1);
        if (a === undefined || (a.type !== 'name' && a.type !== 'string'))
          this.fail(j + 1, 'expected a name after `as`');
        alias = a.value;
        j += 2;
      }
      if (!this.is(j, 'name', 'from') || !this.is(j + 1, 'string')) this.fail(j, 'expected `from "module"`');
      const { index, end } = this.request(this.toks[j + 1], j + 1);
      if (alias === undefined) this.stars.push(index);
      else this.exports.push(`${key(alias)}: () => ${this.api}.i(${index})`);
      this.edits.push({ start: exportTok.start, end: this.toks[end].end, text: null });
      return end;
    }
    return this.fail(i + 1, `unsupported export syntax: export ${next.value}`);
  }

  /** Name of `function f`, `async function f`, `function* f`, `class C` starting at i; undefined when anonymous. */
  private declarationName(i: number): string | undefined {
    let j = i;
    if (this.is(j, 'name', 'async')) j++;
    if (this.is(j, 'name', 'function')) {
      j++;
      if (this.is(j, 'punct', '*')) j++;
    } else if (this.is(j, 'name', 'class')) {
      j++;
      if (this.is(j, 'name', 'extends')) return undefined;
    } else return undefined;
    return this.is(j, 'name') ? this.toks[j].value : undefined;
  }

  private exportDefault(i: number): number {
    const exportTok = this.toks[i];
    const defaultTok = this.toks[i + 1];
    const isDecl =
      this.is(i + 2, 'name', 'function') ||
      this.is(i + 2, 'name', 'class') ||
      (this.is(i + 2, 'name', 'async') && this.is(i + 3, 'name', 'function') && !this.toks[i + 3].nl);
    const name = isDecl ? this.declarationName(i + 2) : undefined;
    if (name !== undefined) {
      this.exports.push(`default: () => ${name}`);
      this.edits.push({ start: exportTok.start, end: defaultTok.end, text: null });
    } else {
      const local = `${this.api}_default`;
      this.exports.push(`default: () => ${local}`);
      this.edits.push({ start: exportTok.start, end: defaultTok.end, text: `const ${local} =` });
    }
    return i + 1;
  }

  /** Names declared by `a = 1, { b, c: [d] } = x` starting at j. */
  private declarators(j: number, names: string[]): number {
    for (;;) {
      j = this.binding(j, names);
      if (this.is(j, 'punct', '=')) j = this.skipExpression(j + 1);
      if (this.is(j, 'punct', ',')) {
        j++;
        continue;
      }
      return j;
    }
  }

  private binding(j: number, names: string[]): number {
    const t = this.tok(j);
    if (t === undefined) return j;
    if (t.type === 'name') {
      names.push(t.value);
      return j + 1;
    }
    if (t.type === 'punct' && t.value === '{') {
      j++;
      while (j < this.toks.length && !this.is(j, 'punct', '}')) {
        if (this.is(j, 'punct', ',')) {
          j++;
          continue;
        }
        if (this.is(j, 'punct', '...')) {
          j = this.binding(j + 1, names);
          continue;
        }
        let keyTok = this.toks[j];
        if (this.is(j, 'punct', '[')) {
          j = this.matching(j) + 1;
          keyTok = this.toks[j - 1];
        } else j++;
        if (this.is(j, 'punct', ':')) j = this.binding(j + 1, names);
        else if (keyTok.type === 'name') names.push(keyTok.value);
        if (this.is(j, 'punct', '=')) j = this.skipExpression(j + 1);
      }
      return j + 1;
    }
    if (t.type === 'punct' && t.value === '[') {
      j++;
      while (j < this.toks.length && !this.is(j, 'punct', ']')) {
        if (this.is(j, 'punct', ',')) {
          j++;
          continue;
        }
        if (this.is(j, 'punct', '...')) j++;
        j = this.binding(j, names);
        if (this.is(j, 'punct', '=')) j = this.skipExpression(j + 1);
      }
      return j + 1;
    }
    return j + 1;
  }

  /** Index of the first token after an expression starting at j (a `,`/`;`/closer at depth 0, or ASI). */
  private skipExpression(j: number): number {
    let d = 0;
    const start = j;
    for (; j < this.toks.length; j++) {
      const t = this.toks[j];
      if (d === 0) {
        if (t.type === 'punct' && (t.value === ',' || t.value === ';')) return j;
        if (closes(t) > 0 && opens(t) === 0) return j;
        if (j > start && t.nl && canEndExpression(this.toks[j - 1]) && startsStatement(t)) return j;
      }
      d += opens(t) - closes(t);
    }
    return j;
  }

  private buildPrefix(): string {
    const parts = [...this.imports];
    if (this.exports.length > 0) parts.push(`${this.api}.e({ ${this.exports.join(', ')} });`);
    for (const s of this.stars) parts.push(`${this.api}.star(${s});`);
    return parts.join(' ');
  }

  private applyEdits(): string {
    const edits = this.edits.sort((a, b) => a.start - b.start);
    let out = '';
    let last = 0;
    for (const e of edits) {
      if (e.start < last) continue;
      out += this.src.slice(last, e.start);
      const original = this.src.slice(e.start, e.end);
      // A replacement keeps the line breaks of what it replaces, so later lines keep their numbers.
      out += e.text === null ? blank(original) : e.text + original.replace(/[^\r\n\u2028\u2029]/g, '');
      last = e.end;
    }
    out += this.src.slice(last);
    // A hashbang line is not valid inside a function body.
    if (out.startsWith('#!')) {
      const eol = out.search(/[\r\n]/);
      out = eol < 0 ? blank(out) : blank(out.slice(0, eol)) + out.slice(eol);
    }
    return out;
  }
}

/** Transform an ES module (JavaScript, types already stripped). `api` names the wrapper's parameter. */
export function transformModule(code: string, api = '__junction'): TransformedModule | TransformError {
  try {
    return new Transformer(code, api).run();
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'offset' in e && 'message' in e && !(e instanceof Error)) {
      return e as TransformError;
    }
    throw e;
  }
}

export function isTransformError(r: TransformedModule | TransformError): r is TransformError {
  return 'offset' in r;
}
