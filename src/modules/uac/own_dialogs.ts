/**
 * Dialogs the server itself is a party of (click-to-dial's wrapper call, INVITEs sent with
 * t_uac_dlg / uac_req_send that were answered): in-dialog requests for them (the NOTIFYs a REFER
 * brings, a BYE from the other side) are answered here, before the routing script runs.
 */
import type { ServerTxPort, TransportPort } from '../../proxy/core.ts';
import { buildResponse } from '../../sip/build.ts';
import type { SipMessage } from '../../sip/message.ts';
import type { ReceiveInfo } from '../../transport/types.ts';
import type { UacDialog } from './client.ts';

export interface OwnDialogEvents {
  /** A request the other side sent in the dialog (NOTIFY, BYE …), after it was answered. */
  onRequest?(req: SipMessage): void;
}

interface Entry {
  readonly dialog: UacDialog;
  readonly events: OwnDialogEvents;
  /** The other side sent BYE. */
  ended: boolean;
}

/** Methods answered 200 in our own dialogs; anything else gets 501 (INVITE: 488). */
const ANSWERED = new Set(['BYE', 'NOTIFY', 'INFO', 'OPTIONS', 'UPDATE', 'MESSAGE']);

export class OwnDialogs {
  private readonly byKey = new Map<string, Entry>();

  add(dialog: UacDialog, events: OwnDialogEvents = {}): void {
    this.byKey.set(`${dialog.callId}\n${dialog.localTag}`, { dialog, events, ended: false });
  }

  remove(dialog: UacDialog): void {
    this.byKey.delete(`${dialog.callId}\n${dialog.localTag}`);
  }

  /** Whether the other side ended the dialog (sent BYE). */
  endedByPeer(dialog: UacDialog): boolean {
    return this.byKey.get(`${dialog.callId}\n${dialog.localTag}`)?.ended === true;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The core's request hook: true when the request was for one of our dialogs (answered here). */
  onRequest(
    req: SipMessage,
    info: ReceiveInfo,
    tx: ServerTxPort | undefined,
    core: { readonly transport: TransportPort },
  ): boolean {
    const tag = req.toTag;
    if (tag === undefined || this.byKey.size === 0) return false;
    const e = this.byKey.get(`${req.callId}\n${tag}`);
    if (e === undefined) return false;
    if (req.method === 'ACK') return true;
    const code = ANSWERED.has(req.method) ? 200 : req.method === 'INVITE' ? 488 : 501;
    const data = buildResponse(req, code, undefined, { toTag: tag });
    if (tx !== undefined) tx.respond(data, code);
    else core.transport.sendResponse(data, req, info);
    if (req.method === 'BYE') e.ended = true;
    if (code === 200) e.dialog.remoteCseq = Math.max(e.dialog.remoteCseq, req.cseq);
    e.events.onRequest?.(req);
    return true;
  }
}

let current: OwnDialogs | undefined;

export function ownDialogs(): OwnDialogs {
  current ??= new OwnDialogs();
  return current;
}
