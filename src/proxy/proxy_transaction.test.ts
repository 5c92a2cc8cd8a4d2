import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { SipMessage } from '../sip/message.ts';
import { TransactionLayer } from '../transaction/transaction_layer.ts';
import type { Endpoint } from '../transport/types.ts';
import { ProxyCore } from './core.ts';
import { LocalAddresses } from './myself.ts';
import type { ScriptContext } from './script_context.ts';
import { Resolver } from './target.ts';
import {
  asHandler,
  type CoreSetup,
  deliver,
  FakeTransport,
  FnScript,
  MemoryLog,
  parse,
  type Route,
  type Routes,
  recvInfo,
  req,
  reqText,
  settle,
  setupCore,
  UAC_VIA,
} from './test_support.ts';

const COMPLETED_ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';

/** A request route forking to bob (R-URI), carol and dave. */
function forkTo(...extra: string[]): Route {
  return async (ctx) => {
    for (const uri of extra) ctx.branches.push({ uri });
    await ctx.relay();
  };
}

const FORK3 = forkTo('sip:carol@10.0.0.3', 'sip:dave@10.0.0.4');

async function forked(
  routes: Routes = { request: FORK3 },
  spec = {},
): Promise<CoreSetup & { tx: NonNullable<Awaited<ReturnType<typeof deliver>>['tx']> }> {
  const s = setupCore({ routes });
  const { tx } = await deliver(s, reqText(spec));
  assert.ok(tx !== undefined);
  return { ...s, tx };
}

describe('ProxyTransaction: parallel forking', () => {
  it('sends one branch per target, each with its R-URI, own branch id and Max-Forwards decremented', async () => {
    const s = await forked(undefined, { maxForwards: 10 });
    assert.equal(s.txs.clients.length, 3);
    const sent = s.txs.clients.map((c) => parse(c.data));
    assert.deepEqual(
      sent.map((m) => m.ruri),
      ['sip:bob@10.0.0.2', 'sip:carol@10.0.0.3', 'sip:dave@10.0.0.4'],
    );
    assert.deepEqual(
      s.txs.clients.map((c) => c.dest.address),
      ['10.0.0.2', '10.0.0.3', '10.0.0.4'],
    );
    assert.equal(new Set(sent.map((m) => m.topVia.branch)).size, 3, 'distinct branch ids');
    assert.deepEqual(
      sent.map((m) => m.maxForwards),
      [9, 9, 9],
      'every branch has Max-Forwards decremented',
    );
    for (const m of sent) assert.deepEqual(m.getHeaders('Via').slice(1), [UAC_VIA]);
  });

  it('caps the number of branches (maxBranches)', async () => {
    const s = setupCore({ routes: { request: FORK3 }, maxBranches: 2 });
    await deliver(s, reqText());
    assert.equal(s.txs.clients.length, 2);
  });

  it('forwards 180s from every branch, then the 2xx; the other branches are CANCELed', async () => {
    const s = await forked();
    const [b0, b1, b2] = s.txs.clients;
    b1.reply(180, { toTag: 'carol' });
    b0.reply(180, { toTag: 'bob' });
    b2.reply(200, { toTag: 'dave' });
    assert.deepEqual(s.tx.statuses(), [180, 180, 200]);
    assert.deepEqual(
      s.tx.responses.map((r) => r.toTag),
      ['carol', 'bob', 'dave'],
    );
    assert.deepEqual(b0.cancels, [COMPLETED_ELSEWHERE]);
    assert.deepEqual(b1.cancels, [COMPLETED_ELSEWHERE]);
    assert.deepEqual(b2.cancels, []);
    // The canceled branches answer 487: absorbed.
    b0.reply(487);
    b1.reply(487);
    assert.deepEqual(s.tx.statuses(), [180, 180, 200]);
  });

  it('a second 2xx (another callee answered too) is forwarded as well (§16.7 step 10)', async () => {
    const s = await forked();
    const [b0, b1] = s.txs.clients;
    b0.reply(180);
    b1.reply(180);
    b0.reply(200, { toTag: 'bob' });
    b1.reply(200, { toTag: 'carol' });
    assert.deepEqual(s.tx.statuses(), [180, 180, 200, 200]);
    assert.deepEqual(
      s.tx.finals().map((r) => r.toTag),
      ['bob', 'carol'],
    );
    b0.reply(200, { toTag: 'bob' });
    assert.equal(s.tx.finals().length, 3, '2xx retransmissions go through end to end');
  });

  it('no provisional after the 2xx went upstream', async () => {
    const s = await forked();
    const [b0, b1] = s.txs.clients;
    b0.reply(200);
    b1.reply(180);
    assert.deepEqual(s.tx.statuses(), [200]);
  });

  it('a non-INVITE: only the first 2xx goes upstream', async () => {
    const s = await forked(undefined, { method: 'MESSAGE' });
    const [b0, b1, b2] = s.txs.clients;
    b0.reply(202);
    b1.reply(200);
    b2.reply(404);
    assert.deepEqual(s.tx.statuses(), [202]);
  });

  it('a 6xx cancels the other branches and wins once they ended', async () => {
    const s = await forked();
    const [b0, b1, b2] = s.txs.clients;
    b0.reply(180);
    b1.reply(603, { toTag: 'carol' });
    assert.deepEqual(b0.cancels, [undefined]);
    assert.equal(
      b2.cancels.length,
      1,
      'a branch without provisional is canceled too (sent on its first 1xx)',
    );
    assert.deepEqual(s.tx.statuses(), [180], 'not forwarded while a branch is pending (§16.7 step 5)');
    b0.reply(487);
    assert.deepEqual(s.tx.statuses(), [180, 603]);
    assert.equal(s.tx.finals()[0].toTag, 'carol');
  });

  it('a 2xx after a 6xx still goes through (a 2xx is a dialog at the UAS)', async () => {
    const s = await forked();
    const [b0, b1] = s.txs.clients;
    b0.reply(180);
    b1.reply(600);
    b0.reply(200);
    assert.deepEqual(s.tx.statuses(), [180, 200]);
  });
});

describe('ProxyTransaction: responses that lost their Vias', () => {
  it('a response carrying only our Via is not forwarded as it is (§16.7 step 3)', async () => {
    const s = await forked({ request: forkTo() });
    const [b0] = s.txs.clients;
    // A broken callee answers with our Via only: strip the caller's Via from what it echoes.
    const echoOnlyOurs = (status: number): SipMessage => {
      const res = b0.response(status, { toTag: 'bob' });
      const cut = res
        .serialize()
        .toString('latin1')
        .replace(/Via: SIP\/2\.0\/UDP 10\.0\.0\.1[^\r]*\r\n/, '');
      return parse(Buffer.from(cut, 'latin1'));
    };
    const ringing = echoOnlyOurs(180);
    assert.equal((ringing.vias() as unknown[]).length, 1);
    b0.handler.onProvisional(ringing, b0);
    assert.deepEqual(s.tx.statuses(), []);
    b0.handler.onFinal(echoOnlyOurs(486), b0);
    // The final still reaches the caller, built from the request: its own Via, the callee's To tag.
    assert.deepEqual(s.tx.statuses(), [486]);
    const sent = s.tx.responses[0];
    assert.equal(sent.topVia.host, '10.0.0.1');
    assert.equal(sent.toTag, 'bob');
  });
});

describe('ProxyTransaction: best response (RFC 3261 §16.7 step 6)', () => {
  it('the lowest class wins when every branch failed', async () => {
    const s = await forked();
    const [b0, b1, b2] = s.txs.clients;
    b0.reply(500);
    b1.reply(302, { headers: [['Contact', '<sip:x@10.0.0.9>']] });
    assert.deepEqual(s.tx.statuses(), []);
    b2.reply(404);
    assert.deepEqual(s.tx.statuses(), [302]);
    assert.equal(s.tx.responses[0].getHeader('Contact'), '<sip:x@10.0.0.9>');
    assert.deepEqual(s.tx.responses[0].getHeaders('Via'), [UAC_VIA]);
  });

  it('prefers 401/407 in 4xx and aggregates every WWW-/Proxy-Authenticate', async () => {
    const s = await forked();
    const [b0, b1, b2] = s.txs.clients;
    b0.reply(486);
    b1.reply(401, { headers: [['WWW-Authenticate', 'Digest realm="carol.example", nonce="1"']] });
    b2.reply(407, {
      headers: [
        ['Proxy-Authenticate', 'Digest realm="dave.example", nonce="2"'],
        ['Proxy-Authenticate', 'Digest realm="dave2.example", nonce="3"'],
      ],
    });
    assert.deepEqual(s.tx.statuses(), [401]);
    const r = s.tx.responses[0];
    assert.deepEqual(r.getHeaders('WWW-Authenticate'), ['Digest realm="carol.example", nonce="1"']);
    assert.deepEqual(r.getHeaders('Proxy-Authenticate'), [
      'Digest realm="dave.example", nonce="2"',
      'Digest realm="dave2.example", nonce="3"',
    ]);
    assert.deepEqual(r.getHeaders('Via'), [UAC_VIA]);
  });

  it('two 401s: both challenges in the one forwarded', async () => {
    const s = await forked({ request: forkTo('sip:carol@10.0.0.3') });
    const [b0, b1] = s.txs.clients;
    b0.reply(401, { headers: [['WWW-Authenticate', 'Digest realm="a"']] });
    b1.reply(401, { headers: [['WWW-Authenticate', 'Digest realm="b"']] });
    assert.deepEqual(s.tx.responses[0].getHeaders('WWW-Authenticate'), [
      'Digest realm="a"',
      'Digest realm="b"',
    ]);
  });

  it('a selected 503 goes upstream as 500', async () => {
    const s = await forked({ request: forkTo('sip:carol@10.0.0.3') });
    const [b0, b1] = s.txs.clients;
    b0.reply(503, { headers: [['Retry-After', '30']] });
    b1.reply(503);
    assert.deepEqual(s.tx.statuses(), [500]);
    assert.equal(s.tx.responses[0].reason, 'Server Internal Error');
    assert.equal(s.core.stats.relayed, 1);
  });

  it('a received answer beats a local timeout in the same class', async () => {
    const s = await forked({ request: forkTo('sip:carol@10.0.0.3') });
    const [b0, b1] = s.txs.clients;
    b0.timeout();
    b1.reply(480);
    assert.deepEqual(s.tx.statuses(), [480]);
  });

  it('no answer at all: a local 408 with our To tag', async () => {
    const s = await forked({ request: forkTo('sip:carol@10.0.0.3') });
    const [b0, b1] = s.txs.clients;
    b0.timeout();
    b1.timeout();
    assert.deepEqual(s.tx.statuses(), [408]);
    const r = s.tx.responses[0];
    assert.equal(r.toTag, s.core.localTag(s.tx.request));
    assert.deepEqual(r.getHeaders('Via'), [UAC_VIA]);
  });

  it('a transport error counts as a local 503, sent as 500', async () => {
    const s = await forked({ request: forkTo() });
    s.txs.clients[0].transportError();
    assert.deepEqual(s.tx.statuses(), [500]);
  });

  it('a late final after the branch timed out is ignored', async () => {
    const s = await forked({ request: forkTo('sip:carol@10.0.0.3') });
    const [b0, b1] = s.txs.clients;
    b0.timeout();
    b0.reply(486);
    b1.reply(404);
    assert.deepEqual(s.tx.statuses(), [404], 'the 486 came after the branch was closed as 408');
  });
});

describe('ProxyTransaction: failure route and serial forking', () => {
  it('runs the failure route with the best reply; a new branch there is serial forking', async () => {
    const seen: string[] = [];
    const failure: Route = async (ctx) => {
      seen.push(`${ctx.kind} ${ctx.replyCode} ${ctx.branchIndex} ${ctx.msg.isRequest}`);
      ctx.request.setRuri('sip:voicemail@10.0.0.9');
      assert.equal(await ctx.relay(), 1);
    };
    const s = await forked({
      request: async (ctx) => {
        ctx.setHandler('failure', asHandler(failure));
        await ctx.relay();
      },
    });
    const [b0] = s.txs.clients;
    b0.reply(180);
    b0.reply(486);
    await settle();
    assert.deepEqual(seen, ['failure 486 0 true']);
    assert.equal(s.txs.clients.length, 2);
    const vm = s.txs.clients[1];
    assert.equal(vm.msg.ruri, 'sip:voicemail@10.0.0.9');
    assert.deepEqual(vm.dest, { protocol: 'udp', address: '10.0.0.9', port: 5060 });
    assert.notEqual(vm.msg.topVia.branch, b0.msg.topVia.branch);
    assert.deepEqual(s.tx.statuses(), [180], 'the 486 was not forwarded');
    vm.reply(200);
    assert.deepEqual(s.tx.statuses(), [180, 200]);
  });

  it('a failure route runs once per arming: without re-arming, the next failure is answered', async () => {
    let runs = 0;
    const s = await forked({
      request: async (ctx) => {
        ctx.setHandler('failure', async (f: unknown) => {
          runs++;
          const fctx = f as ScriptContext;
          assert.equal(fctx.getHandler('failure'), undefined, 'reset before it runs (t_is_set)');
          fctx.dstUri = 'sip:10.0.0.9';
          await fctx.relay();
        });
        await ctx.relay();
      },
    });
    s.txs.clients[0].reply(404);
    await settle();
    assert.equal(s.txs.clients.length, 2);
    s.txs.clients[1].reply(486);
    await settle();
    assert.equal(runs, 1);
    assert.deepEqual(s.tx.statuses(), [404], 'the best of both branches (same rank: the earliest)');
  });

  it('re-arming t_on_failure in the failure route walks a list of targets', async () => {
    const targets = ['sip:a@10.0.0.11', 'sip:b@10.0.0.12', 'sip:c@10.0.0.13'];
    const codes: number[] = [];
    const next: Route = async (ctx) => {
      codes.push(ctx.replyCode);
      const t = targets.shift();
      if (t === undefined) return;
      ctx.setHandler('failure', asHandler(next));
      ctx.request.setRuri(t);
      await ctx.relay();
    };
    const s = await forked({
      request: async (ctx) => {
        ctx.setHandler('failure', asHandler(next));
        await ctx.relay();
      },
    });
    for (const status of [503, 486, 302, 404]) {
      s.txs.clients[s.txs.clients.length - 1].reply(status);
      await settle();
    }
    // The failure route sees the best reply of every branch so far (RFC 3261 §16.7: one response context).
    assert.deepEqual(codes, [503, 486, 302, 302]);
    assert.deepEqual(
      s.txs.clients.map((c) => c.msg.ruri),
      ['sip:bob@10.0.0.2', ...['sip:a@10.0.0.11', 'sip:b@10.0.0.12', 'sip:c@10.0.0.13']],
    );
    assert.deepEqual(s.tx.statuses(), [302]);
  });

  it('the failure route may answer itself (t_reply)', async () => {
    const s = await forked({
      request: async (ctx) => {
        ctx.setHandler('failure', (f: unknown) => {
          const fctx = f as ScriptContext;
          fctx.replyHeaders.push('X-Reason: moved');
          assert.equal(fctx.reply(480, 'Temporarily Gone'), 1);
          assert.equal(fctx.reply(500, 'Twice'), -1, 'one final only');
        });
        await ctx.relay();
      },
    });
    s.txs.clients[0].reply(486);
    assert.deepEqual(s.tx.statuses(), [480]);
    assert.equal(s.tx.responses[0].reason, 'Temporarily Gone');
    assert.equal(s.tx.responses[0].getHeader('X-Reason'), 'moved');
  });

  it('the failure route runs by name (a handler exported by the script)', async () => {
    let ran = false;
    const s = await forked({
      request: async (ctx) => {
        ctx.setHandler('failure', 'manage_failure');
        await ctx.relay();
      },
      named: {
        manage_failure: () => {
          ran = true;
        },
      },
    });
    s.txs.clients[0].reply(404);
    assert.ok(ran);
    assert.deepEqual(s.tx.statuses(), [404]);
  });

  it('a failure route that relays to an unroutable target: the best so far is answered', async () => {
    const s = await forked({
      request: async (ctx) => {
        ctx.setHandler('failure', async (f: unknown) => {
          const fctx = f as ScriptContext;
          fctx.request.setRuri('tel:+1555');
          assert.equal(await fctx.relay(), -1);
        });
        await ctx.relay();
      },
    });
    s.txs.clients[0].reply(486);
    await settle();
    assert.deepEqual(s.tx.statuses(), [486]);
  });

  it('the failure route of a canceled transaction sees t_is_canceled and cannot add branches', async () => {
    const seen: Array<{ canceled: boolean; relay: number }> = [];
    const s = await forked({
      request: async (ctx) => {
        ctx.setHandler('failure', async (f: unknown) => {
          const fctx = f as ScriptContext;
          fctx.request.setRuri('sip:voicemail@10.0.0.9');
          seen.push({ canceled: fctx.isCanceled(), relay: await fctx.relay() });
        });
        await ctx.relay();
      },
    });
    const b0 = s.txs.clients[0];
    b0.reply(180);
    s.core.onCancel(req({ method: 'CANCEL' }), recvInfo(), s.tx);
    b0.reply(487);
    await settle();
    assert.deepEqual(seen, [{ canceled: true, relay: -1 }]);
    assert.equal(s.txs.clients.length, 1, 'no new branch after CANCEL');
    assert.deepEqual(s.tx.statuses(), [180, 487]);
  });

  it('a CANCEL while the failure route awaits: its t_relay is refused', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const results: number[] = [];
    const s = await forked({
      request: async (ctx) => {
        ctx.setHandler('failure', async (f: unknown) => {
          const fctx = f as ScriptContext;
          await gate;
          fctx.request.setRuri('sip:voicemail@10.0.0.9');
          results.push(await fctx.relay());
        });
        await ctx.relay();
      },
    });
    s.txs.clients[0].reply(180);
    s.txs.clients[0].reply(486);
    s.core.onCancel(req({ method: 'CANCEL' }), recvInfo(), s.tx);
    open();
    await settle();
    assert.deepEqual(results, [-1]);
    assert.equal(s.txs.clients.length, 1, 'no INVITE to the voicemail after the caller hung up');
    assert.deepEqual(s.tx.statuses(), [180, 486], 'the best reply of the ended branches');
  });

  it('a failure route answers once: a provisional after the final is refused too', async () => {
    const codes: number[] = [];
    const s = await forked({
      request: async (ctx) => {
        ctx.setHandler('failure', (f: unknown) => {
          const fctx = f as ScriptContext;
          codes.push(fctx.reply(480, 'Gone') as number, fctx.reply(183, 'Late') as number);
        });
        await ctx.relay();
      },
    });
    s.txs.clients[0].reply(404);
    assert.deepEqual(codes, [1, -1]);
    assert.deepEqual(s.tx.statuses(), [480]);
  });

  it('branch_failure route: runs for each failed branch', async () => {
    const seen: string[] = [];
    const s = await forked({
      request: async (ctx) => {
        ctx.setHandler('branch_failure', (f: unknown) => {
          const fctx = f as ScriptContext;
          seen.push(`${fctx.kind} ${fctx.branchIndex} ${fctx.replyCode}`);
        });
        ctx.branches.push({ uri: 'sip:carol@10.0.0.3' }, { uri: 'sip:dave@10.0.0.4' });
        await ctx.relay();
      },
    });
    const [b0, b1, b2] = s.txs.clients;
    b1.reply(486);
    b0.timeout();
    b2.reply(404);
    assert.deepEqual(seen, ['branch_failure 1 486', 'branch_failure 0 408', 'branch_failure 2 404']);
    assert.deepEqual(s.tx.statuses(), [486]);
  });
});

describe('ProxyTransaction: CANCEL from upstream (§16.10)', () => {
  it('cancels every pending branch; the caller gets the 487', async () => {
    const s = await forked();
    const [b0, b1, b2] = s.txs.clients;
    b0.reply(180);
    b1.reply(183);
    b2.reply(486);
    s.core.onCancel(req({ method: 'CANCEL' }), recvInfo(), s.tx);
    assert.deepEqual(b0.cancels, [undefined]);
    assert.deepEqual(b1.cancels, [undefined]);
    assert.deepEqual(b2.cancels, [], 'an answered branch is not canceled');
    assert.deepEqual(s.tx.statuses(), [180, 183]);
    b0.reply(487);
    b1.reply(487);
    assert.deepEqual(s.tx.statuses(), [180, 183, 487]);
  });

  it('branches without a provisional end at once as 487 (the CANCEL goes with their first 1xx)', async () => {
    const s = await forked();
    s.core.onCancel(req({ method: 'CANCEL' }), recvInfo(), s.tx);
    assert.ok(s.txs.clients.every((c) => c.cancels.length === 1));
    assert.deepEqual(s.tx.statuses(), [487]);
    assert.equal(s.tx.responses[0].toTag, s.core.localTag(s.tx.request));
  });

  it('CANCEL while the script still decides: 487 now, t_relay refused, t_is_canceled true', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const seen: Array<{ canceled: boolean; relay: number }> = [];
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          await gate;
          seen.push({ canceled: ctx.isCanceled(), relay: await ctx.relay() });
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    s.core.onCancel(req({ method: 'CANCEL' }), recvInfo(), tx!);
    assert.deepEqual(tx?.statuses(), [487]);
    open();
    await settle();
    assert.deepEqual(seen, [{ canceled: true, relay: -1 }]);
    assert.equal(s.txs.clients.length, 0);
  });

  it('CANCEL while a branch target is being resolved: the INVITE is not sent afterwards', async () => {
    let answer: (a: string | null) => void = () => undefined;
    const s = setupCore({
      routes: { request: forkTo() },
      resolver: new Resolver(
        1000,
        1000,
        10,
        () =>
          new Promise<string | null>((r) => {
            answer = r;
          }),
      ),
    });
    const { tx } = await deliver(s, reqText({ ruri: 'sip:bob@slow.example' }));
    assert.equal(s.txs.clients.length, 0);
    s.core.onCancel(req({ method: 'CANCEL' }), recvInfo(), tx!);
    assert.deepEqual(tx?.statuses(), [487]);
    answer('10.0.0.2');
    await settle();
    assert.equal(s.txs.clients.length, 0, 'no INVITE to a callee nobody would CANCEL');
  });

  it('a 2xx elsewhere while a branch is still being resolved: that branch is not sent', async () => {
    let answer: (a: string | null) => void = () => undefined;
    const s = setupCore({
      routes: { request: forkTo('sip:carol@slow.example') },
      resolver: new Resolver(
        1000,
        1000,
        10,
        () =>
          new Promise<string | null>((r) => {
            answer = r;
          }),
      ),
    });
    const { tx } = await deliver(s, reqText());
    assert.equal(s.txs.clients.length, 1);
    s.txs.clients[0].reply(200);
    answer('10.0.0.3');
    await settle();
    assert.equal(s.txs.clients.length, 1);
    assert.deepEqual(tx?.statuses(), [200]);
  });
});

// ---------------------------------------------------------------- with the real transaction layer

describe('ProxyCore over the real TransactionLayer', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  function wire(routes: Routes): {
    layer: TransactionLayer;
    transport: FakeTransport;
    core: ProxyCore;
    errors: unknown[];
  } {
    const transport = new FakeTransport();
    const core = new ProxyCore({
      transport,
      local: new LocalAddresses(transport.listeners, [], []),
      resolver: new Resolver(),
      script: new FnScript(routes),
      log: new MemoryLog(),
    });
    const errors: unknown[] = [];
    const layer = new TransactionLayer(transport, core, {
      t1: 10,
      t2: 40,
      t4: 50,
      timerD: 60,
      timerC: 1000,
      onError: (e) => errors.push(e),
    });
    core.transactions = layer;
    return { layer, transport, core, errors };
  }

  const downstream = (address: string): ReturnType<typeof recvInfo> => recvInfo(undefined, address);

  /** A response from downstream to a request the proxy sent. */
  function answer(sent: SipMessage, status: number, toTag = `t${status}`): SipMessage {
    const lines = [`SIP/2.0 ${status} Whatever`];
    for (const v of sent.getHeaders('Via')) lines.push(`Via: ${v}`);
    lines.push(`From: ${sent.getHeader('From')}`);
    lines.push(`To: ${sent.getHeader('To')}${status > 100 ? `;tag=${toTag}` : ''}`);
    lines.push(
      `Call-ID: ${sent.callId}`,
      `CSeq: ${sent.cseq} ${sent.cseqMethod}`,
      'Content-Length: 0',
      '',
      '',
    );
    return parse(lines.join('\r\n'));
  }

  async function flush(): Promise<void> {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }

  it('INVITE ringing, CANCEL from the caller: CANCEL downstream, 487 upstream, ACKs hop by hop', async () => {
    const w = wire({ request: forkTo() });
    w.layer.receive(req(), recvInfo());
    await flush();
    const invite = w.transport.requests('INVITE')[0];
    assert.deepEqual(invite.dest, { protocol: 'udp', address: '10.0.0.2', port: 5060 } satisfies Endpoint);
    w.layer.receive(answer(invite.msg, 180), downstream('10.0.0.2'));
    assert.deepEqual(w.transport.statuses(), [100, 180]);

    w.layer.receive(req({ method: 'CANCEL' }), recvInfo());
    assert.deepEqual(w.transport.statuses(), [100, 180, 200], 'the layer answers the CANCEL');
    const cancel = w.transport.requests('CANCEL')[0];
    assert.ok(cancel !== undefined, 'CANCEL sent downstream');
    assert.equal(cancel.msg.topVia.branch, invite.msg.topVia.branch);

    w.layer.receive(answer(cancel.msg, 200), downstream('10.0.0.2'));
    w.layer.receive(answer(invite.msg, 487), downstream('10.0.0.2'));
    assert.deepEqual(w.transport.statuses(), [100, 180, 200, 487]);
    const ack = w.transport.requests('ACK')[0];
    assert.ok(ack !== undefined, 'the client transaction ACKs the 487');
    assert.equal(ack.msg.topVia.branch, invite.msg.topVia.branch);

    // The caller's ACK for our 487 is absorbed by the server transaction.
    w.layer.receive(req({ method: 'ACK', toTag: 't487' }), recvInfo());
    assert.equal(w.transport.requests('ACK').length, 1, 'not relayed');
    assert.deepEqual(w.errors, []);
  });

  it('nobody answers: Timer B, then a local 408 to the caller', async () => {
    const w = wire({ request: forkTo() });
    w.layer.receive(req(), recvInfo());
    await flush();
    mock.timers.tick(64 * 10 + 1);
    assert.deepEqual(w.transport.statuses(), [100, 408]);
    assert.ok(w.transport.requests('INVITE').length > 1, 'retransmitted meanwhile (Timer A)');
    assert.deepEqual(w.errors, []);
  });

  it('ringing but no answer: Timer C (t_set_fr) cancels the branch, 408 upstream', async () => {
    const w = wire({
      request: async (ctx) => {
        ctx.setFinalResponseTimers(500, 0);
        await ctx.relay();
      },
    });
    w.layer.receive(req(), recvInfo());
    await flush();
    const invite = w.transport.requests('INVITE')[0];
    w.layer.receive(answer(invite.msg, 180), downstream('10.0.0.2'));
    mock.timers.tick(501);
    assert.equal(w.transport.requests('CANCEL').length, 1);
    assert.deepEqual(w.transport.statuses(), [100, 180, 408]);
  });

  it('parallel fork: 200 from one callee, CANCEL to the other, its 487 absorbed', async () => {
    const w = wire({ request: forkTo('sip:carol@10.0.0.3') });
    w.layer.receive(req(), recvInfo());
    await flush();
    const [bob, carol] = w.transport.requests('INVITE');
    w.layer.receive(answer(bob.msg, 180), downstream('10.0.0.2'));
    w.layer.receive(answer(carol.msg, 180), downstream('10.0.0.3'));
    w.layer.receive(answer(carol.msg, 200, 'carol'), downstream('10.0.0.3'));
    const cancels = w.transport.requests('CANCEL');
    assert.equal(cancels.length, 1);
    assert.equal(cancels[0].dest.address, '10.0.0.2');
    assert.equal(cancels[0].msg.getHeader('Reason'), COMPLETED_ELSEWHERE);
    w.layer.receive(answer(bob.msg, 487), downstream('10.0.0.2'));
    assert.deepEqual(w.transport.statuses(), [100, 180, 180, 200]);
    assert.equal(w.transport.responses[3].msg.toTag, 'carol');
  });

  it('stray 2xx retransmission after the INVITE transaction ended: forwarded by its Via', async () => {
    const w = wire({ request: forkTo() });
    w.layer.receive(req(), recvInfo());
    await flush();
    const invite = w.transport.requests('INVITE')[0];
    w.layer.receive(answer(invite.msg, 200, 'bob'), downstream('10.0.0.2'));
    mock.timers.tick(64 * 10 + 1); // Timer M / L: the transactions end
    assert.equal(w.layer.size(), 0);
    const before = w.transport.sent.length;
    w.layer.receive(answer(invite.msg, 200, 'bob'), downstream('10.0.0.2'));
    assert.equal(w.transport.sent.length, before + 1);
    const fwd = w.transport.sent[before];
    assert.equal(fwd.msg.status, 200);
    assert.deepEqual(fwd.dest, { protocol: 'udp', address: '10.0.0.1', port: 5060 });
    assert.deepEqual(fwd.msg.getHeaders('Via'), [UAC_VIA]);
  });

  it('an unmatched CANCEL reaching the script: 481 through its own transaction', async () => {
    const w = wire({ request: () => undefined });
    w.layer.receive(
      req({ method: 'CANCEL', vias: ['SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnothing'] }),
      recvInfo(),
    );
    await flush();
    assert.deepEqual(w.transport.statuses(), [481]);
  });

  it('a request the script drops: the transaction is released, a retransmission runs the script again', async () => {
    let runs = 0;
    const w = wire({
      request: () => {
        runs++;
      },
    });
    w.layer.receive(req({ method: 'OPTIONS' }), recvInfo());
    await flush();
    assert.equal(w.layer.size(), 0);
    w.layer.receive(req({ method: 'OPTIONS' }), recvInfo());
    assert.equal(runs, 2);
    assert.equal(w.core.stats.dropped, 2);
  });
});
