/**
 * The To tag of replies the server generates for a request (KSR.sl.get_reply_totag): the one the
 * proxy core puts in its local replies, so the script names the tag the reply actually carries.
 */
export { localToTag as replyToTag } from '../../sip/build.ts';
