/**
 * A management command, declared by the module that owns it (SER FIFO / OpenSIPS MI / Kamailio
 * RPC style). The registry in this folder exposes every command on every transport (HTTP JSON-RPC,
 * FIFO JSON and SER text, unix socket, CLI) and to routing scripts (KSR.mi.mi()).
 */

export type MiParamType = 'string' | 'int' | 'number' | 'bool' | 'json' | 'array';

export interface MiParam {
  readonly name: string;
  readonly type: MiParamType;
  readonly optional?: boolean;
  readonly doc?: string;
}

/** Context a handler gets: who asked (for logs) and the server it runs in. */
export interface MiCallContext {
  /** 'http' | 'fifo' | 'fifo-text' | 'socket' | 'script' | 'cli' */
  readonly transport: string;
}

/**
 * How the SER text protocol (FIFO `:cmd:reply` + one argument per line) maps onto this command.
 * Default: every line up to the first empty line is one positional argument.
 */
export interface MiTextForm {
  /** Single-line arguments, by parameter name, in order ("." = not given, as SER's next hop). */
  readonly lines: readonly string[];
  /** Then multi-line arguments, each ended by a line holding only "." (t_uac_dlg headers, body). */
  readonly blocks?: readonly string[];
  /** Status line and result lines for a successful result (default `200 OK` + the result as lines). */
  reply?(result: unknown): {
    readonly code: number;
    readonly reason: string;
    readonly lines: readonly string[];
  };
}

export interface MiCommand {
  /** Canonical name (OpenSIPS/SER: `ul_show_contact`); Kamailio dotted names go in aliases. */
  readonly name: string;
  readonly aliases?: readonly string[];
  /** One line for `help` / `which`. */
  readonly help: string;
  /**
   * Parameter recipes (OpenSIPS "recipes"): each is an ordered list; positional params bind in
   * that order, named params by name; the first recipe that fits is used. [] = no parameters.
   */
  readonly recipes: ReadonlyArray<readonly MiParam[]>;
  /** Mutating commands (reloads, adds, removes) run one at a time. */
  readonly mutating?: boolean;
  /** SER text protocol framing and reply, when the default (one line per argument) does not fit. */
  readonly text?: MiTextForm;
  /**
   * Runs the command; may be async. The result is JSON data (written as JSON.stringify would). A
   * list result may be an async iterable (an async generator, a cursor) — at the top or anywhere
   * inside arrays and objects: transports stream it as a JSON array, pulling one item at a time,
   * so a 200,000-binding dump is never held whole as objects nor as text. A thrown error is only
   * a clean reply before the first ~64 KiB is written; after that the transport cuts the reply
   * short (HTTP / socket connection closed, FIFO reply ended). When the client goes away the
   * iterator's `return()` is called (`finally` blocks run). Scripts (`KSR.mi.mi`) and the SER text
   * form's `reply()` get it read to the end.
   *
   * ```ts
   * handler: () => ({ AORs: (async function* () { for await (const b of cursor()) yield view(b); })() })
   * ```
   */
  handler(params: Readonly<Record<string, unknown>>, ctx: MiCallContext): unknown;
}

/** A command failure with a SIP-like code (400 bad params, 404 not found, 500 …), as OpenSIPS returns. */
export class MiError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}
