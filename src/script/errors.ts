/**
 * Script errors with a position (file:line:column), and the ways to find one: the code frame Node's
 * TypeScript parser prints, a V8 stack trace, or `node --check` for the few syntax errors the
 * in-process parsers report without a position.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface ScriptError {
  readonly file: string;
  /** 1-based; 0 when the problem concerns the whole file (e.g. it cannot be read). */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export function formatScriptError(e: ScriptError): string {
  if (e.line <= 0) return `${e.file}: ${e.message}`;
  // Column 0: the language reports lines only (Lua).
  return e.column > 0 ? `${e.file}:${e.line}:${e.column}: ${e.message}` : `${e.file}:${e.line}: ${e.message}`;
}

/**
 * The position in Node's code frame, which starts a decorated stack:
 * `<file>:<line>\n<source line>\n<spaces>^^^\n`. Column = position of the first caret.
 */
export function positionFromCodeFrame(stack: string): { line: number; column: number } | undefined {
  const lines = stack.split('\n');
  const head = /:(\d+)$/.exec(lines[0] ?? '');
  if (head === null) return undefined;
  for (let i = 1; i < lines.length && i < 12; i++) {
    const l = lines[i];
    if (/^\s*\^+\s*$/.test(l)) return { line: Number(head[1]), column: l.indexOf('^') + 1 };
    if (l.trim() === '' && i > 1) break;
  }
  return { line: Number(head[1]), column: 1 };
}

/** The message of an error without Node's code frame and stack. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}`;
  return String(e);
}

/** A script file's text; rejects with `cannot find <path>` or `cannot read <path>: <why>`. */
export async function readScriptFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `cannot find ${path}` : `cannot read ${path}: ${errorMessage(e)}`);
  }
}

/** A file of the running script: its path and how many columns the wrapper adds to its first line. */
export interface SourceFile {
  readonly path: string;
  readonly firstLineShift: number;
}

const FRAME = /^\s*at (?:.*?\()?(.*?):(\d+):(\d+)\)?\s*$/;

/** The innermost stack frame that lies in one of the script's files. */
export function locateInStack(err: unknown, files: ReadonlyMap<string, SourceFile>): ScriptError | undefined {
  const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : undefined;
  if (stack === undefined) return undefined;
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (m === null) continue;
    const f = files.get(m[1]);
    if (f === undefined) continue;
    const ln = Number(m[2]);
    const col = Number(m[3]) - (ln === 1 ? f.firstLineShift : 0);
    return { file: f.path, line: ln, column: Math.max(1, col), message: errorMessage(err) };
  }
  return undefined;
}

/**
 * Locate a syntax error V8 reported without a position (eval gives none) by running
 * `node --check` on the module source in a child process. Only used when a load already failed,
 * so its cost (tens of ms, off the event loop) never touches message handling.
 */
export function locateWithNodeCheck(
  code: string,
  timeoutMs = 5000,
): Promise<{ line: number; column: number; message: string } | undefined> {
  return new Promise((resolve) => {
    let stderr = '';
    const child = spawn(process.execPath, ['--check', '--input-type=module', '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
      timeout: timeoutMs,
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 65536) stderr += d;
    });
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => {
      if (code === 0) return resolve(undefined);
      const pos = positionFromCodeFrame(stderr.replace(/^\[stdin\]/, ''));
      const msg = /^(\w*Error): (.*)$/m.exec(stderr);
      if (pos === undefined || msg === null) return resolve(undefined);
      resolve({ ...pos, message: `${msg[1]}: ${msg[2]}` });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(code);
  });
}
