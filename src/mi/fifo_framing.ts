/**
 * Framing of the FIFO's byte stream. Two request forms share it, told apart after `:<name>:`:
 *
 * - OpenSIPS mi_fifo: `:<reply_fifo>:<json>` — the JSON-RPC request is found by the JSON scanner
 *   (it may span lines);
 * - SER text protocol: `:<command>:<reply_file>` then one argument per line and an empty line
 *   (commands with a text form, like t_uac_dlg, read some arguments as "."-terminated blocks).
 *
 * Requests larger than `maxBytes` are refused and the stream resynchronises at the next line
 * that starts with ':'.
 */
import { StringDecoder } from 'node:string_decoder';
import type { MiTextForm } from './command.ts';

export type FifoRequest =
  | { readonly kind: 'json'; readonly reply: string; readonly json: string }
  | {
      readonly kind: 'text';
      readonly command: string;
      readonly reply: string;
      /** Positional arguments (default form), or named ones (a command's text form). */
      readonly params: string[] | Record<string, string>;
    }
  | {
      readonly kind: 'error';
      readonly reply: string | undefined;
      /** The refused request was JSON (reply in JSON-RPC) rather than text. */
      readonly json: boolean;
      readonly message: string;
    };

/** OpenSIPS's rule for reply FIFO names: no '.', '/' or '\' (they live in the reply folder). */
export function validReplyName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !/[./\\\0\s]/.test(name);
}

/** Offset one past the end of the JSON value starting at `start` ('{' or '['), or -1 if incomplete. */
export function scanJson(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

export class FifoFramer {
  private buf = '';
  private discarding = false;
  private readonly decoder = new StringDecoder('utf8');
  private readonly maxBytes: number;
  private readonly textForm: (command: string) => MiTextForm | undefined;

  constructor(opts: { maxBytes: number; textForm: (command: string) => MiTextForm | undefined }) {
    this.maxBytes = opts.maxBytes;
    this.textForm = opts.textForm;
  }

  /** Bytes in; complete requests out. */
  push(chunk: Buffer): FifoRequest[] {
    this.buf += this.decoder.write(chunk);
    return this.drain(false);
  }

  /**
   * The writer went quiet: a text request whose first line is complete but whose empty line never
   * came (`echo ':uptime:r' > fifo`) is taken as it is.
   */
  flushIdle(): FifoRequest[] {
    return this.drain(true);
  }

  get pending(): number {
    return this.buf.length;
  }

  private drain(idle: boolean): FifoRequest[] {
    const out: FifoRequest[] = [];
    for (;;) {
      if (this.discarding) {
        const nl = this.buf.indexOf('\n:');
        if (nl < 0) {
          this.buf = this.buf.endsWith('\n') ? '\n' : '';
          return out;
        }
        this.buf = this.buf.slice(nl + 1);
        this.discarding = false;
      }
      const start = this.buf.search(/\S/);
      if (start < 0) {
        this.buf = '';
        return out;
      }
      if (start > 0) this.buf = this.buf.slice(start);
      const r = this.one(idle);
      if (r === undefined) {
        if (Buffer.byteLength(this.buf) > this.maxBytes) {
          const head = this.head();
          out.push({ kind: 'error', ...head, message: `request larger than ${this.maxBytes} bytes` });
          this.buf = '';
          this.discarding = true;
        }
        return out;
      }
      if (r.used > this.maxBytes && Buffer.byteLength(this.buf.slice(0, r.used)) > this.maxBytes) {
        const head = this.head();
        out.push({ kind: 'error', ...head, message: `request larger than ${this.maxBytes} bytes` });
      } else {
        out.push(r.req);
      }
      this.buf = this.buf.slice(r.used);
    }
  }

  /** The reply name and form of the request at the head of the buffer, as its first line says. */
  private head(): { reply: string | undefined; json: boolean } {
    const m = /^:([^:\n]*):([^\n{[]*)/.exec(this.buf);
    if (m === null) return { reply: undefined, json: false };
    const json = /^:[^:\n]*:[ \t]*[{[]/.test(this.buf);
    const name = (json ? m[1]! : m[2]!).trim();
    return { reply: validReplyName(name) ? name : undefined, json };
  }

  private one(idle: boolean): { req: FifoRequest; used: number } | undefined {
    const s = this.buf;
    const eol = s.indexOf('\n');
    if (s[0] !== ':') {
      if (eol < 0) return undefined;
      return {
        req: {
          kind: 'error',
          reply: undefined,
          json: false,
          message: `garbage line: ${JSON.stringify(s.slice(0, Math.min(eol, 80)))}`,
        },
        used: eol + 1,
      };
    }
    const c2 = s.indexOf(':', 1);
    if (c2 < 0 || (eol >= 0 && c2 > eol)) {
      if (eol < 0) return undefined;
      return {
        req: { kind: 'error', reply: undefined, json: false, message: 'bad request line: expected :name:' },
        used: eol + 1,
      };
    }
    const name = s.slice(1, c2);
    let j = c2 + 1;
    while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
    if (s[j] === '{' || s[j] === '[') {
      const end = scanJson(s, j);
      if (end < 0) return undefined;
      return { req: { kind: 'json', reply: name.trim(), json: s.slice(j, end) }, used: end };
    }
    if (eol < 0) return undefined;
    const command = name.trim();
    const reply = s
      .slice(c2 + 1, eol)
      .replace(/\r$/, '')
      .trim();
    return this.text(command, reply, eol + 1, idle);
  }

  private text(
    command: string,
    reply: string,
    from: number,
    idle: boolean,
  ): { req: FifoRequest; used: number } | undefined {
    const s = this.buf;
    let pos = from;
    /** The next complete line, or undefined when it has not arrived. */
    const line = (): string | undefined => {
      const nl = s.indexOf('\n', pos);
      if (nl < 0) return undefined;
      const l = s.slice(pos, nl).replace(/\r$/, '');
      pos = nl + 1;
      return l;
    };
    const form = this.textForm(command);
    if (form === undefined) {
      const args: string[] = [];
      for (;;) {
        const l = line();
        if (l === undefined) {
          if (!idle) return undefined;
          pos = s.length;
          break;
        }
        if (l === '') break;
        args.push(l);
      }
      return { req: { kind: 'text', command, reply, params: args }, used: pos };
    }
    const named: Record<string, string> = {};
    for (const name of form.lines) {
      const l = line();
      if (l === undefined) {
        if (idle) break;
        return undefined;
      }
      // Fewer arguments than the form has: the request ended.
      if (l === '') return { req: { kind: 'text', command, reply, params: named }, used: pos };
      if (l !== '.') named[name] = l;
    }
    for (const name of form.blocks ?? []) {
      const lines: string[] = [];
      for (;;) {
        const l = line();
        if (l === undefined) {
          if (!idle) return undefined;
          return { req: { kind: 'text', command, reply, params: named }, used: s.length };
        }
        if (l === '.') break;
        lines.push(l);
      }
      named[name] = lines.join('\n');
    }
    return { req: { kind: 'text', command, reply, params: named }, used: pos };
  }
}
