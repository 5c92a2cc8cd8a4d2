import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildResponse } from '../sip/build.ts';
import type { SipMessage } from '../sip/message.ts';
import { statelessBranch } from './core.ts';
import { Resolver } from './target.ts';
import {
  deliver,
  headerList,
  LISTENERS,
  parse,
  recvInfo,
  req,
  reqText,
  settle,
  setupCore,
  TCP,
  UAC_VIA,
} from './test_support.ts';

const relayRoute = async (ctx: { relay(): Promise<number> }): Promise<void> => {
  await ctx.relay();
};

function ourVia(msg: SipMessage): {
  transport: string;
  host: string;
  port: number | undefined;
  branch: string;
} {
  const v = msg.topVia;
  return { transport: v.transport, host: v.host, port: v.port, branch: v.branch ?? '' };
}

describe('ProxyCore: stateful relay to one target', () => {
  it('adds our Via with a new branch on top, keeps the R-URI, decrements Max-Forwards', async () => {
    const s = setupCore({ routes: { request: relayRoute } });
    const { tx } = await deliver(s, reqText({ ruri: 'sip:bob@10.0.0.2:5070', maxForwards: 17 }));
    assert.equal(s.txs.clients.length, 1);
    const c = s.txs.clients[0];
    assert.deepEqual(c.dest, { protocol: 'udp', address: '10.0.0.2', port: 5070 });
    assert.equal(c.opts?.listenerId, 1);
    const m = parse(c.data);
    assert.equal(m.ruri, 'sip:bob@10.0.0.2:5070');
    const v = ourVia(m);
    assert.deepEqual([v.transport, v.host, v.port], ['UDP', '192.0.2.10', 5060]);
    assert.ok(v.branch.startsWith('z9hG4bK') && v.branch.length > 16, v.branch);
    assert.deepEqual(m.getHeaders('Via').slice(1), [UAC_VIA], 'the upstream Via follows, untouched');
    assert.equal(m.maxForwards, 16);
    assert.equal(m.getHeader('Record-Route'), undefined, 'no Record-Route unless asked');
    assert.equal(m.getHeaders('Content-Length').length, 1);
    assert.equal(c.msg.topVia.branch, v.branch, 'the parsed request handed to the layer is what was sent');
    assert.equal(s.core.stats.relayed, 1);
    assert.deepEqual(tx?.statuses(), [], 'nothing answered yet');
  });

  it('over TLS our Via carries ;alias (RFC 5923) and the request goes to the TLS listener', async () => {
    const TLS = { ...TCP, id: 4, protocol: 'tls' as const, port: 5061, advertisedPort: 5061 };
    const s = setupCore({ routes: { request: relayRoute }, listeners: [...LISTENERS, TLS] });
    await deliver(s, reqText({ ruri: 'sip:bob@10.0.0.2;transport=tls' }));
    const c = s.txs.clients[0];
    assert.deepEqual(c.dest, { protocol: 'tls', address: '10.0.0.2', port: 5061 });
    const top = parse(c.data).topVia;
    assert.equal(top.transport, 'TLS');
    assert.ok(top.params.has('alias'), top.raw);
  });

  it('forwards provisional and final responses upstream without our Via', async () => {
    const s = setupCore({ routes: { request: relayRoute } });
    const { tx } = await deliver(s, reqText());
    const c = s.txs.clients[0];
    c.reply(100);
    c.reply(180);
    c.reply(200);
    assert.deepEqual(tx?.statuses(), [180, 200], '100 is hop by hop');
    for (const r of tx?.responses ?? []) assert.deepEqual(r.getHeaders('Via'), [UAC_VIA]);
    assert.equal(tx?.responses[1].toTag, 'uas200');
  });

  it('adds Max-Forwards: 70 when the request has none, and leaves it when the script set it', async () => {
    const s = setupCore({ routes: { request: relayRoute } });
    await deliver(s, reqText({ maxForwards: null }));
    assert.equal(parse(s.txs.clients[0].data).maxForwards, 70);
    const t = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.request.setMaxForwards(10);
          await ctx.relay();
        },
      },
    });
    await deliver(t, reqText());
    assert.equal(parse(t.txs.clients[0].data).maxForwards, 10);
  });

  it('Record-Route when requested: our interface, ;lr and ;ftag, extra parameters', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.recordRoute('nat=yes');
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(parse(s.txs.clients[0].data).getHeaders('Record-Route'), [
      '<sip:192.0.2.10:5060;lr;ftag=f1;nat=yes>',
    ]);
  });

  it('no Record-Route on REGISTER', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.recordRoute();
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText({ method: 'REGISTER', ruri: 'sip:10.0.0.2' }));
    assert.equal(parse(s.txs.clients[0].data).getHeader('Record-Route'), undefined);
  });

  it('UDP in, TCP out: TCP Via, double Record-Route, Content-Length added, TCP listener', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.recordRoute();
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText({ ruri: 'sip:bob@10.0.0.2;transport=tcp', contentLength: false }));
    const c = s.txs.clients[0];
    assert.deepEqual(c.dest, { protocol: 'tcp', address: '10.0.0.2', port: 5060 });
    assert.equal(c.opts?.listenerId, TCP.id);
    const m = parse(c.data);
    assert.equal(m.topVia.transport, 'TCP');
    assert.deepEqual(m.getHeaders('Record-Route'), [
      '<sip:192.0.2.10:5060;transport=tcp;r2=on;lr;ftag=f1>',
      '<sip:192.0.2.10:5060;r2=on;lr;ftag=f1>',
    ]);
    assert.deepEqual(m.getHeaders('Content-Length'), ['0']);
  });

  it('TCP in, TCP out: one Record-Route; an existing Content-Length is not doubled', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.recordRoute();
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText({ ruri: 'sip:bob@10.0.0.2;transport=tcp', body: 'v=0\r\n' }), {
      info: recvInfo(TCP),
    });
    const m = parse(s.txs.clients[0].data);
    assert.deepEqual(m.getHeaders('Record-Route'), ['<sip:192.0.2.10:5060;transport=tcp;lr;ftag=f1>']);
    assert.deepEqual(m.getHeaders('Content-Length'), ['5']);
    assert.equal(m.body.toString(), 'v=0\r\n');
  });

  it('IPv6 target: IPv6 listener, bracketed Via host', async () => {
    const s = setupCore({ routes: { request: relayRoute } });
    await deliver(s, reqText({ ruri: 'sip:bob@[2001:db8::2]:5062' }));
    const c = s.txs.clients[0];
    assert.deepEqual(c.dest, { protocol: 'udp', address: '2001:db8::2', port: 5062 });
    assert.equal(parse(c.data).topVia.host, '[2001:db8::10]');
  });

  it('$du decides where the request goes; the R-URI stays', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.dstUri = 'sip:10.0.0.9:5090;transport=tcp';
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText());
    const c = s.txs.clients[0];
    assert.deepEqual(c.dest, { protocol: 'tcp', address: '10.0.0.9', port: 5090 });
    assert.equal(parse(c.data).ruri, 'sip:bob@10.0.0.2');
  });

  it('t_relay_to: the dstUri option', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          await ctx.relay({ dstUri: 'sip:10.0.0.9:5091' });
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(s.txs.clients[0].dest, { protocol: 'udp', address: '10.0.0.9', port: 5091 });
  });

  it('a branch with a path: Route headers added, sent to the first', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.branches.push({ uri: 'sip:carol@10.0.0.3', path: ['<sip:10.0.0.8;lr>', '<sip:10.0.0.7;lr>'] });
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText());
    const [first, second] = s.txs.clients;
    assert.equal(first.msg.getHeader('Route'), undefined);
    assert.deepEqual(second.dest, { protocol: 'udp', address: '10.0.0.8', port: 5060 });
    const m = parse(second.data);
    assert.equal(m.ruri, 'sip:carol@10.0.0.3');
    assert.deepEqual(m.getHeaders('Route'), ['<sip:10.0.0.8;lr>', '<sip:10.0.0.7;lr>']);
  });

  it('resolves a host name asynchronously', async () => {
    const s = setupCore({
      routes: { request: relayRoute },
      resolver: new Resolver(60_000, 1000, 10, async (h) => (h === 'b.example' ? '10.0.0.22' : null)),
    });
    await deliver(s, reqText({ ruri: 'sip:bob@b.example:5070' }));
    assert.deepEqual(s.txs.clients[0].dest, { protocol: 'udp', address: '10.0.0.22', port: 5070 });
  });

  it('passes the per-transaction timers (t_set_fr) to the client transaction', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.setFinalResponseTimers(30_000, 4_000);
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText());
    assert.equal(s.txs.clients[0].opts?.timerC, 30_000);
    assert.equal(s.txs.clients[0].opts?.frTimer, 4_000);
    const n = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.setFinalResponseTimers(30_000, 0);
          await ctx.relay();
        },
      },
    });
    await deliver(n, reqText({ method: 'MESSAGE' }));
    assert.equal(n.txs.clients[0].opts?.timerC, undefined, 'no Timer C for non-INVITE');
    assert.equal(n.txs.clients[0].opts?.frTimer, undefined);
  });
});

describe('ProxyCore: relay failures', () => {
  it('an unroutable target: t_relay < 0 and the script answers', async () => {
    const results: number[] = [];
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.request.setRuri('tel:+15551234567');
          const r = await ctx.relay();
          results.push(r);
          if (r < 0) ctx.reply(404, 'Not Routable');
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    assert.deepEqual(results, [-1]);
    assert.deepEqual(tx?.statuses(), [404], 'the script chose the answer');
    assert.equal(tx?.responses[0].reason, 'Not Routable');
    assert.equal(s.core.stats.relayFailures, 1);
    assert.equal(s.txs.clients.length, 0);
  });

  it('an unroutable target and a script that does not answer: the core answers (Kamailio kill_transaction)', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.dstUri = 'sip:nowhere.invalid';
          await ctx.relay();
        },
      },
      resolver: new Resolver(1000, 1000, 10, async () => null),
    });
    const { tx } = await deliver(s, reqText());
    assert.equal(tx?.finals().length, 1);
    assert.equal(tx?.finals()[0].status, 478);
    assert.equal(s.txs.released.length, 0);
  });

  it('no listener for the protocol: branch fails, 500 upstream (503 is not passed on)', async () => {
    const s = setupCore({
      routes: { request: relayRoute },
      listeners: [{ ...TCP, id: 1 }],
    });
    const { tx } = await deliver(s, reqText(), { info: recvInfo({ ...TCP, id: 1 }) });
    assert.deepEqual(tx?.statuses(), [500]);
  });

  it('the first of two targets failing does not answer before the second is tried', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.request.setRuri('sip:bob@nowhere.invalid');
          ctx.branches.push({ uri: 'sip:carol@10.0.0.3' });
          await ctx.relay();
        },
      },
      resolver: new Resolver(1000, 1000, 10, async () => null),
    });
    const { tx } = await deliver(s, reqText());
    assert.deepEqual(tx?.statuses(), [], 'no answer while the second branch is pending');
    assert.equal(s.txs.clients.length, 1);
    s.txs.clients[0].reply(486);
    assert.deepEqual(tx?.statuses(), [486], 'the received 486 beats the local 478');
  });

  it('the first failing target does not run the failure route early', async () => {
    const failures: number[] = [];
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.setHandler('failure', (f: unknown) => {
            failures.push((f as { replyCode: number }).replyCode);
          });
          ctx.request.setRuri('tel:+1555');
          ctx.branches.push({ uri: 'sip:carol@10.0.0.3' });
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(failures, []);
    s.txs.clients[0].reply(486);
    assert.deepEqual(failures, [486]);
  });

  it('an onsend route that drops the request fails the branch', async () => {
    const s = setupCore({
      routes: {
        request: relayRoute,
        onsend: (ctx) => {
          assert.equal(ctx.kind, 'onsend');
          assert.ok(ctx.msg.getHeaders('Via').length === 2, 'onsend sees the request as sent');
          ctx.dropped = true;
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    assert.equal(s.txs.clients.length, 0);
    assert.deepEqual(tx?.statuses(), [500]);
  });

  it('a branch route that breaks the request: the branch fails, logged', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.setHandler('branch', (b: unknown) => {
            (b as { msg: SipMessage }).msg.appendHeader('Content-Length', 'many');
          });
          await ctx.relay();
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    assert.equal(s.txs.clients.length, 0);
    assert.deepEqual(tx?.statuses(), [500]);
    assert.deepEqual(s.log.at('error'), ['relayed request does not parse']);
  });

  it('without a transaction layer nothing is sent', async () => {
    const s = setupCore({ routes: { request: relayRoute } });
    s.core.transactions = undefined;
    const { tx } = await deliver(s, reqText());
    assert.deepEqual(tx?.statuses(), [500]);
  });

  it('the script answered while the target was resolving: the branch is not sent', async () => {
    let answer: (a: string | null) => void = () => undefined;
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          const p = ctx.relay();
          ctx.reply(486, 'Busy Here');
          await p;
        },
      },
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
    answer('10.0.0.2');
    await settle();
    assert.equal(s.txs.clients.length, 0);
    assert.deepEqual(tx?.statuses(), [486]);
  });

  it('refuses to relay a request that loops back (482, RFC 3261 §16.3 step 4)', async () => {
    const s = setupCore({ routes: { request: relayRoute } });
    await deliver(s, reqText({ ruri: 'sip:bob@10.0.0.2' }));
    const looped = s.txs.clients[0].data;
    const { tx } = await deliver(s, looped);
    assert.deepEqual(tx?.statuses(), [482]);
    assert.equal(s.txs.clients.length, 1);
  });

  it('a request with a Route set that comes back unchanged is a loop', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.looseRoute();
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText({ routes: ['<sip:10.0.0.60;lr>'] }));
    assert.equal(s.txs.clients[0].dest.address, '10.0.0.60');
    const { tx } = await deliver(s, s.txs.clients[0].data, { info: recvInfo(undefined, '10.0.0.60') });
    assert.deepEqual(tx?.statuses(), [482]);
  });

  it('a spiral through an application server (same R-URI, Route changed) is not a loop', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          if (ctx.looseRoute() < 0) {
            // First pass: via the application server, with a Route back to us.
            ctx.request.prependHeader('Route', '<sip:192.0.2.10:5060;lr;orig>');
            ctx.dstUri = 'sip:10.0.0.50';
          }
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText());
    const toAs = s.txs.clients[0].msg;
    assert.deepEqual(toAs.getHeaders('Route'), ['<sip:192.0.2.10:5060;lr;orig>']);
    // The AS sends it back unchanged but for its own Via: the Route set says "back to the proxy".
    const back = parse(
      toAs
        .serialize()
        .toString('latin1')
        .replace('\r\nVia: ', '\r\nVia: SIP/2.0/UDP 10.0.0.50:5060;branch=z9hG4bKas1\r\nVia: '),
    );
    const { tx } = await deliver(s, back, { info: recvInfo(undefined, '10.0.0.50') });
    assert.deepEqual(tx?.statuses(), [], 'not 482');
    assert.equal(s.txs.clients.length, 2);
    assert.equal(s.txs.clients[1].dest.address, '10.0.0.2', 'second pass: to the R-URI');
  });

  it('a spiral (R-URI changed by the next hop) is relayed again', async () => {
    const s = setupCore({ routes: { request: relayRoute } });
    await deliver(s, reqText({ ruri: 'sip:bob@10.0.0.2' }));
    const back = s.txs.clients[0].msg;
    back.setRuri('sip:bob-cell@10.0.0.5');
    const { tx } = await deliver(s, parse(back.serialize()));
    assert.deepEqual(tx?.statuses(), []);
    assert.equal(s.txs.clients.length, 2);
  });
});

describe('ProxyCore: branch and onsend routes', () => {
  it('branch route edits apply to their branch only', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.branches.push({ uri: 'sip:carol@10.0.0.3' });
          ctx.setHandler('branch', (b: unknown) => {
            const bctx = b as { msg: SipMessage; branchIndex: number; kind: string };
            assert.equal(bctx.kind, 'branch');
            bctx.msg.appendHeader('X-Branch', String(bctx.branchIndex));
          });
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(
      s.txs.clients.map((c) => parse(c.data).getHeaders('X-Branch')),
      [['0'], ['1']],
    );
  });

  it('a branch route may drop its branch; the others go', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.branches.push({ uri: 'sip:carol@10.0.0.3' });
          ctx.setHandler('branch', (b: unknown) => {
            const bctx = b as { branchIndex: number; dropped: boolean };
            if (bctx.branchIndex === 0) bctx.dropped = true;
          });
          await ctx.relay();
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    assert.deepEqual(
      s.txs.clients.map((c) => c.msg.ruri),
      ['sip:carol@10.0.0.3'],
    );
    s.txs.clients[0].reply(404);
    assert.deepEqual(tx?.statuses(), [404], 'the dropped branch (local 500) loses to the received 404');
  });

  it('a branch route reads its branch R-URI, may rewrite it, and the request reads are restored', async () => {
    const seen: string[] = [];
    let after = '';
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.branches.push({ uri: 'sip:carol@10.0.0.3' });
          ctx.setHandler('branch', (b: unknown) => {
            const bctx = b as { msg: SipMessage; branchIndex: number };
            seen.push(bctx.msg.ruri);
            if (bctx.branchIndex === 1) bctx.msg.setRuri('sip:carol-cell@10.0.0.33:5072');
          });
          await ctx.relay();
          after = ctx.request.ruri;
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(seen, ['sip:bob@10.0.0.2', 'sip:carol@10.0.0.3']);
    const [b0, b1] = s.txs.clients;
    assert.equal(parse(b0.data).ruri, 'sip:bob@10.0.0.2');
    assert.equal(parse(b1.data).ruri, 'sip:carol-cell@10.0.0.33:5072');
    assert.deepEqual(b1.dest, { protocol: 'udp', address: '10.0.0.33', port: 5072 }, 'sent to the new R-URI');
    assert.equal(after, 'sip:bob@10.0.0.2', '$ru in the request route is its own again');
  });

  it('a branch route that processes Max-Forwards itself is not decremented twice', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.branches.push({ uri: 'sip:carol@10.0.0.3' });
          ctx.setHandler('branch', (b: unknown) => {
            const bctx = b as { msg: SipMessage; branchIndex: number };
            if (bctx.branchIndex === 0) bctx.msg.setMaxForwards(5);
          });
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText({ maxForwards: 20 }));
    assert.deepEqual(
      s.txs.clients.map((c) => parse(c.data).maxForwards),
      [5, 19],
    );
  });

  it('a branch route may change the destination ($du)', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.setHandler('branch', async (b: unknown) => {
            await settle();
            (b as { dstUri: string | undefined }).dstUri = 'sip:10.0.0.44:5099';
          });
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(s.txs.clients[0].dest, { protocol: 'udp', address: '10.0.0.44', port: 5099 });
  });
});

describe('ProxyCore: reply routes', () => {
  it('ksr_reply_route and t_on_reply see every response; dropping a provisional stops it', async () => {
    const seen: string[] = [];
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          ctx.setHandler('onreply', (r: unknown) => {
            const rctx = r as { msg: SipMessage; dropped: boolean; branchIndex: number; replyCode: number };
            seen.push(`onreply ${rctx.replyCode} ${rctx.branchIndex}`);
            if (rctx.msg.status === 183) rctx.dropped = true;
          });
          await ctx.relay();
        },
        reply: (ctx) => {
          seen.push(`reply ${ctx.msg.status}`);
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    const c = s.txs.clients[0];
    c.reply(180);
    c.reply(183);
    c.reply(200);
    assert.deepEqual(seen, [
      'reply 180',
      'onreply 180 0',
      'reply 183',
      'onreply 183 0',
      'reply 200',
      'onreply 200 0',
    ]);
    assert.deepEqual(tx?.statuses(), [180, 200]);
  });

  it('a 2xx to INVITE is forwarded even when a reply route drops it', async () => {
    const s = setupCore({
      routes: {
        request: relayRoute,
        reply: (ctx) => {
          ctx.dropped = true;
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    s.txs.clients[0].reply(200);
    assert.deepEqual(tx?.statuses(), [200]);
  });

  it('a dropped final is replaced by a local answer with the same status', async () => {
    const s = setupCore({
      routes: {
        request: relayRoute,
        reply: (ctx) => {
          if (ctx.msg.status === 486) ctx.dropped = true;
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    s.txs.clients[0].reply(486, { headers: [['X-Secret', 'downstream']] });
    assert.deepEqual(tx?.statuses(), [486]);
    assert.equal(tx?.responses[0].getHeader('X-Secret'), undefined, 'built by the proxy');
  });
});

describe('ProxyCore: request route outcomes (afterRequestRoute)', () => {
  it('a local reply goes through the server transaction, with a stable To tag', async () => {
    const s = setupCore({
      routes: {
        request: (ctx) => {
          ctx.replyHeaders.push('X-Why: because\r\n');
          ctx.reply(404, 'Nobody Here');
        },
      },
    });
    const { tx, req: r } = await deliver(s, reqText());
    assert.deepEqual(tx?.statuses(), [404]);
    const res = tx!.responses[0];
    assert.equal(res.reason, 'Nobody Here');
    assert.equal(res.getHeader('X-Why'), 'because');
    assert.equal(res.toTag, s.core.localTag(r));
    assert.equal(s.core.stats.replies, 1);
    assert.equal(s.txs.released.length, 0);
  });

  it('a second final reply is refused', async () => {
    const codes: number[] = [];
    const s = setupCore({
      routes: {
        request: (ctx) => {
          codes.push(ctx.reply(100, 'Trying') as number);
          codes.push(ctx.reply(486, 'Busy') as number);
          codes.push(ctx.reply(500, 'Again') as number);
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    assert.deepEqual(codes, [1, 1, -1]);
    assert.deepEqual(tx?.statuses(), [100, 486]);
  });

  it('an unanswered CANCEL (it matched no INVITE) gets 481', async () => {
    const s = setupCore({ routes: { request: () => undefined } });
    const { tx } = await deliver(s, reqText({ method: 'CANCEL' }));
    assert.deepEqual(tx?.statuses(), [481]);
    assert.equal(s.core.stats.dropped, 0);
  });

  it('an unanswered request: the transaction is released and counted as dropped', async () => {
    const s = setupCore({ routes: { request: async () => undefined } });
    const { tx } = await deliver(s, reqText());
    assert.deepEqual(tx?.statuses(), []);
    assert.deepEqual(s.txs.released, [tx]);
    assert.equal(s.core.stats.dropped, 1);
  });

  it('a script that throws: counted, logged, the request dropped', async () => {
    const s = setupCore({
      routes: {
        request: () => {
          throw new Error('boom');
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    assert.equal(s.core.stats.scriptErrors, 1);
    assert.deepEqual(s.log.at('error'), ['routing script failed']);
    assert.deepEqual(s.txs.released, [tx]);
    const a = setupCore({
      routes: {
        request: async () => {
          await settle();
          throw new Error('later');
        },
      },
    });
    await deliver(a, reqText());
    await settle();
    assert.equal(a.core.stats.scriptErrors, 1);
    assert.equal(a.txs.released.length, 1);
  });

  it('an ACK without transaction that the script ignores: nothing happens', async () => {
    const s = setupCore({ routes: { request: () => undefined } });
    await deliver(s, reqText({ method: 'ACK', toTag: 'x' }));
    assert.equal(s.transport.sent.length, 0);
    assert.equal(s.transport.responses.length, 0);
    assert.equal(s.core.stats.dropped, 0);
  });

  it('a relay the script did not await still completes; the transaction is kept', async () => {
    const s = setupCore({
      routes: {
        request: (ctx) => {
          void ctx.relay();
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    assert.equal(s.txs.clients.length, 1);
    assert.equal(s.txs.released.length, 0);
    assert.equal(s.core.stats.dropped, 0);
    s.txs.clients[0].reply(200);
    assert.deepEqual(tx?.statuses(), [200]);
  });

  it('a relay the script did not await that fails: answered once it has finished', async () => {
    const s = setupCore({
      routes: {
        request: (ctx) => {
          ctx.dstUri = 'sip:nowhere.invalid';
          void ctx.relay();
        },
      },
      resolver: new Resolver(1000, 1000, 10, async () => null),
    });
    const { tx } = await deliver(s, reqText());
    assert.deepEqual(tx?.statuses(), [478]);
    assert.equal(s.txs.released.length, 0);
  });

  it('a transaction answered meanwhile (CANCEL while the script awaited) is not released', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const s = setupCore({
      routes: {
        request: async () => {
          await gate;
        },
      },
    });
    const { req: r, tx } = await deliver(s, reqText());
    s.core.onCancel(req({ method: 'CANCEL' }), recvInfo(), tx!);
    assert.deepEqual(tx?.statuses(), [487]);
    open();
    await settle();
    assert.equal(s.txs.released.length, 0, 'its ACK must still be absorbed by the transaction');
    assert.ok(s.core.isCanceled(r));
    tx!.terminate();
    assert.ok(!s.core.isCanceled(r), 'the canceled mark is forgotten with the transaction');
    assert.equal((s.core as unknown as { canceledKeys: Set<string> }).canceledKeys.size, 0);
  });

  it('the proxy transaction is forgotten when the server transaction ends', async () => {
    const s = setupCore({ routes: { request: relayRoute } });
    const { tx } = await deliver(s, reqText());
    const table = (s.core as unknown as { proxyTxOf: Map<string, unknown> }).proxyTxOf;
    assert.equal(table.size, 1);
    tx!.terminate();
    assert.equal(table.size, 0);
  });

  it('draining: new dialogs get 503 with Retry-After, in-dialog requests still run', async () => {
    const s = setupCore({ routes: { request: relayRoute } });
    s.core.draining = true;
    const { tx } = await deliver(s, reqText());
    assert.deepEqual(tx?.statuses(), [503]);
    assert.equal(tx?.responses[0].getHeader('Retry-After'), '5');
    const bye = await deliver(s, reqText({ method: 'BYE', toTag: 'd1', cseq: 2 }));
    assert.deepEqual(bye.tx?.statuses(), []);
    assert.equal(s.txs.clients.length, 1);
    await deliver(s, reqText({ method: 'OPTIONS' }), { tx: false });
    assert.equal(s.transport.responses.length, 1, 'without transaction: answered statelessly');
    assert.equal(s.transport.responses[0].msg.status, 503);
  });
});

describe('ProxyCore: ACK and stateless forwarding (RFC 3261 §16.11)', () => {
  it('an ACK (no transaction) is forwarded statelessly by t_relay', async () => {
    const s = setupCore({ routes: { request: relayRoute } });
    await deliver(s, reqText({ method: 'ACK', toTag: 'x', maxForwards: 5 }));
    assert.equal(s.txs.clients.length, 0);
    assert.equal(s.transport.sent.length, 1);
    const m = s.transport.sent[0].msg;
    assert.equal(m.method, 'ACK');
    assert.ok(m.topVia.branch?.startsWith('z9hG4bK'));
    assert.equal(m.maxForwards, 5, 'ACK Max-Forwards left alone');
    assert.equal(s.core.stats.forwardedStateless, 1);
  });

  it('stateless mode: Via with a stable branch, Max-Forwards decremented, listener chosen', async () => {
    const s = setupCore({ stateless: true, routes: { request: relayRoute } });
    await deliver(s, reqText({ ruri: 'sip:bob@10.0.0.2:5070' }));
    assert.equal(s.transport.sent.length, 1);
    const sent = s.transport.sent[0];
    assert.deepEqual(sent.dest, { protocol: 'udp', address: '10.0.0.2', port: 5070 });
    assert.equal(sent.opts?.listenerId, 1);
    assert.equal(sent.msg.maxForwards, 69);
    assert.deepEqual(sent.msg.getHeaders('Via').slice(1), [UAC_VIA]);
    const branch = sent.msg.topVia.branch!;
    await deliver(s, reqText({ ruri: 'sip:bob@10.0.0.2:5070' }));
    assert.equal(s.transport.sent[1].msg.topVia.branch, branch, 'a retransmission gets the same branch');
    await deliver(
      s,
      reqText({ ruri: 'sip:bob@10.0.0.2:5070', vias: ['SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKother'] }),
    );
    assert.notEqual(s.transport.sent[2].msg.topVia.branch, branch, 'another transaction, another branch');
  });

  it('stateless mode: the CANCEL and the non-2xx ACK get the INVITE branch (§9.1, §17.1.1.3)', async () => {
    const s = setupCore({ stateless: true, routes: { request: relayRoute } });
    await deliver(s, reqText());
    await deliver(s, reqText({ method: 'CANCEL' }));
    await deliver(s, reqText({ method: 'ACK', toTag: 'uas487' }));
    const [inv, cancel, ack] = s.transport.sent.map((x) => x.msg);
    assert.equal(cancel.method, 'CANCEL');
    assert.equal(cancel.topVia.branch, inv.topVia.branch, 'a downstream stateful UAS matches the CANCEL');
    assert.equal(ack.topVia.branch, inv.topVia.branch, 'the ACK matches the INVITE server transaction');
  });

  it('statelessBranch: RFC 2543 requests hash the transaction identifiers', () => {
    const a = req({ vias: ['SIP/2.0/UDP 10.0.0.1:5060'] });
    const b = req({ vias: ['SIP/2.0/UDP 10.0.0.1:5060'] });
    assert.equal(statelessBranch(a), statelessBranch(b));
    assert.notEqual(
      statelessBranch(a),
      statelessBranch(req({ vias: ['SIP/2.0/UDP 10.0.0.1:5060'], cseq: 2 })),
    );
    assert.notEqual(
      statelessBranch(a),
      statelessBranch(req({ vias: ['SIP/2.0/UDP 10.0.0.1:5060'], callId: 'x' })),
    );
    assert.notEqual(
      statelessBranch(a),
      statelessBranch(req({ vias: ['SIP/2.0/UDP 10.0.0.1:5060'], fromTag: 'z' })),
    );
    assert.notEqual(
      statelessBranch(a),
      statelessBranch(req({ vias: ['SIP/2.0/UDP 10.0.0.1:5060'], ruri: 'sip:x@10.0.0.2' })),
    );
    assert.notEqual(statelessBranch(a), statelessBranch(req()), 'with and without a magic cookie');
    assert.ok(statelessBranch(a).startsWith('z9hG4bK'));
  });

  it('stateless mode: Record-Route and TCP Content-Length apply too', async () => {
    const s = setupCore({
      stateless: true,
      routes: {
        request: async (ctx) => {
          ctx.recordRoute();
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText({ ruri: 'sip:bob@10.0.0.2;transport=tcp', contentLength: false }));
    const m = s.transport.sent[0].msg;
    assert.equal(m.topVia.transport, 'TCP');
    assert.equal(headerList(m, 'Record-Route').length, 2);
    assert.deepEqual(m.getHeaders('Content-Length'), ['0']);
  });

  it('forward_uri in stateful mode: sent statelessly, the server transaction released', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          await ctx.forwardStateless('sip:10.0.0.7:5080;transport=tcp');
        },
      },
    });
    const { tx } = await deliver(s, reqText());
    assert.equal(s.txs.clients.length, 0);
    assert.deepEqual(s.transport.sent[0].dest, { protocol: 'tcp', address: '10.0.0.7', port: 5080 });
    assert.deepEqual(s.txs.released, [tx]);
    assert.equal(s.core.stats.dropped, 0);
  });

  it('forwarding twice (two destinations) decrements Max-Forwards in both copies', async () => {
    const s = setupCore({
      stateless: true,
      routes: {
        request: async (ctx) => {
          await ctx.forwardStateless('sip:10.0.0.7');
          await ctx.forwardStateless('sip:10.0.0.8');
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(
      s.transport.sent.map((x) => x.msg.maxForwards),
      [69, 69],
    );
  });

  it('stateless forward to an unroutable URI returns -1 and sends nothing', async () => {
    const results: number[] = [];
    const s = setupCore({
      stateless: true,
      routes: {
        request: async (ctx) => {
          results.push(await ctx.forwardStateless('tel:+1555'));
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(results, [-1]);
    assert.equal(s.transport.sent.length, 0);
  });
});

describe('ProxyCore: stray responses (stateless response forwarding)', () => {
  function responseVia(vias: string[], status = 200): SipMessage {
    const r = req({ vias });
    return parse(buildResponse(r, status, undefined, { toTag: 'uas' }));
  }

  it('forwards to the second Via (received/rport) without ours', () => {
    const s = setupCore();
    const res = responseVia([
      'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsl1',
      'SIP/2.0/UDP 10.0.0.1:5070;received=198.51.100.1;rport=40000;branch=z9hG4bKuac1',
    ]);
    s.core.onStrayResponse(res, recvInfo(undefined, '10.0.0.2'));
    assert.equal(s.transport.sent.length, 1);
    assert.deepEqual(s.transport.sent[0].dest, { protocol: 'udp', address: '198.51.100.1', port: 40000 });
    assert.deepEqual(s.transport.sent[0].msg.getHeaders('Via'), [
      'SIP/2.0/UDP 10.0.0.1:5070;received=198.51.100.1;rport=40000;branch=z9hG4bKuac1',
    ]);
    assert.equal(s.core.stats.responsesForwardedStateless, 1);
  });

  it('handles both Vias in one comma-separated line', () => {
    const s = setupCore();
    const res = responseVia([
      'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsl1, SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bKuac1',
    ]);
    s.core.onStrayResponse(res, recvInfo());
    assert.deepEqual(s.transport.sent[0].dest, { protocol: 'tcp', address: '10.0.0.1', port: 5070 });
    assert.deepEqual(s.transport.sent[0].msg.getHeaders('Via'), [
      'SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bKuac1',
    ]);
  });

  it('drops a response whose top Via is not ours (never reflect)', () => {
    const s = setupCore();
    s.core.onStrayResponse(
      responseVia([
        'SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKx',
        'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKy',
      ]),
      recvInfo(),
    );
    s.core.onStrayResponse(
      responseVia([
        'SIP/2.0/UDP 192.0.2.10:5099;branch=z9hG4bKx',
        'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKy',
      ]),
      recvInfo(),
    );
    assert.equal(s.transport.sent.length, 0);
  });

  it('drops a response with only our Via (it was for us)', () => {
    const s = setupCore();
    s.core.onStrayResponse(responseVia(['SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx']), recvInfo());
    assert.equal(s.transport.sent.length, 0);
  });

  it('runs the reply route first; a drop there stops it', async () => {
    const seen: number[] = [];
    const s = setupCore({
      routes: {
        reply: (ctx) => {
          seen.push(ctx.msg.status);
          if (ctx.msg.status === 183) ctx.dropped = true;
        },
      },
    });
    const vias = [
      'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsl1',
      'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKuac1',
    ];
    s.core.onStrayResponse(responseVia(vias, 183), recvInfo());
    s.core.onStrayResponse(responseVia(vias, 200), recvInfo());
    assert.deepEqual(seen, [183, 200]);
    assert.deepEqual(
      s.transport.sent.map((x) => x.msg.status),
      [200],
    );
    const a = setupCore({
      routes: {
        reply: async () => {
          await settle();
        },
      },
    });
    a.core.onStrayResponse(responseVia(vias, 200), recvInfo());
    assert.equal(a.transport.sent.length, 0, 'waits for an awaiting reply route');
    await settle();
    assert.equal(a.transport.sent.length, 1);
  });

  it('resolves a host name in the Via', async () => {
    const s = setupCore({ resolver: new Resolver(1000, 1000, 10, async () => '10.0.0.77') });
    s.core.onStrayResponse(
      responseVia([
        'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsl1',
        'SIP/2.0/UDP uac.example:5062;branch=z9hG4bKuac1',
      ]),
      recvInfo(),
    );
    await settle();
    assert.deepEqual(s.transport.sent[0].dest, { protocol: 'udp', address: '10.0.0.77', port: 5062 });
  });
});

describe('ProxyCore: helpers', () => {
  it('localTag is stable per request and differs between requests', () => {
    const s = setupCore();
    assert.equal(s.core.localTag(req()), s.core.localTag(req()));
    assert.notEqual(s.core.localTag(req()), s.core.localTag(req({ callId: 'other' })));
  });

  it('scriptLog maps Kamailio levels to the logger, one trailing newline removed', () => {
    const s = setupCore();
    for (const level of ['dbg', 'info', 'notice', 'warn', 'err', 'crit', 'alert'])
      s.core.scriptLog(level, `${level}\n`);
    assert.deepEqual(
      s.log.lines.map((l) => `${l.level}:${l.msg}`),
      ['debug:dbg', 'info:info', 'info:notice', 'warn:warn', 'error:err', 'error:crit', 'error:alert'],
    );
  });

  it('hasServerTransaction / isCanceled', async () => {
    let seen: { has: boolean; canceled: boolean } | undefined;
    const s = setupCore({
      routes: {
        request: (ctx) => {
          seen = { has: ctx.hasTransaction(), canceled: ctx.isCanceled() };
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(seen, { has: true, canceled: false });
    await deliver(s, reqText({ method: 'ACK', toTag: 'x' }));
    assert.deepEqual(seen, { has: false, canceled: false });
  });
});

describe('ProxyCore: the relayed request is not parsed again unless needed', () => {
  it('sound edits only (Max-Forwards, R-URI, our Via and Record-Route): the bytes go out unparsed', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          (ctx as unknown as { msg: SipMessage }).msg.setMaxForwards(10);
          (ctx as unknown as { msg: SipMessage }).msg.setRuri('sip:bob@10.0.0.3:5080');
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(s.txs.preParsed, [false]);
    const m = parse(s.txs.clients[0].data);
    assert.equal(m.ruri, 'sip:bob@10.0.0.3:5080');
    assert.equal(m.maxForwards, 10, 'the script processed Max-Forwards');
    assert.equal(m.getHeaders('Via').length, 2);
  });

  it('a header the script wrote: the bytes are parsed once to check them', async () => {
    const s = setupCore({
      routes: {
        request: async (ctx) => {
          (ctx as unknown as { msg: SipMessage }).msg.appendHeader('X-Note', 'hello');
          await ctx.relay();
        },
      },
    });
    await deliver(s, reqText());
    assert.deepEqual(s.txs.preParsed, [true]);
    assert.equal(parse(s.txs.clients[0].data).getHeader('X-Note'), 'hello');
  });
});
