import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyReply, encodeRequest, isPlausibleNumber, parseReply, reasonPhrase } from './contract.ts';

describe('M4 hook contract', () => {
  it('sends the seed request, keys in its order', () => {
    assert.equal(
      encodeRequest({ dst: '37012345678', src: '37000000000', user_id: 2, cp_id: 2 }),
      '{"cp_id":2,"user_id":2,"src":"37000000000","dst":"37012345678"}',
    );
  });

  it('reads every reply field, new_* first then prefix and suffix', () => {
    const r = parseReply(
      '{"status_code":0,"message":"success","new_src":"37011111111","dst_prefix":"00","dst_suffix":"#","new_dst":"123"}',
    );
    assert.ok(r.ok);
    assert.deepEqual(applyReply(r.reply, '370000', '999'), { src: '37011111111', dst: '00123#' });
    const p = parseReply('{"src_prefix":"+","src_suffix":"9"}');
    assert.ok(p.ok);
    assert.deepEqual(applyReply(p.reply, '370', '999'), { src: '+3709', dst: '999' });
    assert.equal(p.reply.reject_call, undefined);
  });

  it('rejects only on reject_call 1', () => {
    for (const [text, want] of [
      ['{"reject_call":1}', true],
      ['{"reject_call":0}', false],
      ['{"reject_call":2}', false],
      ['{"reject_call":true}', false],
    ] as const) {
      const r = parseReply(text);
      assert.ok(r.ok);
      assert.equal(r.reply.reject_call, want, text);
    }
  });

  it('ignores implausible numbers and says which', () => {
    const r = parseReply(
      `{"new_src":"1@evil","new_dst":"${'1'.repeat(65)}","src_prefix":"<sip:x>","dst_suffix":"ok_1"}`,
    );
    assert.ok(r.ok);
    assert.deepEqual(r.ignored, ['new_src', 'src_prefix', 'new_dst']);
    assert.equal(r.reply.dst_suffix, 'ok_1');
    assert.equal(isPlausibleNumber('+370*12#a.b-c_d'), true);
    assert.equal(isPlausibleNumber('12 34'), false);
  });

  it('fails on anything that is not one JSON object', () => {
    for (const t of ['', '  ', 'nope', '[1]', '"x"', 'null', '{"a":1}\n{"b":2}']) {
      assert.equal(parseReply(t).ok, false, JSON.stringify(t));
    }
  });

  it('makes a safe reason phrase', () => {
    assert.equal(reasonPhrase('no\r\nX-Evil: 1', 'Rejected'), 'noX-Evil: 1');
    assert.equal(reasonPhrase(undefined, 'Rejected'), 'Rejected');
    assert.equal(reasonPhrase('\r\n', 'Rejected'), 'Rejected');
    assert.equal(reasonPhrase('x'.repeat(300), 'R').length, 128);
  });
});
