import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildResponse } from '../sip/build.ts';
import type { SipMessage } from '../sip/message.ts';
import { newRelayState, ScriptContext, splitHeaderLine } from './script_context.ts';
import { deliver, FakeServerTx, parse, recvInfo, req, reqText, settle, setupCore } from './test_support.ts';

function context(kind: ScriptContext['kind'] = 'request', msg: SipMessage = req()) {
  const s = setupCore();
  const request = msg.isRequest ? msg : req();
  const ctx = new ScriptContext(s.core, kind, msg, request, recvInfo(), newRelayState());
  return { s, ctx };
}

describe('ScriptContext', () => {
  it('starts empty: no $du, no branches, flags 0, branch index -1', () => {
    const { ctx } = context();
    assert.equal(ctx.dstUri, undefined);
    assert.deepEqual(ctx.branches, []);
    assert.equal(ctx.flags, 0);
    assert.equal(ctx.bflags, 0);
    assert.equal(ctx.branchIndex, -1);
    assert.equal(ctx.replyCode, 0);
    assert.equal(ctx.dropped, false);
    assert.equal(ctx.ptx, undefined);
  });

  it('reply: statelessly without a transaction, with the extra reply headers', () => {
    const { s, ctx } = context();
    ctx.replyHeaders.push('X-A: 1\r\n', 'X-B: two words');
    assert.equal(ctx.reply(403, 'Forbidden Here'), 1);
    assert.ok(ctx.replied);
    assert.equal(s.transport.responses.length, 1);
    const res = s.transport.responses[0].msg;
    assert.equal(res.status, 403);
    assert.equal(res.reason, 'Forbidden Here');
    assert.equal(res.getHeader('X-A'), '1');
    assert.equal(res.getHeader('X-B'), 'two words');
    assert.equal(res.toTag, s.core.localTag(ctx.request));
  });

  it('reply: refused in reply routes and for ACK', () => {
    const res = parse(buildResponse(req(), 180, undefined, { toTag: 'x' }));
    assert.equal(context('reply', res).ctx.reply(500, 'x'), -1);
    assert.equal(context('onreply', res).ctx.reply(500, 'x'), -1);
    const ack = context('request', req({ method: 'ACK', toTag: 'x' }));
    assert.equal(ack.ctx.reply(200, 'OK'), -1);
    assert.equal(ack.s.transport.responses.length, 0);
  });

  it('flags and AVPs belong to the transaction state, shared by its contexts', () => {
    const s = setupCore();
    const state = newRelayState();
    const a = new ScriptContext(s.core, 'request', req(), req(), recvInfo(), state);
    const b = new ScriptContext(s.core, 'failure', req(), req(), recvInfo(), state);
    a.flags = 5;
    a.avps.set('x', [1]);
    assert.equal(b.flags, 5);
    assert.deepEqual(b.avps.get('x'), [1]);
    a.vars.set('v', 1);
    assert.equal(b.vars.size, 0, '$var is per message');
  });

  it('recordRoute: parameters accumulate, a preset replaces the address', () => {
    const { ctx } = context();
    assert.equal(ctx.recordRoute(), 1);
    assert.deepEqual(ctx.state.recordRoute, { params: '', preset: undefined });
    ctx.recordRoute('nat=yes');
    ctx.recordRoute(';did=1', 'proxy.example.com');
    assert.deepEqual(ctx.state.recordRoute, { params: ';nat=yes;did=1', preset: 'proxy.example.com' });
    assert.equal(ctx.removeRecordRoute(), true);
    assert.equal(ctx.state.recordRoute, undefined);
    assert.equal(ctx.removeRecordRoute(), false);
  });

  it('setHandler / getHandler per kind', () => {
    const { ctx } = context();
    const f = (): void => undefined;
    ctx.setHandler('failure', f);
    ctx.setHandler('branch', 'name');
    assert.equal(ctx.getHandler('failure'), f);
    assert.equal(ctx.getHandler('branch'), 'name');
    assert.equal(ctx.getHandler('onreply'), undefined);
    ctx.setHandler('failure', undefined);
    assert.equal(ctx.getHandler('failure'), undefined);
  });

  it('looseRoute sets $du to the next hop', () => {
    const { ctx } = context('request', req({ routes: ['<sip:192.0.2.10;lr>', '<sip:p2.example;lr>'] }));
    assert.equal(ctx.looseRoute(), 1);
    assert.equal(ctx.dstUri, 'sip:p2.example;lr');
    const none = context();
    assert.equal(none.ctx.looseRoute(), -1);
    assert.equal(none.ctx.dstUri, undefined);
  });

  it('isMyself asks the local addresses', () => {
    const { ctx } = context();
    assert.ok(ctx.isMyself('sip:192.0.2.10:5060'));
    assert.ok(!ctx.isMyself('sip:10.0.0.2'));
  });

  it('setFinalResponseTimers: 0 keeps the current value', () => {
    const { ctx } = context();
    ctx.setFinalResponseTimers(30_000, 0);
    ctx.setFinalResponseTimers(0, 5_000);
    assert.equal(ctx.state.frInvMs, 30_000);
    assert.equal(ctx.state.frMs, 5_000);
  });

  it('log goes to the core logger', () => {
    const { s, ctx } = context();
    ctx.log('warn', 'careful\n');
    assert.deepEqual(s.log.at('warn'), ['careful']);
  });

  it('hasTransaction / isCanceled follow the core', async () => {
    let seen: boolean[] = [];
    const s = setupCore({
      routes: {
        request: (ctx) => {
          seen = [ctx.hasTransaction(), ctx.isCanceled()];
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(seen, [true, false]);
    const { ctx } = context();
    assert.equal(ctx.hasTransaction(), false);
  });

  it('tracks relays in flight; whenIdle runs once they are done', async () => {
    const s = setupCore({ stateless: true });
    const ctx = new ScriptContext(s.core, 'request', req(), req(), recvInfo(), newRelayState());
    let idle = 0;
    ctx.whenIdle(() => idle++);
    assert.equal(idle, 1, 'nothing in flight: at once');
    const p = ctx.relay();
    assert.equal(ctx.inFlight, 1);
    ctx.whenIdle(() => idle++);
    assert.equal(idle, 1);
    assert.equal(await p, 1);
    assert.equal(ctx.inFlight, 0);
    assert.equal(idle, 2);
    const f = ctx.forwardStateless('tel:+1555');
    assert.equal(ctx.inFlight, 1);
    assert.equal(await f, -1);
    await settle();
    assert.equal(ctx.inFlight, 0);
  });

  it('relay with a dstUri option sets $du first', async () => {
    const s = setupCore({ stateless: true });
    const ctx = new ScriptContext(s.core, 'request', req(), req(), recvInfo(), newRelayState());
    assert.equal(await ctx.relay({ dstUri: 'sip:10.0.0.99:5099' }), 1);
    assert.deepEqual(s.transport.sent[0].dest, { protocol: 'udp', address: '10.0.0.99', port: 5099 });
  });

  it('a reply through the server transaction', async () => {
    const s = setupCore();
    const r = req();
    const tx = new FakeServerTx(r);
    let code = 0;
    s.script.routes.request = (ctx) => {
      code = ctx.reply(180, 'Ringing') as number;
    };
    s.core.onRequest(r, recvInfo(), tx);
    await settle();
    assert.equal(code, 1);
    assert.deepEqual(tx.statuses(), [180]);
    assert.equal(s.transport.responses.length, 0);
  });
});

describe('splitHeaderLine', () => {
  it('splits name and value, trims, drops the line end', () => {
    assert.deepEqual(splitHeaderLine('X-A: 1\r\n'), ['X-A', '1']);
    assert.deepEqual(splitHeaderLine('X-B:two: parts'), ['X-B', 'two: parts']);
    assert.deepEqual(splitHeaderLine('  X-C :  v  \n'), ['X-C', 'v']);
    assert.deepEqual(splitHeaderLine('NoColon\r\n'), ['NoColon', '']);
  });
});
