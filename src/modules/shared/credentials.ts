/**
 * The digest credentials a request carries ($au, $ar, ... and siputils is_user). Kamailio looks at
 * Authorization for REGISTER and PUBLISH (they are answered by the registrar / presence server
 * itself) and at Proxy-Authorization for everything else; Junction falls back to the other header
 * when the preferred one is absent, so a UA that answered the "wrong" challenge is still readable.
 */
import { isParseError, type ParseError } from '../../sip/errors.ts';
import type { SipMessage } from '../../sip/message.ts';
import type { Credentials } from '../../sip/types.ts';

function first(list: Credentials[] | ParseError): Credentials | undefined {
  return isParseError(list) || list.length === 0 ? undefined : list[0];
}

export function requestCredentials(msg: SipMessage): Credentials | undefined {
  if (!msg.isRequest) return undefined;
  const www = msg.method === 'REGISTER' || msg.method === 'PUBLISH';
  const a = www ? first(msg.authorization()) : first(msg.proxyAuthorization());
  return a ?? (www ? first(msg.proxyAuthorization()) : first(msg.authorization()));
}

/** A digest parameter (`username`, `realm`, `uri`, `nonce` ...), undefined when absent. */
export function credentialParam(msg: SipMessage, name: string): string | undefined {
  return requestCredentials(msg)?.params.get(name);
}

/** `alice@example.com` → ['alice', 'example.com']; `alice` → ['alice', undefined]. */
export function splitUsername(username: string): [string, string | undefined] {
  const at = username.indexOf('@');
  return at < 0 ? [username, undefined] : [username.slice(0, at), username.slice(at + 1)];
}
