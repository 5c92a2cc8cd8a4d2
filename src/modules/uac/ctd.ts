/**
 * Click-to-dial with REFER (the seed's "distributed click-to-dial", SER's examples/ctd.sh):
 *
 *   INVITE caller (on-hold SDP) → 200 → ACK → REFER (Refer-To: callee, Referred-By) → 202 → BYE
 *
 * after which the caller calls the callee itself (through this server). Each step's outcome is
 * reported; a failure cleans up — CANCEL of an unanswered INVITE, BYE of an answered one — and
 * names the step that failed.
 */
import { MiError } from '../../mi/command.ts';
import { dialogFromResponse, type Uac, type UacDialog, UacError, type UacOutcome } from './client.ts';
import { ownDialogs } from './own_dialogs.ts';

export interface CtdOptions {
  readonly caller: string;
  readonly callee: string;
  /** The controller's URI (From of the wrapper call, Referred-By); default sip:ctd@<our address>. */
  readonly from?: string;
  /** How long the caller may ring before the INVITE is cancelled, ms. */
  readonly ringTimeoutMs?: number;
}

export interface CtdStep {
  readonly step: 'invite' | 'ack' | 'refer' | 'bye' | 'cancel';
  readonly status: string;
}

export interface CtdResult {
  readonly caller: string;
  readonly callee: string;
  readonly callid: string;
  readonly steps: CtdStep[];
}

/** SDP of a held call (RFC 3264 §8.4): connection 0.0.0.0, sendonly. */
export function onHoldSdp(host: string): string {
  return [
    'v=0',
    `o=junction ${Date.now() % 1000000} 1 IN IP4 ${host}`,
    's=click-to-dial',
    'c=IN IP4 0.0.0.0',
    't=0 0',
    'm=audio 9 RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendonly',
    '',
  ].join('\r\n');
}

const status = (o: { status: number; reason: string }): string => `${o.status} ${o.reason}`;

function sipUri(s: string, what: string): string {
  const v = s.trim().replace(/^<(.*)>$/, '$1');
  if (!/^sips?:[^\s<>"]+$/i.test(v)) throw new MiError(400, `bad ${what} URI ${JSON.stringify(s)}`);
  return v;
}

/** Run click-to-dial; resolves with every step, or throws MiError naming the failed step. */
export async function clickToDial(uac: Uac, o: CtdOptions): Promise<CtdResult> {
  const caller = sipUri(o.caller, 'caller');
  const callee = sipUri(o.callee, 'callee');
  const steps: CtdStep[] = [];
  const fail = (step: string, code: number, why: string): never => {
    const cleanup = steps.filter((s) => s.step === 'cancel' || (s.step === 'bye' && step !== 'bye'));
    const tail = cleanup.length === 0 ? '' : ` (${cleanup.map((s) => `${s.step}: ${s.status}`).join(', ')})`;
    throw new MiError(code >= 300 && code < 700 ? code : 500, `ctd ${step} failed: ${why}${tail}`);
  };

  // #1 INVITE caller, on hold; CANCEL when it rings too long.
  let controller: string;
  try {
    controller = o.from === undefined ? await uac.localUri('ctd', caller) : sipUri(o.from, 'from');
  } catch (e) {
    if (e instanceof UacError) return fail('invite', e.status, e.message);
    throw e;
  }
  const host = controller.replace(/^sips?:(?:[^@]*@)?(\[[^\]]*\]|[^:;>]*).*$/, '$1');
  let cancel: ((reason?: string) => void) | undefined;
  let rang = false;
  const ringTimeout = o.ringTimeoutMs ?? 30000;
  const timer = setTimeout(() => {
    cancel?.('SIP;cause=408;text="No answer"');
    steps.push({ step: 'cancel', status: 'sent (no answer)' });
  }, ringTimeout);
  timer.unref();
  let invite: UacOutcome;
  try {
    invite = await uac.send({
      method: 'INVITE',
      ruri: caller,
      from: `<${controller}>`,
      to: `<${caller}>`,
      contact: `<${controller}>`,
      headers: [['Subject', 'click-to-dial']],
      body: onHoldSdp(host),
      contentType: 'application/sdp',
      onStarted: (c) => {
        cancel = c;
      },
      onProvisional: () => {
        rang = true;
      },
    });
  } catch (e) {
    clearTimeout(timer);
    if (e instanceof UacError) return fail('invite', e.status, e.message);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  steps.push({ step: 'invite', status: status(invite) });
  if (invite.status >= 300 || invite.status < 200) {
    const why =
      invite.status === 487 ? `no answer within ${ringTimeout} ms${rang ? ' (rang)' : ''}` : status(invite);
    return fail('invite', invite.status, why);
  }
  const dialog = dialogFromResponse(invite);
  if (dialog === undefined) {
    return fail('invite', 500, `${status(invite)} without Contact or To tag: cannot continue the dialog`);
  }
  const own = ownDialogs();
  own.add(dialog);
  try {
    // #3 ACK.
    uac.sendAck(dialog, invite);
    steps.push({ step: 'ack', status: 'sent' });
    // #4 REFER, #5 202.
    const referredBy = `<${controller}>`;
    const refer = await sendOrFail(uac, dialog, 'REFER', [
      ['Refer-To', `<${callee}>`],
      ['Referred-By', referredBy],
    ]);
    steps.push({ step: 'refer', status: status(refer) });
    const byeAfter = async (): Promise<void> => {
      if (own.endedByPeer(dialog)) {
        steps.push({ step: 'bye', status: 'not needed (the caller hung up)' });
        return;
      }
      const bye = await sendOrFail(uac, dialog, 'BYE', []);
      steps.push({ step: 'bye', status: status(bye) });
    };
    if (refer.status < 200 || refer.status >= 300) {
      await byeAfter();
      return fail('refer', refer.status, status(refer));
    }
    // #6 BYE, #7 200.
    await byeAfter();
    const last = steps[steps.length - 1]!;
    if (last.step === 'bye' && /^[3-6]\d\d /.test(last.status)) {
      return fail('bye', Number(last.status.slice(0, 3)), last.status);
    }
    return { caller, callee, callid: dialog.callId, steps };
  } finally {
    // NOTIFYs for the REFER may still arrive for a short while: answer them, then forget.
    setTimeout(() => own.remove(dialog), 32000).unref();
  }
}

async function sendOrFail(
  uac: Uac,
  dialog: UacDialog,
  method: string,
  headers: Array<[string, string]>,
): Promise<{ status: number; reason: string }> {
  try {
    return await uac.inDialog(dialog, method, { headers });
  } catch (e) {
    return { status: e instanceof UacError ? e.status : 500, reason: (e as Error).message };
  }
}
