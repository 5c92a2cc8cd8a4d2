import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { MiError } from '../../mi/command.ts';
import type { ServerTxPort } from '../../proxy/core.ts';
import { newRelayState } from '../../proxy/script_context.ts';
import type { ReceiveInfo } from '../../transport/types.ts';
import { recordOfDialog } from '../acc/record.ts';
import { fakeContext, parse, request, response } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { dlgEndDlg, dlgList, profileGetSize } from './commands.ts';
import { type Dialog, DLG_CONFIRMED, DLG_CONFIRMED_NA, DLG_EARLY } from './dialog.ts';
import { Dialogs, setDialogs } from './service.ts';

const INFO = {
  source: { protocol: 'udp', address: '192.0.2.10', port: 5060 },
  listener: { id: 1, protocol: 'udp', address: '127.0.0.1', port: 5060 },
} as unknown as ReceiveInfo;

function fakeTx(): ServerTxPort & { sent: number[]; onTerminated?: () => void } {
  const sent: number[] = [];
  return {
    key: 'k',
    request: parse(request()),
    isInvite: true,
    lastStatus: 0,
    sent,
    respond(_data: Buffer, status: number) {
      sent.push(status);
      (this as { lastStatus: number }).lastStatus = status;
    },
  };
}

const INVITE = request({
  headers: ['Contact: <sip:alice@192.0.2.10:5060>', 'Record-Route: <sip:p1.example.com;lr>'],
});
const OK = response(200, 'OK', [
  'Contact: <sip:bob@192.0.2.20:5070>',
  'Record-Route: <sip:p2.example.com;lr>, <sip:127.0.0.1:5060;lr>, <sip:p1.example.com;lr>',
]);

function answered(svc: Dialogs): Dialog {
  const tx = fakeTx();
  const d = svc.create(parse(INVITE), INFO, tx)!;
  d.onReply(parse(response(180, 'Ringing')));
  assert.equal(d.state, DLG_EARLY);
  d.onReply(parse(OK));
  tx.respond(Buffer.from('SIP/2.0 200 OK\r\n'), 200);
  return d;
}

afterEach(() => setDialogs(undefined));

describe('dialog tracking', () => {
  it('follows a call: early, confirmed, ACK, BYE from the callee; the record says who hung up', () => {
    const svc = new Dialogs();
    svc.isMyself = (u) => u.includes('127.0.0.1:5060');
    const ended: Dialog[] = [];
    svc.onEnd((d) => ended.push(d));
    const d = answered(svc);
    assert.equal(d.state, DLG_CONFIRMED_NA);
    assert.equal(d.toTag, 'a6c85cf');
    assert.equal(d.calleeContact, 'sip:bob@192.0.2.20:5070');
    assert.deepEqual(d.calleeRouteSet, ['<sip:p2.example.com;lr>']);
    assert.deepEqual(d.callerRouteSet, ['<sip:p1.example.com;lr>']);
    assert.equal(svc.stats.active_dialogs, 1);
    assert.equal(svc.stats.early_dialogs, 0);
    const ack = parse(request({ method: 'ACK', to: 'Bob <sip:bob@example.com>;tag=a6c85cf' }));
    svc.onRequest(ack, INFO, undefined, newRelayState());
    assert.equal(d.state, DLG_CONFIRMED);
    const bye = parse(
      request({
        method: 'BYE',
        cseq: 7,
        from: 'Bob <sip:bob@example.com>;tag=a6c85cf',
        to: 'Alice <sip:alice@atlanta.example.com>;tag=1928301774',
      }),
    );
    const state = newRelayState();
    svc.onRequest(bye, INFO, undefined, state);
    assert.equal(state.dlg, d);
    assert.equal(d.ended, true);
    assert.equal(svc.size, 0);
    assert.equal(ended.length, 1);
    const r = recordOfDialog(d);
    assert.equal(r.status, 200);
    assert.equal(r.hangup, 'callee');
    assert.equal(r.source, 'udp:192.0.2.10:5060');
    assert.ok(r.answer_ts !== null && r.end_ts >= r.answer_ts);
  });

  it('a failed attempt ends with the final sent upstream (whatever sent it)', () => {
    const svc = new Dialogs();
    const ended: Dialog[] = [];
    svc.onEnd((d) => ended.push(d));
    const tx = fakeTx();
    const d = svc.create(parse(INVITE), INFO, tx)!;
    d.onReply(parse(response(486, 'Busy Here')));
    assert.equal(ended.length, 0, 'a branch response alone decides nothing');
    tx.respond(Buffer.from('SIP/2.0 486 Busy Here\r\nVia: x\r\n\r\n'), 486);
    assert.equal(ended.length, 1);
    assert.equal(d.status, 486);
    assert.equal(d.reason, 'Busy Here');
    assert.equal(recordOfDialog(d).hangup, 'none');
    assert.equal(svc.stats.failed_dialogs, 1);
  });

  it('an INVITE the script dropped ends its dialog when the transaction ends', () => {
    const svc = new Dialogs();
    const tx = fakeTx();
    const d = svc.create(parse(INVITE), INFO, tx)!;
    tx.onTerminated?.();
    assert.equal(d.ended, true);
    assert.equal(d.status, 500);
  });

  it('profiles count live dialogs; ending a dialog leaves them; the table is bounded', () => {
    const svc = new Dialogs({ max_dialogs: 2, profiles_with_value: 'caller' });
    setDialogs(svc);
    const a = svc.create(parse(INVITE), INFO, undefined)!;
    const b = svc.create(parse(request({ callId: 'other' })), INFO, undefined)!;
    assert.equal(svc.create(parse(request({ callId: 'third' })), INFO, undefined), undefined);
    assert.equal(svc.stats.rejected_dialogs, 1);
    svc.setProfile(a, 'caller', 'alice');
    svc.setProfile(b, 'caller', 'alice');
    svc.setProfile(b, 'total');
    assert.equal(svc.profileSize('caller', 'alice'), 2);
    assert.equal(svc.profileSize('caller'), 2);
    assert.equal(svc.profileSize('total'), 1);
    svc.end(a, 'caller');
    assert.equal(svc.profileSize('caller', 'alice'), 1);
    assert.deepEqual(svc.profileValues('caller'), [{ value: 'alice', count: 1 }]);
    assert.deepEqual(profileGetSize.handler({ profile: 'caller', value: 'alice' }, { transport: 'cli' }), {
      profile: 'caller',
      value: 'alice',
      count: 1,
    });
  });

  it('KSR.dialog: dlg_manage, set_dlg_profile, get_profile_size, $dlg_var', async () => {
    const svc = new Dialogs();
    setDialogs(svc);
    const ctx = fakeContext(INVITE);
    const K = ksr(ctx) as unknown as {
      dialog: Record<string, (...a: unknown[]) => number>;
      pv: { sets(n: string, v: string): void; get(n: string): unknown };
    };
    assert.equal(K.dialog.dlg_manage!(), 1);
    assert.equal(K.dialog.set_dlg_profile!('tp', '10'), 1);
    assert.equal(K.dialog.get_profile_size!('tp', '10', '$var(n)'), 1);
    assert.equal(K.pv.get('$var(n)'), 1);
    assert.equal(K.dialog.profile_size!('tp'), 1);
    K.pv.sets('$dlg_var(cp_id)', '2');
    assert.equal(K.pv.get('$dlg_var(cp_id)'), '2');
    assert.equal(svc.size, 1, 'one dialog for the call');
    const d = [...svc.list()][0]!;
    assert.equal(recordOfDialog(d).cp_id, '2');
    const list = (await dlgList.handler({}, { transport: 'cli' })) as {
      count: number;
      Dialogs: AsyncIterable<unknown>;
    };
    const rows: Array<Record<string, unknown>> = [];
    for await (const r of list.Dialogs) rows.push(r as Record<string, unknown>);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.callid, 'a84b4c76e66710@pc33.atlanta.example.com');
    assert.equal(rows[0]!.state, 1);
    assert.deepEqual(rows[0]!.variables, { cp_id: '2' });
    // A reply context has no dialog to create.
    const rctx = fakeContext(response(200, 'OK'), { kind: 'onreply', request: INVITE });
    assert.equal((ksr(rctx) as unknown as { dialog: Record<string, () => number> }).dialog.dlg_manage!(), -1);
  });
});

describe('dlg_end_dlg', () => {
  it('refuses an unanswered dialog (409) and an unknown one (404)', async () => {
    const svc = new Dialogs();
    setDialogs(svc);
    const d = svc.create(parse(INVITE), INFO, undefined)!;
    await assert.rejects(
      Promise.resolve(dlgEndDlg.handler({ dialog_id: String(d.id) }, { transport: 'cli' })),
      (e: MiError) => e.code === 409,
    );
    await assert.rejects(
      Promise.resolve(dlgEndDlg.handler({ dialog_id: '999' }, { transport: 'cli' })),
      (e: MiError) => e.code === 404,
    );
    assert.equal(d.ended, false);
  });

  it('without a UAC in the process, the dialog ends and the command says why', async () => {
    const svc = new Dialogs();
    setDialogs(svc);
    const d = answered(svc);
    await assert.rejects(svc.terminate(d, 'mi'), /no UAC/);
    assert.equal(d.ended, true);
  });
});
