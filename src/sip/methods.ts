/** Methods this stack knows (RFC 3261 and extensions); anything else is an extension token. */
export const KNOWN_METHODS = [
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'REGISTER',
  'OPTIONS',
  'INFO',
  'PRACK',
  'UPDATE',
  'SUBSCRIBE',
  'NOTIFY',
  'REFER',
  'MESSAGE',
  'PUBLISH',
] as const;

export type KnownMethod = (typeof KNOWN_METHODS)[number];

const BY_LENGTH: Array<Array<[string, Uint8Array]>> = [];
for (const m of KNOWN_METHODS) {
  const sameLength = BY_LENGTH[m.length] ?? [];
  BY_LENGTH[m.length] = sameLength;
  sameLength.push([m, Buffer.from(m, 'latin1')]);
}

/**
 * The method token in buf[start, end) as a shared string constant when it is a known method
 * (methods are case-sensitive, RFC 3261 §7.1), so that the hot path allocates nothing for it.
 */
export function methodFromBytes(buf: Uint8Array, start: number, end: number): string | undefined {
  const candidates = BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  outer: for (const [name, bytes] of candidates) {
    for (let i = 0; i < bytes.length; i++) if (buf[start + i] !== bytes[i]) continue outer;
    return name;
  }
  return undefined;
}

const KNOWN = new Set<string>(KNOWN_METHODS);
export function isKnownMethod(method: string): method is KnownMethod {
  return KNOWN.has(method);
}
