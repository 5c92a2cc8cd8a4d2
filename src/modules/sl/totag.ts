/**
 * The To tag of replies the server generates for a request. It must be the same for every
 * retransmission of the request (RFC 3261 §8.2.6.2: a retransmitted request gets the same reply),
 * so it is a hash of what identifies the request — Call-ID, From tag and top Via branch — and not
 * random. The proxy core derives its local To tags the same way (ProxyCore.localTag), so
 * KSR.sl.get_reply_totag() names the tag the reply actually carries.
 */
import { createHash } from 'node:crypto';
import type { SipMessage } from '../../sip/message.ts';

export function replyToTag(req: SipMessage): string {
  return createHash('sha1')
    .update(req.callId)
    .update(req.fromTag ?? '')
    .update(req.topVia.branch ?? '')
    .digest('hex')
    .slice(0, 16);
}
