/**
 * The management command registry and its JSON-RPC 2.0 front: every transport (HTTP, FIFO,
 * socket, CLI) and `KSR.mi.mi()` come through here.
 *
 * Errors: protocol faults carry JSON-RPC's codes (-32700 parse, -32600 invalid request, -32601
 * unknown method, -32602 params fit no recipe, -32603 the handler threw something unexpected);
 * command failures carry the SIP-like code of the MiError the handler threw (400, 404, 500 …), as
 * OpenSIPS does. Mutating commands run one at a time; the others run concurrently.
 */
import type { ModuleDefinition } from '../script/module.ts';
import { type MiCallContext, type MiCommand, MiError } from './command.ts';
import { jsonText } from './json_stream.ts';
import { bindParams } from './params.ts';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

export type MiId = string | number | null;

export interface MiErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

export type MiOutcome =
  | { readonly ok: true; readonly result: unknown }
  | ({ readonly ok: false } & MiErrorObject);

export interface MiResponse {
  readonly jsonrpc: '2.0';
  readonly id: MiId;
  readonly result?: unknown;
  readonly error?: MiErrorObject;
}

export interface MiRegistryOptions {
  /** Unexpected handler exceptions (→ -32603); default: ignored. */
  onInternalError?: (err: unknown, command: string) => void;
}

export interface MiRegistryStats {
  requests: number;
  errors: number;
  internalErrors: number;
}

interface Entry {
  readonly cmd: MiCommand;
  readonly owner: string;
}

export class MiRegistry {
  readonly stats: MiRegistryStats = { requests: 0, errors: 0, internalErrors: 0 };
  private readonly byName = new Map<string, Entry>();
  private readonly canonical: Entry[] = [];
  private readonly onInternalError: ((err: unknown, command: string) => void) | undefined;
  /** Tail of the queue of mutating commands. */
  private serial: Promise<unknown> = Promise.resolve();

  constructor(opts: MiRegistryOptions = {}) {
    this.onInternalError = opts.onInternalError;
  }

  /** Add a command under its name and aliases; a name taken twice throws (two modules disagree). */
  register(cmd: MiCommand, owner = 'core'): void {
    const names = [cmd.name, ...(cmd.aliases ?? [])];
    for (const n of names) {
      const had = this.byName.get(n);
      if (had !== undefined)
        throw new Error(`MI command '${n}' of ${owner} is already registered by ${had.owner}`);
    }
    const entry = { cmd, owner };
    for (const n of names) this.byName.set(n, entry);
    this.canonical.push(entry);
  }

  /** Every command declared by the modules (ModuleDefinition.commands). */
  registerModules(modules: readonly ModuleDefinition[]): void {
    for (const m of modules)
      for (const c of m.commands ?? []) this.register(c, m.name === '' ? 'core' : m.name);
  }

  lookup(name: string): MiCommand | undefined {
    return this.byName.get(name)?.cmd;
  }

  ownerOf(name: string): string | undefined {
    return this.byName.get(name)?.owner;
  }

  /** Canonical names, in registration order (`which`). */
  names(): string[] {
    return this.canonical.map((e) => e.cmd.name);
  }

  /** Canonical names and aliases (`system.listMethods`). */
  allNames(): string[] {
    return [...this.byName.keys()];
  }

  /** Run one command: bind params, serialize if mutating, map failures to codes. */
  async call(name: string, params: unknown, ctx: MiCallContext): Promise<MiOutcome> {
    this.stats.requests++;
    const out = await this.callInner(name, params, ctx);
    if (!out.ok) this.stats.errors++;
    return out;
  }

  private async callInner(name: string, params: unknown, ctx: MiCallContext): Promise<MiOutcome> {
    const cmd = this.lookup(name);
    if (cmd === undefined)
      return { ok: false, code: METHOD_NOT_FOUND, message: `command '${name}' not available` };
    if (params !== undefined && params !== null && typeof params !== 'object') {
      return { ok: false, code: INVALID_REQUEST, message: 'params must be an array or an object' };
    }
    const bound = bindParams(cmd, params ?? undefined);
    if (!bound.ok) return { ok: false, code: INVALID_PARAMS, message: `Invalid params: ${bound.error}` };
    const run = async (): Promise<MiOutcome> => {
      try {
        return { ok: true, result: await cmd.handler(bound.values, ctx) };
      } catch (e) {
        if (e instanceof MiError) return { ok: false, code: e.code, message: e.message };
        this.stats.internalErrors++;
        this.onInternalError?.(e, cmd.name);
        return {
          ok: false,
          code: INTERNAL_ERROR,
          message: `Internal error: ${e instanceof Error ? e.message : String(e)}`,
        };
      }
    };
    if (cmd.mutating !== true) return run();
    const p = this.serial.then(run, run);
    this.serial = p.catch(() => undefined);
    return p;
  }

  /**
   * One parsed JSON-RPC message (a request object or a batch): the response(s) to send, or
   * undefined when nothing is to be sent (notifications only).
   */
  async handle(message: unknown, ctx: MiCallContext): Promise<MiResponse | MiResponse[] | undefined> {
    if (Array.isArray(message)) {
      if (message.length === 0) return errorResponse(null, INVALID_REQUEST, 'Invalid Request: empty batch');
      const all = await Promise.all(message.map((m) => this.handleOne(m, ctx)));
      const replies = all.filter((r): r is MiResponse => r !== undefined);
      return replies.length === 0 ? undefined : replies;
    }
    return this.handleOne(message, ctx);
  }

  /**
   * JSON text in, the response(s) out, not yet serialized (undefined: nothing to send). A result
   * may hold async iterables (streamed lists): transports write it with `jsonChunks`.
   */
  async respond(text: string, ctx: MiCallContext): Promise<MiResponse | MiResponse[] | undefined> {
    let message: unknown;
    try {
      message = JSON.parse(text) as unknown;
    } catch (e) {
      this.stats.requests++;
      this.stats.errors++;
      return errorResponse(null, PARSE_ERROR, `Parse error: ${(e as Error).message}`);
    }
    return this.handle(message, ctx);
  }

  /** JSON text in, JSON text out (undefined: nothing to send); streamed lists read to the end. */
  async handleText(text: string, ctx: MiCallContext): Promise<string | undefined> {
    const r = await this.respond(text, ctx);
    return r === undefined ? undefined : jsonText(r);
  }

  private async handleOne(m: unknown, ctx: MiCallContext): Promise<MiResponse | undefined> {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      this.stats.requests++;
      this.stats.errors++;
      return errorResponse(null, INVALID_REQUEST, 'Invalid Request: not an object');
    }
    const req = m as Record<string, unknown>;
    const hasId = Object.hasOwn(req, 'id');
    const id = req.id;
    const idOk = id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
    if (req.jsonrpc !== '2.0' || typeof req.method !== 'string' || (hasId && !idOk)) {
      this.stats.requests++;
      this.stats.errors++;
      const why =
        req.jsonrpc !== '2.0'
          ? 'jsonrpc must be "2.0"'
          : typeof req.method !== 'string'
            ? 'method must be a string'
            : 'id must be a string, a number or null';
      return errorResponse(idOk ? (id as MiId) : null, INVALID_REQUEST, `Invalid Request: ${why}`);
    }
    const params = req.params;
    if (params !== undefined && (params === null || typeof params !== 'object')) {
      this.stats.requests++;
      this.stats.errors++;
      return hasId
        ? errorResponse(id as MiId, INVALID_REQUEST, 'Invalid Request: params must be an array or an object')
        : undefined;
    }
    const out = await this.call(req.method, params, ctx);
    if (!hasId) return undefined;
    if (out.ok) return { jsonrpc: '2.0', id: id as MiId, result: out.result ?? null };
    return errorResponse(id as MiId, out.code, out.message);
  }
}

export function errorResponse(id: MiId, code: number, message: string): MiResponse {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** A one-line readable rendering of an error outcome: `404 AOR not found`. */
export function describeError(e: MiErrorObject): string {
  return `${e.code} ${e.message}`;
}
