import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EditList } from '../../sip/edits.ts';
import { parseMessage } from '../../sip/parse_message.ts';
import { parseHeaderLines } from '../shared/header_line.ts';
import { fakeContext, request } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';

/** Header names of the message as it would be sent, in order. */
function sentNames(text: string): string[] {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  return head
    .split('\r\n')
    .slice(1)
    .map((l) => l.slice(0, l.indexOf(':')));
}

describe('hdr: header line text', () => {
  it('splits Kamailio-style header text', () => {
    assert.deepEqual(parseHeaderLines('X-A: 1\r\n'), [{ name: 'X-A', value: '1' }]);
    assert.deepEqual(parseHeaderLines('X-A:1'), [{ name: 'X-A', value: '1' }], 'no CRLF, no space');
    assert.deepEqual(parseHeaderLines('X-A: 1\nX-B:  2 \r\n'), [
      { name: 'X-A', value: '1' },
      { name: 'X-B', value: '2' },
    ]);
    assert.deepEqual(parseHeaderLines('X-A: 1\r\n  more\r\n'), [{ name: 'X-A', value: '1 more' }], 'folded');
    assert.deepEqual(parseHeaderLines('X-Empty:\r\n'), [{ name: 'X-Empty', value: '' }]);
    for (const bad of ['', '\r\n', 'no colon', ': v', 'Bad Name: v', ' leading: fold']) {
      assert.equal(parseHeaderLines(bad), undefined, JSON.stringify(bad));
    }
  });
});

describe('hdr: edits', () => {
  it('appends after the last header and inserts before the first', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.hdr.append('X-A: 1\r\nX-B: 2\r\n'), 1);
    assert.equal(K.hdr.insert('X-Top1: 1\r\nX-Top2: 2'), 1);
    const out = ctx.msg.toString();
    const names = sentNames(out);
    assert.deepEqual(names.slice(0, 3), ['X-Top1', 'X-Top2', 'Via']);
    assert.deepEqual(names.slice(-2), ['X-A', 'X-B']);
    assert.ok(parseMessage(Buffer.from(out)) instanceof Object);
  });

  it('append_after / insert_before place lines around the named header', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.hdr.append_after('X-After1: 1\r\nX-After2: 2\r\n', 'call-id'), 1);
    assert.equal(K.hdr.insert_before('X-Before: 1\r\n', 'CSeq'), 1);
    const names = sentNames(ctx.msg.toString());
    const ci = names.indexOf('Call-ID');
    assert.deepEqual(names.slice(ci, ci + 5), ['Call-ID', 'X-After1', 'X-After2', 'X-Before', 'CSeq']);
  });

  it('falls back to the end / the top when the named header is absent', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.hdr.append_after('X-End: 1', 'X-None'), 1);
    assert.equal(K.hdr.insert_before('X-Start: 1', 'X-None'), 1);
    const names = sentNames(ctx.msg.toString());
    assert.equal(names[0], 'X-Start');
    assert.equal(names[names.length - 1], 'X-End');
  });

  it('removes every header with the name; reads still see the received message', () => {
    const ctx = fakeContext(request({ headers: ['X-Drop: 1', 'X-Keep: 1', 'x-drop: 2'] }));
    const K = ksr(ctx);
    assert.equal(K.hdr.remove('X-Drop'), 1);
    assert.equal(K.hdr.remove('X-None'), 1, 'Kamailio returns 1 even when nothing was removed');
    assert.deepEqual(
      sentNames(ctx.msg.toString()).filter((n) => n.toLowerCase().startsWith('x-')),
      ['X-Keep'],
    );
    assert.equal(K.hdr.is_present('X-Drop'), 1, 'lumps do not change reads');
  });

  it('refuses malformed header text and names', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.hdr.append('not a header'), -1);
    assert.equal(K.hdr.append_after('X-A: 1', 'bad name'), -1);
    assert.equal(K.hdr.remove('bad name'), -1);
    assert.equal(ctx.msg.hasEdits, false);
    assert.equal(ctx.logs.length, 1);
  });

  it('rmappend / rminsert replace headers', () => {
    const ctx = fakeContext(request({ headers: ['X-Old: 1'] }));
    const K = ksr(ctx);
    assert.equal(K.hdr.rmappend('X-Old', 'X-New: 2'), 1);
    const names = sentNames(ctx.msg.toString());
    assert.ok(!names.includes('X-Old') && names.includes('X-New'));
  });

  it('in a branch route, edits go to that branch only', () => {
    const ctx = fakeContext(request(), { kind: 'branch' });
    const branch = new EditList();
    ctx.msg.editTarget = branch;
    ksr(ctx).hdr.append('X-Branch: 1');
    ctx.msg.editTarget = null;
    assert.equal(ctx.msg.hasEdits, false);
    assert.ok(ctx.msg.serialize(branch).toString().includes('X-Branch: 1\r\n'));
  });
});

describe('hdr: reads', () => {
  const ctx = fakeContext(request({ headers: ['X-Multi: a', 'X-Multi: B'] }));
  const K = ksr(ctx);

  it('is_present / get / gete / getw / get_idx', () => {
    assert.equal(K.hdr.is_present('x-multi'), 1);
    assert.equal(K.hdr.is_present('X-None'), -1);
    assert.equal(K.hdr.is_present('i'), 1, 'compact Call-ID');
    assert.equal(K.hdr.get('X-Multi'), 'a');
    assert.equal(K.hdr.get('X-None'), null);
    assert.equal(K.hdr.gete('X-None'), '');
    assert.equal(K.hdr.getw('X-None'), '<null>');
    assert.equal(K.hdr.get_idx('X-Multi', 1), 'B');
    assert.equal(K.hdr.get_idx('X-Multi', -1), 'B');
    assert.equal(K.hdr.get_idx('X-Multi', 2), null);
    assert.equal(K.hdr.gete_idx('X-Multi', 5), '');
  });

  it('match_content compares values case-insensitively', () => {
    assert.equal(K.hdr.match_content('X-Multi', 'eq', 'A', 'f'), true);
    assert.equal(K.hdr.match_content('X-Multi', 'eq', 'a', 'l'), false);
    assert.equal(K.hdr.match_content('X-Multi', 'eq', 'b', 'o'), true);
    assert.equal(K.hdr.match_content('X-Multi', 'ne', 'z', 'a'), true);
    assert.equal(K.hdr.match_content('To', 'sw', 'bob <', 'f'), true);
    assert.equal(K.hdr.match_content('To', 'in', 'EXAMPLE.com', 'f'), true);
    assert.equal(K.hdr.match_content('To', 're', '^bob <sip:bob@example\\.COM', 'f'), true);
    assert.equal(K.hdr.match_content('To', 're', '^alice', 'f'), false);
    assert.equal(K.hdr.match_content('X-Multi', 're', '^[ab]$', 'a'), true);
    assert.equal(K.hdr.match_content('To', 're', '(', 'f'), false, 'an invalid expression matches nothing');
    assert.equal(K.hdr.match_content('X-None', 'eq', 'a', 'f'), false);
  });
});

describe('hdr: append_to_reply', () => {
  it('adds lines to the next local reply', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.hdr.append_to_reply('X-Reason: test\r\nRetry-After: 30'), 1);
    K.sl.send_reply(503, 'Busy');
    assert.deepEqual(ctx.replies[0].headers, ['X-Reason: test\r\n', 'Retry-After: 30\r\n']);
  });
});
