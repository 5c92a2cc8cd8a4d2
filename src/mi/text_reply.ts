/**
 * SER text protocol replies: a status line like a SIP reply's (`200 OK`, `500 command 'x' not
 * available`, `404 AOR not found`), then the result as lines.
 */
import type { MiCommand } from './command.ts';
import {
  INVALID_PARAMS,
  INVALID_REQUEST,
  METHOD_NOT_FOUND,
  type MiOutcome,
  PARSE_ERROR,
} from './registry.ts';

function scalar(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** A result as text lines: strings as they are, arrays one item a line, objects `key: value`. */
export function resultLines(result: unknown): string[] {
  if (result === null || result === undefined) return [];
  if (typeof result === 'string') return result === '' ? [] : result.replace(/\n$/, '').split('\n');
  if (Array.isArray(result)) return result.map(scalar);
  if (typeof result === 'object') return Object.entries(result).map(([k, v]) => `${k}: ${scalar(v)}`);
  return [scalar(result)];
}

/** SIP-like status code of an outcome: JSON-RPC protocol codes become 400 / 500. */
export function textCode(code: number): number {
  if (code >= 100 && code <= 699) return code;
  return code === INVALID_PARAMS || code === INVALID_REQUEST || code === PARSE_ERROR ? 400 : 500;
}

/** The whole reply text, ending with a newline. */
export function formatTextReply(command: string, cmd: MiCommand | undefined, out: MiOutcome): string {
  if (!out.ok) {
    if (out.code === METHOD_NOT_FOUND) return `500 command '${command}' not available\n`;
    return `${textCode(out.code)} ${out.message.replace(/\s*\n\s*/g, ' ')}\n`;
  }
  const custom = cmd?.text?.reply?.(out.result);
  const head = custom === undefined ? '200 OK' : `${custom.code} ${custom.reason}`;
  const lines = custom === undefined ? resultLines(out.result) : custom.lines;
  return `${[head, ...lines].join('\n')}\n`;
}
