/**
 * KSR.hdr: add, remove and read header lines. Header text is given as Kamailio scripts write it
 * ("Name: value\r\n", several lines allowed, CRLF optional). Edits are spliced in when the message
 * is sent; reads (is_present, get) see the message as received — as in Kamailio, where header
 * changes are lumps. In a branch route the edits apply to that branch only.
 */
import type { RouteContext, RouteKind } from '../../proxy/context.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import { isToken } from '../../sip/chars.ts';
import { def, NULL_PRINT } from '../shared/define.ts';
import { formatHeaderLine, type HeaderLine, parseHeaderLines } from '../shared/header_line.ts';
import { scriptRegex } from '../shared/regex_cache.ts';

/** Where a locally generated reply can still follow (append_to_reply). */
const TO_REPLY_ROUTES: readonly RouteKind[] = ['request', 'branch', 'failure', 'branch_failure'];

function lines(ctx: RouteContext, txt: string, fname: string): HeaderLine[] | undefined {
  const parsed = typeof txt === 'string' ? parseHeaderLines(txt) : undefined;
  if (parsed === undefined) ctx.log('err', `hdr.${fname}: not a header line: ${JSON.stringify(String(txt))}`);
  return parsed;
}

/** Index of the first header called `name`, -1 when none; undefined when `name` is not a header name. */
function firstIndex(ctx: RouteContext, name: string): number | undefined {
  if (typeof name !== 'string' || !isToken(name)) return undefined;
  const idx = ctx.msg.headerIndexes(name);
  return idx.length === 0 ? -1 : idx[0];
}

function append(ctx: RouteContext, txt: string): number {
  const hs = lines(ctx, txt, 'append');
  if (hs === undefined) return -1;
  for (const h of hs) ctx.msg.appendHeader(h.name, h.value);
  return 1;
}

/** Before every header. prependHeader puts each new line on top, so lines go in reverse order. */
function prepend(ctx: RouteContext, hs: HeaderLine[]): void {
  for (let k = hs.length - 1; k >= 0; k--) ctx.msg.prependHeader(hs[k].name, hs[k].value);
}

function insert(ctx: RouteContext, txt: string): number {
  const hs = lines(ctx, txt, 'insert');
  if (hs === undefined) return -1;
  prepend(ctx, hs);
  return 1;
}

/** After the first header called `hname`; after the last header when there is none (as Kamailio). */
function appendAfter(ctx: RouteContext, txt: string, hname: string): number {
  const i = firstIndex(ctx, hname);
  const hs = lines(ctx, txt, 'append_after');
  if (hs === undefined || i === undefined) return -1;
  if (i < 0) {
    for (const h of hs) ctx.msg.appendHeader(h.name, h.value);
    return 1;
  }
  // insertHeaderAfter also puts each new line first at its offset: reverse to keep the order.
  for (let k = hs.length - 1; k >= 0; k--) ctx.msg.insertHeaderAfter(i, hs[k].name, hs[k].value);
  return 1;
}

/** Before the first header called `hname`; before the first header when there is none (as Kamailio). */
function insertBefore(ctx: RouteContext, txt: string, hname: string): number {
  const i = firstIndex(ctx, hname);
  const hs = lines(ctx, txt, 'insert_before');
  if (hs === undefined || i === undefined) return -1;
  if (i < 0) prepend(ctx, hs);
  else for (const h of hs) ctx.msg.insertHeaderBefore(i, h.name, h.value);
  return 1;
}

/** Remove every header called `hname`: 1 even when there was none (Kamailio's return). */
function remove(ctx: RouteContext, hname: string): number {
  if (typeof hname !== 'string' || !isToken(hname)) return -1;
  ctx.msg.removeHeaders(hname);
  return 1;
}

function isPresent(ctx: RouteContext, hname: string): number {
  return typeof hname === 'string' && isToken(hname) && ctx.msg.hasHeader(hname) ? 1 : -1;
}

/** Value of the idx-th header called `hname` (negative: from the end), null when there is none. */
function getIdx(ctx: RouteContext, hname: string, idx: number): string | null {
  if (typeof hname !== 'string' || !isToken(hname) || !Number.isInteger(idx)) return null;
  if (idx === 0) return ctx.msg.getHeader(hname) ?? null;
  const values = ctx.msg.getHeaders(hname);
  return values[idx < 0 ? values.length + idx : idx] ?? null;
}

function appendToReply(ctx: RouteContext, txt: string): number {
  const hs = lines(ctx, txt, 'append_to_reply');
  if (hs === undefined) return -1;
  for (const h of hs) ctx.replyHeaders.push(formatHeaderLine(h));
  return 1;
}

function startsWithIgnoreCase(s: string, prefix: string): boolean {
  return s.length >= prefix.length && s.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase();
}

/**
 * match_content(hname, op, mval, hidx): compare header values with `mval` (case-insensitive):
 * op eq / ne / sw (starts with) / in (contains) / re (regular expression, unanchored, compiled once);
 * hidx f (first) / l (last) / a (all) / o (at least one). Kamailio declares "re" but refuses it;
 * here it works.
 */
function matchContent(ctx: RouteContext, hname: string, op: string, mval: string, hidx: string): boolean {
  if (typeof hname !== 'string' || !isToken(hname) || typeof mval !== 'string') return false;
  const o = typeof op === 'string' ? op.toLowerCase() : '';
  if (o !== 'eq' && o !== 'ne' && o !== 'sw' && o !== 'in' && o !== 're') return false;
  const which = typeof hidx === 'string' ? hidx.charAt(0).toLowerCase() : '';
  if (which !== 'f' && which !== 'l' && which !== 'a' && which !== 'o') return false;
  const want = mval.toLowerCase();
  const values = ctx.msg.getHeaders(hname);
  if (values.length === 0) return false;
  const re = o === 're' ? scriptRegex(mval) : undefined;
  if (re === null) {
    ctx.log('err', `hdr.match_content: invalid regular expression ${JSON.stringify(mval)}`);
    return false;
  }
  const test = (v: string): boolean => {
    if (re !== undefined) return re.test(v);
    const lv = v.toLowerCase();
    if (o === 'eq') return lv === want;
    if (o === 'ne') return lv !== want;
    if (o === 'sw') return startsWithIgnoreCase(v, mval);
    return lv.includes(want);
  };
  if (which === 'f') return test(values[0]);
  if (which === 'l') return test(values[values.length - 1]);
  if (which === 'a') return values.every(test);
  return values.some(test);
}

const LINE = '(line: string) => number';
const GET = '(name: string) => string | null';

const hdr = {
  name: 'hdr',
  summary: 'Header lines: append, insert, remove, test, read, add to the local reply',
  functions: {
    append: def(LINE, append, undefined, 'Append a header line ("Name: value\\r\\n") after the last header.'),
    append_after: def('(line: string, name: string) => number', appendAfter),
    insert: def(LINE, insert, undefined, 'Insert a header line before the first header.'),
    insert_before: def('(line: string, name: string) => number', insertBefore),
    remove: def('(name: string) => number', remove),
    rmappend: def(
      '(name: string, line: string) => number',
      (ctx: RouteContext, hrm: string, hadd: string): number =>
        remove(ctx, hrm) < 0 ? -1 : append(ctx, hadd),
      undefined,
      'Remove the headers called `name`, then append `line`.',
    ),
    rminsert: def(
      '(name: string, line: string) => number',
      (ctx: RouteContext, hrm: string, hadd: string): number =>
        remove(ctx, hrm) < 0 ? -1 : insert(ctx, hadd),
      undefined,
      'Remove the headers called `name`, then insert `line`.',
    ),
    is_present: def(
      '(name: string) => number',
      isPresent,
      undefined,
      '1 when a header called `name` exists, else -1.',
    ),
    get: def(GET, (ctx: RouteContext, hname: string): string | null => getIdx(ctx, hname, 0)),
    gete: def(
      '(name: string) => string',
      (ctx: RouteContext, hname: string): string => getIdx(ctx, hname, 0) ?? '',
    ),
    getw: def(
      '(name: string) => string',
      (ctx: RouteContext, hname: string): string => getIdx(ctx, hname, 0) ?? NULL_PRINT,
    ),
    get_idx: def('(name: string, idx: number) => string | null', getIdx),
    gete_idx: def(
      '(name: string, idx: number) => string',
      (ctx: RouteContext, hname: string, idx: number): string => getIdx(ctx, hname, idx) ?? '',
    ),
    getw_idx: def(
      '(name: string, idx: number) => string',
      (ctx: RouteContext, hname: string, idx: number): string => getIdx(ctx, hname, idx) ?? NULL_PRINT,
    ),
    match_content: def(
      "(name: string, op: 'eq' | 'ne' | 'sw' | 'in', value: string, which: 'f' | 'l' | 'a' | 'o') => boolean",
      matchContent,
    ),
    append_to_reply: def(
      LINE,
      appendToReply,
      TO_REPLY_ROUTES,
      'Add a header line to the reply the server sends.',
    ),
  },
} satisfies ModuleDefinition;

export default hdr;
