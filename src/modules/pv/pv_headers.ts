/**
 * $hdr(Name) and $hdrc(Name): header values and counts. Names match in any case and compact forms
 * match their full names (`$hdr(v)` is Via). Reads see the message as received, like Kamailio,
 * where header edits are lumps applied only when the message is sent.
 */
import { isToken } from '../../sip/chars.ts';
import type { PvClass } from './types.ts';

/**
 * $hdr(Name): the first header line's value; `$(hdr(Name)[n])` the n-th line (negative from the
 * end); `$(hdr(Name)[*])` every line joined with ",". A line holding a comma list is one value.
 */
export const hdrClass: PvClass = (name, index) => {
  if (!isToken(name)) return undefined;
  if (index === undefined || index === 0) {
    return { get: (ctx) => ctx.msg.getHeader(name) ?? null };
  }
  return {
    get: (ctx) => {
      const values = ctx.msg.getHeaders(name);
      if (index === 'all') return values.length === 0 ? null : values.join(',');
      return values[index < 0 ? values.length + index : index] ?? null;
    },
  };
};

/** $hdrc(Name): how many header lines are called Name. */
export const hdrcClass: PvClass = (name, index) => {
  if (!isToken(name) || index !== undefined) return undefined;
  return { get: (ctx) => ctx.msg.headerIndexes(name).length };
};
