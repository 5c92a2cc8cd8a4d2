/**
 * Method tests (KSR.is_method, is_method_in, is_INVITE ...). For a response the method is the one in
 * its CSeq, as in Kamailio (SipMessage.method already holds it).
 */
import type { RouteContext } from '../../proxy/context.ts';

/**
 * Kamailio's is_method_in letters. Besides the seed's list, Kamailio's source also has E (PRACK)
 * and F (REFER); INFO has no letter.
 */
const METHOD_LETTERS: Readonly<Record<string, string>> = {
  I: 'INVITE',
  A: 'ACK',
  B: 'BYE',
  C: 'CANCEL',
  R: 'REGISTER',
  M: 'MESSAGE',
  O: 'OPTIONS',
  S: 'SUBSCRIBE',
  P: 'PUBLISH',
  N: 'NOTIFY',
  U: 'UPDATE',
  K: 'KDMQ',
  G: 'GET',
  T: 'POST',
  V: 'PUT',
  D: 'DELETE',
  E: 'PRACK',
  F: 'REFER',
};

/** METHOD_LETTERS by character code, both cases (no string per letter looked up). */
const METHOD_BY_CODE: ReadonlyArray<string | undefined> = (() => {
  const t: Array<string | undefined> = new Array<string | undefined>(128).fill(undefined);
  for (const [letter, method] of Object.entries(METHOD_LETTERS)) {
    t[letter.charCodeAt(0)] = method;
    t[letter.toLowerCase().charCodeAt(0)] = method;
  }
  return t;
})();

/** The method of the message a route runs for. */
export function methodOf(ctx: RouteContext): string {
  return ctx.msg.method;
}

/**
 * is_method("INVITE") or a `|` list ("INVITE|BYE", as Kamailio's native is_method accepts).
 * Method names are case-sensitive in SIP, but Kamailio compares them case-insensitively.
 */
export function isMethod(ctx: RouteContext, method: string): boolean {
  if (typeof method !== 'string' || method === '') return false;
  const m = methodOf(ctx);
  let start = 0;
  while (start <= method.length) {
    let end = method.indexOf('|', start);
    if (end < 0) end = method.length;
    if (end - start === m.length && method.slice(start, end).toUpperCase() === m) return true;
    start = end + 1;
  }
  return false;
}

/** is_method_in("IABC"): true when one of the letters names the message's method. */
export function isMethodIn(ctx: RouteContext, letters: string): boolean {
  if (typeof letters !== 'string') return false;
  const m = methodOf(ctx);
  for (let i = 0; i < letters.length; i++) {
    const c = letters.charCodeAt(i);
    if (c < 128 && METHOD_BY_CODE[c] === m) return true;
  }
  return false;
}

/** A `KSR.is_<METHOD>()` function. */
export function methodTest(method: string): (ctx: RouteContext) => boolean {
  return (ctx) => methodOf(ctx) === method;
}
