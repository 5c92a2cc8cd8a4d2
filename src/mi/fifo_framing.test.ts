import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FifoFramer, scanJson, validReplyName } from './fifo_framing.ts';

const UAC_FORM = { lines: ['method', 'ruri', 'next_hop'], blocks: ['headers', 'body'] };

function framer(max = 1000): FifoFramer {
  return new FifoFramer({ maxBytes: max, textForm: (c) => (c === 't_uac_dlg' ? UAC_FORM : undefined) });
}

describe('FIFO framing', () => {
  it('reads the SER text protocol: :cmd:reply, argument lines, an empty line', () => {
    const f = framer();
    assert.deepEqual(f.push(Buffer.from(':uptime:ser_receiver_1114\n')), []);
    assert.deepEqual(f.push(Buffer.from('\n:ul_show_contact:r2\nlocation\njiri\n\n')), [
      { kind: 'text', command: 'uptime', reply: 'ser_receiver_1114', params: [] },
      { kind: 'text', command: 'ul_show_contact', reply: 'r2', params: ['location', 'jiri'] },
    ]);
  });

  it("reads t_uac_dlg's dot-terminated header and body blocks (the seed's shell example)", () => {
    const f = framer();
    const req =
      ':t_uac_dlg:hh\nNOTIFY\nsip:receiver@127.0.0.1\n.\nFrom: sip:originator@foo.bar\nTo: sip:receiver@127.0.0.1\nfoo: bar\n.\nHello world!!!! $@\n.\n';
    const half = Math.floor(req.length / 2);
    assert.deepEqual(f.push(Buffer.from(req.slice(0, half))), []);
    assert.deepEqual(f.push(Buffer.from(req.slice(half))), [
      {
        kind: 'text',
        command: 't_uac_dlg',
        reply: 'hh',
        params: {
          method: 'NOTIFY',
          ruri: 'sip:receiver@127.0.0.1',
          headers: 'From: sip:originator@foo.bar\nTo: sip:receiver@127.0.0.1\nfoo: bar',
          body: 'Hello world!!!! $@',
        },
      },
    ]);
  });

  it('finds OpenSIPS JSON requests with the JSON scanner, across lines and chunks', () => {
    const f = framer();
    assert.deepEqual(
      f.push(Buffer.from(':reply_1:{"jsonrpc":"2.0","method":"which",\n"params":["a}"],')),
      [],
    );
    assert.deepEqual(f.push(Buffer.from('"id":1}\n:r2:[{"x":"\\""}]')), [
      { kind: 'json', reply: 'reply_1', json: '{"jsonrpc":"2.0","method":"which",\n"params":["a}"],"id":1}' },
      { kind: 'json', reply: 'r2', json: '[{"x":"\\""}]' },
    ]);
  });

  it('takes a text request without its empty line when the writer goes quiet', () => {
    const f = framer();
    assert.deepEqual(f.push(Buffer.from(':uptime:r\n')), []);
    assert.deepEqual(f.flushIdle(), [{ kind: 'text', command: 'uptime', reply: 'r', params: [] }]);
  });

  it('refuses garbage and oversized requests, then resynchronises', () => {
    const f = framer(64);
    assert.equal(f.push(Buffer.from('hello\n'))[0]?.kind, 'error');
    const big = f.push(Buffer.from(`:r:{"jsonrpc":"2.0","method":"x","params":["${'a'.repeat(100)}`));
    assert.deepEqual(big, [
      { kind: 'error', reply: 'r', json: true, message: 'request larger than 64 bytes' },
    ]);
    assert.deepEqual(f.push(Buffer.from(`${'b'.repeat(100)}"]}\n:uptime:r\n\n`)), [
      { kind: 'text', command: 'uptime', reply: 'r', params: [] },
    ]);
  });

  it('validates reply names and scans JSON', () => {
    assert.equal(validReplyName('ser_receiver_1114'), true);
    assert.equal(validReplyName('../etc/passwd'), false);
    assert.equal(validReplyName('a.b'), false);
    assert.equal(validReplyName(''), false);
    assert.equal(scanJson('{"a":[1,{"b":"}"}]} tail', 0), 19);
    assert.equal(scanJson('{"a":', 0), -1);
  });
});
