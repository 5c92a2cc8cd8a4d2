import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CORPUS_DIR } from '../../test/corpus.ts';
import { mulberry32 as prng } from '../../test/prng.ts';
import { SipErrors } from './errors.ts';
import type { FrameEvent } from './stream_framer.ts';
import { DEFAULT_FRAMER_LIMITS, frameCompleteMessage, StreamFramer } from './stream_framer.ts';

const VALID_DIR = join(CORPUS_DIR, 'valid');
const RFC4475_DIR = join(CORPUS_DIR, 'rfc4475');

function readDir(dir: string, ext: string): Array<[string, Buffer]> {
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f): [string, Buffer] => [f, readFileSync(join(dir, f))]);
}

const VALID = readDir(VALID_DIR, '.sip');
const rfc4475 = (name: string): Buffer => readFileSync(join(RFC4475_DIR, name));

/** Independent check (string based, unlike the framer): does the header section name a Content-Length? */
function hasContentLength(msg: Buffer): boolean {
  const text = msg.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const lines = text.slice(0, end).split('\r\n').slice(1);
  return lines.some((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0 || line[0] === ' ' || line[0] === '\t') return false;
    const name = line.slice(0, colon).trim().toLowerCase();
    return name === 'content-length' || name === 'l';
  });
}

function randomChunks(data: Buffer, seed: number, maxChunk = 97): Buffer[] {
  const rnd = prng(seed);
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; ) {
    const n = 1 + Math.floor(rnd() * maxChunk);
    // Copy each chunk so that no test can pass by accident through shared memory.
    out.push(Buffer.from(data.subarray(i, i + n)));
    i += n;
  }
  return out;
}

function byteChunks(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i++) out.push(Buffer.from([data[i]]));
  return out;
}

function feed(chunks: Buffer[], framer = new StreamFramer()): FrameEvent[] {
  const events: FrameEvent[] = [];
  for (const c of chunks) events.push(...framer.push(c));
  return events;
}

function messages(events: FrameEvent[]): Buffer[] {
  return events.map((e) => {
    assert.equal(e.kind, 'message', `expected only messages, got ${describeEvent(e)}`);
    return (e as { kind: 'message'; data: Buffer }).data;
  });
}

function describeEvent(e: FrameEvent): string {
  return e.kind === 'error' ? `error ${e.error.toString()}` : e.kind;
}

function kinds(events: FrameEvent[]): string[] {
  return events.map((e) => e.kind);
}

function onlyError(events: FrameEvent[]): { code: string; detail: string; status: number } {
  assert.equal(events.length, 1, `expected one event, got ${events.map(describeEvent).join(', ')}`);
  const e = events[0];
  assert.equal(e.kind, 'error');
  if (e.kind !== 'error') throw new Error('unreachable');
  return { code: e.error.code, detail: e.error.detail, status: e.error.status };
}

const msg = (head: string, body = ''): Buffer => Buffer.from(`${head}\r\n\r\n${body}`, 'latin1');
const START = 'OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1';

describe('StreamFramer: valid corpus', () => {
  const withCl = VALID.filter(([, data]) => hasContentLength(data));
  const withoutCl = VALID.filter(([, data]) => !hasContentLength(data));

  it('the corpus is there', () => {
    assert.ok(withCl.length >= 25, `only ${withCl.length} files with Content-Length`);
    assert.deepEqual(
      withoutCl.map(([f]) => f),
      [
        'ss-xlite-REGISTER-expires-0-no-content-length.sip',
        'ss-xpro-REGISTER-authorization-no-content-length.sip',
      ],
    );
  });

  for (const [file, data] of withCl) {
    describe(file, () => {
      it('fed whole: exactly itself, zero-copy', () => {
        const framer = new StreamFramer();
        const events = framer.push(data);
        const [m] = messages(events);
        assert.equal(events.length, 1);
        assert.ok(m.equals(data));
        assert.equal(m.buffer, data.buffer);
        assert.equal(m.byteOffset, data.byteOffset);
        assert.equal(framer.pendingBytes, 0);
        assert.equal(framer.failed, false);
      });

      it('fed byte by byte', () => {
        const framer = new StreamFramer();
        const chunks = byteChunks(data);
        for (let i = 0; i < chunks.length - 1; i++) {
          assert.deepEqual(framer.push(chunks[i]), []);
          assert.equal(framer.pendingBytes, i + 1);
        }
        const out = messages(framer.push(chunks[chunks.length - 1]));
        assert.equal(out.length, 1);
        assert.ok(out[0].equals(data));
        assert.equal(framer.pendingBytes, 0);
      });

      it('fed in random-size chunks (seeded)', () => {
        for (let seed = 1; seed <= 20; seed++) {
          const out = messages(feed(randomChunks(data, seed, 1 + (seed % 7) * 40)));
          assert.equal(out.length, 1, `seed ${seed}`);
          assert.ok(out[0].equals(data), `seed ${seed}`);
        }
      });

      it('three in a row: one chunk (zero-copy views), byte by byte, random chunks', () => {
        const three = Buffer.concat([data, data, data]);
        const whole = messages(new StreamFramer().push(three));
        assert.equal(whole.length, 3);
        whole.forEach((m, k) => {
          assert.ok(m.equals(data));
          assert.equal(m.buffer, three.buffer);
          assert.equal(m.byteOffset, three.byteOffset + k * data.length);
        });
        for (const chunks of [byteChunks(three), randomChunks(three, 42), randomChunks(three, 7, 700)]) {
          const out = messages(feed(chunks));
          assert.equal(out.length, 3);
          for (const m of out) assert.ok(m.equals(data));
        }
      });
    });
  }

  it('all messages back to back with keep-alives in between, random chunks', () => {
    const parts: Buffer[] = [];
    const expected: string[] = [];
    withCl.forEach(([, data], k) => {
      parts.push(data);
      expected.push('message');
      if (k % 3 === 0) {
        parts.push(Buffer.from('\r\n\r\n'));
        expected.push('ping');
      } else if (k % 3 === 1) {
        parts.push(Buffer.from('\r\n'));
        expected.push('pong');
      }
    });
    const all = Buffer.concat(parts);
    for (let seed = 100; seed < 110; seed++) {
      const framer = new StreamFramer();
      const events = feed(randomChunks(all, seed, 500), framer);
      const got = kinds(events);
      // A CRLF pair split between chunks may arrive as two pongs (documented): count messages only.
      assert.equal(got.filter((k) => k === 'message').length, withCl.length, `seed ${seed}`);
      const msgs = events.filter((e) => e.kind === 'message').map((e) => (e as { data: Buffer }).data);
      msgs.forEach((m, k) => {
        assert.ok(m.equals(withCl[k][1]), `seed ${seed} message ${k}`);
      });
      assert.equal(framer.pendingBytes, 0);
    }
    // Fed whole, the keep-alive classification is exact.
    assert.deepEqual(kinds(new StreamFramer().push(all)), expected);
  });

  for (const [file, data] of withoutCl) {
    it(`${file}: no Content-Length on a stream is an error`, () => {
      const err = onlyError(new StreamFramer().push(data));
      assert.equal(err.code, SipErrors.CONTENT_LENGTH.code);
      assert.equal(err.detail, 'missing Content-Length on a stream transport');
      assert.equal(err.status, 400);
    });
  }
});

describe('StreamFramer: keep-alives (RFC 5626 §3.5.1)', () => {
  it('double CRLF is a ping, single CRLF a pong', () => {
    assert.deepEqual(kinds(new StreamFramer().push(Buffer.from('\r\n\r\n'))), ['ping']);
    assert.deepEqual(kinds(new StreamFramer().push(Buffer.from('\r\n'))), ['pong']);
    assert.deepEqual(kinds(new StreamFramer().push(Buffer.from('\r\n\r\n\r\n'))), ['ping', 'pong']);
    assert.deepEqual(kinds(new StreamFramer().push(Buffer.from('\r\n\r\n\r\n\r\n'))), ['ping', 'ping']);
  });

  it('bare LFs are tolerated as line ends', () => {
    assert.deepEqual(kinds(new StreamFramer().push(Buffer.from('\n\n'))), ['ping']);
    assert.deepEqual(kinds(new StreamFramer().push(Buffer.from('\n'))), ['pong']);
  });

  it('keep-alives are not part of the next message', () => {
    const m = msg(`${START}\r\nContent-Length: 0`);
    const framer = new StreamFramer();
    const events = framer.push(Buffer.concat([Buffer.from('\r\n\r\n\r\n'), m, Buffer.from('\r\n\r\n'), m]));
    assert.deepEqual(kinds(events), ['ping', 'pong', 'message', 'ping', 'message']);
    assert.ok((events[2] as { data: Buffer }).data.equals(m));
    assert.ok((events[4] as { data: Buffer }).data.equals(m));
    assert.equal(framer.pendingBytes, 0);
  });

  it('a CR at the end waits for its LF; a lone CRLF at the end is a pong at once', () => {
    const framer = new StreamFramer();
    assert.deepEqual(framer.push(Buffer.from('\r')), []);
    assert.equal(framer.pendingBytes, 1);
    assert.deepEqual(kinds(framer.push(Buffer.from('\n'))), ['pong']);
    assert.equal(framer.pendingBytes, 0);
    // "CRLF CR" at the end: a ping in progress, nothing reported until it completes.
    assert.deepEqual(framer.push(Buffer.from('\r\n\r')), []);
    assert.equal(framer.pendingBytes, 3);
    assert.deepEqual(kinds(framer.push(Buffer.from('\n'))), ['ping']);
    assert.equal(framer.pendingBytes, 0);
  });

  it('a ping split between its two CRLFs arrives as two pongs (documented trade-off)', () => {
    const framer = new StreamFramer();
    assert.deepEqual(kinds(framer.push(Buffer.from('\r\n'))), ['pong']);
    assert.deepEqual(kinds(framer.push(Buffer.from('\r\n'))), ['pong']);
  });

  it('a pong right before a message', () => {
    const m = msg(`${START}\r\nl: 3`, 'abc');
    const events = new StreamFramer().push(Buffer.concat([Buffer.from('\r\n'), m]));
    assert.deepEqual(kinds(events), ['pong', 'message']);
    assert.ok((events[1] as { data: Buffer }).data.equals(m));
  });

  it('CRLFs inside a body are body bytes', () => {
    const m = msg(`${START}\r\nContent-Length: 6`, '\r\n\r\n\r\n');
    const events = new StreamFramer().push(Buffer.concat([m, m]));
    assert.deepEqual(kinds(events), ['message', 'message']);
    assert.ok((events[0] as { data: Buffer }).data.equals(m));
  });
});

describe('StreamFramer: RFC 4475', () => {
  it('clerr.dat: Content-Length 9999 > data: waits, pendingBytes reflects it', () => {
    const data = rfc4475('clerr.dat');
    for (const chunks of [[data], byteChunks(data), randomChunks(data, 3)]) {
      const framer = new StreamFramer();
      assert.deepEqual(feed(chunks, framer), []);
      assert.equal(framer.pendingBytes, data.length);
      assert.equal(framer.failed, false);
    }
    // The rest of the declared body completes it.
    const framer = new StreamFramer();
    framer.push(data);
    const headerLen = data.indexOf('\r\n\r\n') + 4;
    const missing = 9999 - (data.length - headerLen);
    const tail = Buffer.alloc(missing + 5, 0x61);
    const out = messages(framer.push(tail));
    assert.equal(out.length, 1);
    assert.equal(out[0].length, headerLen + 9999);
    assert.equal(framer.pendingBytes, 5);
  });

  it('ncl.dat: negative Content-Length is an error', () => {
    const data = rfc4475('ncl.dat');
    for (const chunks of [[data], byteChunks(data)]) {
      const framer = new StreamFramer();
      const err = onlyError(feed(chunks, framer));
      assert.equal(err.code, SipErrors.CONTENT_LENGTH.code);
      assert.equal(err.detail, 'negative Content-Length');
      assert.equal(framer.failed, true);
      assert.equal(framer.pendingBytes, 0);
    }
  });

  it('mcl01.dat: two differing Content-Length values are an error', () => {
    const data = rfc4475('mcl01.dat');
    for (const chunks of [[data], byteChunks(data)]) {
      const err = onlyError(feed(chunks));
      assert.equal(err.code, SipErrors.CONTENT_LENGTH.code);
      assert.equal(err.detail, 'conflicting Content-Length values 13 and 5');
    }
  });

  it('baddn.dat: unterminated header section waits; the empty line completes it', () => {
    const data = rfc4475('baddn.dat');
    const framer = new StreamFramer();
    assert.deepEqual(feed(byteChunks(data), framer), []);
    assert.equal(framer.pendingBytes, data.length);
    assert.equal(framer.failed, false);
    const out = messages(framer.push(Buffer.from('\r\n')));
    assert.equal(out.length, 1);
    assert.ok(out[0].equals(Buffer.concat([data, Buffer.from('\r\n')])));
  });

  it('wsinv.dat: "Content-Length   : 150" with LWS before the colon', () => {
    const data = rfc4475('wsinv.dat');
    const out = messages(feed(byteChunks(data)));
    assert.equal(out.length, 1);
    assert.ok(out[0].equals(data));
  });

  it('dblreq.dat on a stream: REGISTER (Content-Length 0), a pong, then the INVITE is framed on its own', () => {
    const data = rfc4475('dblreq.dat');
    const framer = new StreamFramer();
    const events = framer.push(data);
    assert.deepEqual(kinds(events).slice(0, 2), ['message', 'pong']);
    const register = (events[0] as { data: Buffer }).data;
    assert.ok(register.toString('latin1').startsWith('REGISTER '));
    assert.ok(register.toString('latin1').endsWith('Content-Length: 0\r\n\r\n'));
  });

  it('every torture message: same events whole, byte by byte and in random chunks; never throws', () => {
    for (const [file, data] of readDir(RFC4475_DIR, '.dat')) {
      const whole = new StreamFramer().push(data);
      for (const chunks of [byteChunks(data), randomChunks(data, 9), randomChunks(data, 10, 3)]) {
        const framer = new StreamFramer();
        const split = feed(chunks, framer);
        assert.deepEqual(kinds(split), kinds(whole), file);
        split.forEach((e, k) => {
          const w = whole[k];
          if (e.kind === 'message' && w.kind === 'message') assert.ok(e.data.equals(w.data), file);
          if (e.kind === 'error' && w.kind === 'error') assert.equal(e.error.detail, w.error.detail, file);
        });
      }
    }
  });
});

describe('StreamFramer: Content-Length forms', () => {
  const frames = (head: string, body: string): void => {
    const m = msg(head, body);
    for (const chunks of [[m], byteChunks(m)]) {
      const out = messages(feed(chunks));
      assert.equal(out.length, 1, JSON.stringify(head));
      assert.ok(out[0].equals(m), JSON.stringify(head));
    }
  };
  const rejects = (head: string, code: string, detail?: string): void => {
    const m = msg(head, 'abcde');
    for (const chunks of [[m], byteChunks(m)]) {
      const err = onlyError(feed(chunks));
      assert.equal(err.code, code, JSON.stringify(head));
      if (detail !== undefined) assert.equal(err.detail, detail, JSON.stringify(head));
    }
  };

  it('full name, compact form, any case, LWS before the colon, leading zeros', () => {
    frames(`${START}\r\nContent-Length: 5`, 'abcde');
    frames(`${START}\r\nl: 5`, 'abcde');
    frames(`${START}\r\nL:5`, 'abcde');
    frames(`${START}\r\ncOnTeNt-LeNgTh:5`, 'abcde');
    frames(`${START}\r\nCONTENT-LENGTH \t :   5  `, 'abcde');
    frames(`${START}\r\nContent-Length: 0000005`, 'abcde');
    frames(`${START}\r\nContent-Length: 0`, '');
    frames(`${START}\r\nContent-Length: 00`, '');
  });

  it('line folding', () => {
    frames(`${START}\r\nContent-Length:\r\n 5`, 'abcde');
    frames(`${START}\r\nContent-Length:\r\n\t\r\n  5\r\nCSeq: 1 OPTIONS`, 'abcde');
    frames(`${START}\r\nContent-Length: 5\r\n   \r\nCSeq: 1 OPTIONS`, 'abcde');
    // A folded line of another header that happens to read "l: 9" is not a Content-Length.
    frames(`${START}\r\nSubject: hi\r\n l: 9\r\nl: 5`, 'abcde');
  });

  it('headers that only look like Content-Length are ignored', () => {
    frames(
      `${START}\r\nContent-Type: text/plain\r\nX-Content-Length: 99\r\nl: 5\r\nContent-Language: 7`,
      'abcde',
    );
    frames(`Content-Length: 99 sip:x SIP/2.0\r\nl: 5`, 'abcde'); // the start line is not a header
    frames(`${START}\r\nlr: 12\r\nContent-Lengthy: 1\r\nl: 5`, 'abcde');
  });

  it('the same value repeated is accepted', () => {
    frames(`${START}\r\nContent-Length: 5\r\nl: 005`, 'abcde');
    frames(`${START}\r\nContent-Length: 5, 5`, 'abcde');
  });

  it('bare LF line ends (defensive)', () => {
    const m = Buffer.from('OPTIONS sip:a SIP/2.0\nVia: x\nl: 3\n\nabc');
    const out = messages(feed(byteChunks(Buffer.concat([m, m]))));
    assert.equal(out.length, 2);
    for (const o of out) assert.ok(o.equals(m));
    const mixed = Buffer.from('OPTIONS sip:a SIP/2.0\r\nl: 3\n\r\nabc');
    assert.ok(messages(new StreamFramer().push(mixed))[0].equals(mixed));
  });

  it('missing, negative, non-numeric, empty, conflicting', () => {
    const CL = SipErrors.CONTENT_LENGTH.code;
    rejects(START, CL, 'missing Content-Length on a stream transport');
    rejects(`${START}\r\nContent-Lengthy: 5`, CL, 'missing Content-Length on a stream transport');
    rejects(`${START}\r\nContent-Length: -5`, CL, 'negative Content-Length');
    rejects(`${START}\r\nl: - 5`, CL, 'negative Content-Length');
    rejects(`${START}\r\nContent-Length: 5a`, CL, 'non-numeric Content-Length');
    rejects(`${START}\r\nContent-Length: +5`, CL, 'non-numeric Content-Length');
    rejects(`${START}\r\nContent-Length: 5 5`, CL, 'non-numeric Content-Length');
    rejects(`${START}\r\nContent-Length: 5\r\n 5`, CL, 'non-numeric Content-Length');
    rejects(`${START}\r\nContent-Length: 0x5`, CL, 'non-numeric Content-Length');
    rejects(`${START}\r\nContent-Length:`, CL, 'empty Content-Length');
    rejects(`${START}\r\nContent-Length:   \r\nCSeq: 1 OPTIONS`, CL, 'empty Content-Length');
    rejects(`${START}\r\nContent-Length: 5,`, CL, 'empty Content-Length');
    rejects(`${START}\r\nContent-Length: 5\r\nl: 4`, CL, 'conflicting Content-Length values 5 and 4');
    rejects(`${START}\r\nContent-Length: 5, 6`, CL, 'conflicting Content-Length values 5 and 6');
  });

  it('a huge Content-Length is BODY_TOO_LARGE (413), not an overflow', () => {
    rejects(`${START}\r\nContent-Length: 99999999999999999999999999999`, SipErrors.BODY_TOO_LARGE.code);
    const err = onlyError(new StreamFramer().push(msg(`${START}\r\nl: 1048577`)));
    assert.equal(err.code, SipErrors.BODY_TOO_LARGE.code);
    assert.equal(err.status, 413);
  });
});

describe('StreamFramer: limits and failure', () => {
  it('defaults', () => {
    assert.deepEqual({ ...DEFAULT_FRAMER_LIMITS }, { maxHeaderBytes: 65536, maxBodyBytes: 1048576 });
    assert.ok(Object.isFrozen(DEFAULT_FRAMER_LIMITS));
  });

  it('maxBodyBytes: equal is fine, one more is BODY_TOO_LARGE', () => {
    const body = 'x'.repeat(100);
    const ok = msg(`${START}\r\nl: 100`, body);
    assert.equal(messages(new StreamFramer({ maxBodyBytes: 100 }).push(ok)).length, 1);
    const framer = new StreamFramer({ maxBodyBytes: 99 });
    const err = onlyError(framer.push(ok));
    assert.equal(err.code, SipErrors.BODY_TOO_LARGE.code);
    assert.equal(framer.failed, true);
  });

  it('maxHeaderBytes counts start line through the empty line', () => {
    const m = msg(`${START}\r\nl: 0`);
    assert.equal(messages(new StreamFramer({ maxHeaderBytes: m.length }).push(m)).length, 1);
    assert.equal(messages(feed(byteChunks(m), new StreamFramer({ maxHeaderBytes: m.length }))).length, 1);
    const err = onlyError(new StreamFramer({ maxHeaderBytes: m.length - 1 }).push(m));
    assert.equal(err.code, SipErrors.HEADER_TOO_LARGE.code);
    const err2 = onlyError(feed(byteChunks(m), new StreamFramer({ maxHeaderBytes: m.length - 1 })));
    assert.equal(err2.code, SipErrors.HEADER_TOO_LARGE.code);
  });

  it('an endless header section fails once it passes maxHeaderBytes', () => {
    const framer = new StreamFramer({ maxHeaderBytes: 1000 });
    assert.deepEqual(framer.push(Buffer.from(`${START}\r\n`)), []);
    const line = Buffer.from('X-Filler: 0123456789abcdef0123456789abcdef\r\n');
    let events: FrameEvent[] = [];
    let pushed = 0;
    while (events.length === 0 && pushed < 100) {
      events = framer.push(line);
      pushed++;
    }
    assert.equal(onlyError(events).code, SipErrors.HEADER_TOO_LARGE.code);
    assert.ok(pushed * line.length < 1100);
    // Junk without any LF at all, in one big chunk.
    const err = onlyError(new StreamFramer().push(Buffer.alloc(70000, 0x41)));
    assert.equal(err.code, SipErrors.HEADER_TOO_LARGE.code);
  });

  it('after an error the framer stays failed and silent', () => {
    const framer = new StreamFramer();
    onlyError(framer.push(Buffer.concat([msg(`${START}\r\nl: -1`), msg(`${START}\r\nl: 0`)])));
    assert.equal(framer.failed, true);
    assert.deepEqual(framer.push(msg(`${START}\r\nl: 0`)), []);
    assert.deepEqual(framer.push(Buffer.from('\r\n\r\n')), []);
    assert.equal(framer.pendingBytes, 0);
  });

  it('an error after complete messages in the same chunk comes after them', () => {
    const good = msg(`${START}\r\nl: 0`);
    const events = new StreamFramer().push(Buffer.concat([good, good, msg(START)]));
    assert.deepEqual(kinds(events), ['message', 'message', 'error']);
  });

  it('pendingBytes tracks a partial message after complete ones', () => {
    const m = msg(`${START}\r\nl: 5`, 'abcde');
    const framer = new StreamFramer();
    const events = framer.push(Buffer.concat([m, m.subarray(0, 17)]));
    assert.equal(messages(events).length, 1);
    assert.equal(framer.pendingBytes, 17);
    const rest = messages(framer.push(m.subarray(17)));
    assert.ok(rest[0].equals(m));
    assert.equal(framer.pendingBytes, 0);
  });

  it('rejects nonsense limits (a programming error)', () => {
    assert.throws(() => new StreamFramer({ maxHeaderBytes: 0 }), RangeError);
    assert.throws(() => new StreamFramer({ maxBodyBytes: -1 }), RangeError);
    assert.throws(() => new StreamFramer({ maxBodyBytes: Number.NaN }), RangeError);
  });

  it('accepts plain Uint8Array chunks and ignores empty ones', () => {
    const m = msg(`${START}\r\nl: 5`, 'abcde');
    const framer = new StreamFramer();
    assert.deepEqual(framer.push(Buffer.alloc(0)), []);
    const out = messages(framer.push(new Uint8Array(m) as Buffer));
    assert.ok(Buffer.isBuffer(out[0]));
    assert.ok(out[0].equals(m));
  });

  it('a large body fed byte by byte (no quadratic work)', () => {
    const m = msg(`${START}\r\nl: 200000`, 'y'.repeat(200000));
    const framer = new StreamFramer();
    const t0 = performance.now();
    const out = messages(feed(byteChunks(m), framer));
    const ms = performance.now() - t0;
    assert.equal(out.length, 1);
    assert.ok(out[0].equals(m));
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('random garbage never throws and chunking never changes the outcome', () => {
    const rnd = prng(2024);
    const alphabet = Buffer.from('\r\n\r\n:: \tlL0123456789-,Content-Length');
    for (let round = 0; round < 300; round++) {
      const len = 1 + Math.floor(rnd() * 200);
      const data = Buffer.alloc(len);
      for (let i = 0; i < len; i++) {
        data[i] = rnd() < 0.8 ? alphabet[Math.floor(rnd() * alphabet.length)] : Math.floor(rnd() * 256);
      }
      const whole = new StreamFramer({ maxHeaderBytes: 150, maxBodyBytes: 50 }).push(data);
      const split = feed(
        randomChunks(data, round, 5),
        new StreamFramer({ maxHeaderBytes: 150, maxBodyBytes: 50 }),
      );
      // Keep-alive pairs split across chunks may turn one ping into two pongs; compare the rest.
      const strip = (ev: FrameEvent[]) =>
        ev
          .filter((e) => e.kind !== 'ping' && e.kind !== 'pong')
          .map((e) => (e.kind === 'message' ? e.data.toString('latin1') : describeEvent(e)));
      assert.deepEqual(strip(split), strip(whole), `round ${round}`);
    }
  });
});

describe('frameCompleteMessage (one message per buffer: WebSocket)', () => {
  it('valid corpus: every file is itself, zero-copy, with or without Content-Length', () => {
    for (const [file, data] of VALID) {
      const e = frameCompleteMessage(data);
      assert.equal(e.kind, 'message', file);
      if (e.kind !== 'message') continue;
      assert.ok(e.data.equals(data), file);
      assert.equal(e.data.buffer, data.buffer);
    }
  });

  it('keep-alives and empty buffers', () => {
    assert.deepEqual(frameCompleteMessage(Buffer.from('\r\n\r\n')), { kind: 'ping' });
    assert.deepEqual(frameCompleteMessage(Buffer.from('\r\n')), { kind: 'pong' });
    const e = frameCompleteMessage(Buffer.alloc(0));
    assert.equal(e.kind === 'error' && e.error.code, SipErrors.EMPTY.code);
  });

  it('leading CRLFs are stripped from the message', () => {
    const m = msg(`${START}\r\nl: 2`, 'hi');
    const e = frameCompleteMessage(Buffer.concat([Buffer.from('\r\n'), m]));
    assert.ok(e.kind === 'message' && e.data.equals(m));
  });

  it('RFC 4475: clerr truncated, ncl and mcl01 invalid, baddn unterminated, dblreq and inv2543', () => {
    const code = (name: string) => {
      const e = frameCompleteMessage(rfc4475(name));
      return e.kind === 'error' ? e.error.code : e.kind;
    };
    assert.equal(code('clerr.dat'), SipErrors.BODY_TRUNCATED.code);
    assert.equal(code('ncl.dat'), SipErrors.CONTENT_LENGTH.code);
    assert.equal(code('mcl01.dat'), SipErrors.CONTENT_LENGTH.code);
    assert.equal(code('baddn.dat'), SipErrors.HEADER_SECTION.code);
    // dblreq: the trailing octets after Content-Length 0 are not part of the message.
    const dbl = rfc4475('dblreq.dat');
    const e = frameCompleteMessage(dbl);
    assert.ok(e.kind === 'message');
    if (e.kind === 'message') assert.equal(e.data.length, dbl.indexOf('\r\n\r\n') + 4);
    // inv2543: no Content-Length, the body is the rest of the buffer.
    const inv = rfc4475('inv2543.dat');
    const e2 = frameCompleteMessage(inv);
    assert.ok(e2.kind === 'message' && e2.data.equals(inv));
    for (const [file, data] of readDir(RFC4475_DIR, '.dat')) {
      assert.doesNotThrow(() => frameCompleteMessage(data), file);
    }
  });

  it('limits', () => {
    const m = msg(`${START}\r\nl: 5`, 'abcde');
    assert.equal(frameCompleteMessage(m, { maxHeaderBytes: m.length - 5 }).kind, 'message');
    const big = frameCompleteMessage(m, { maxHeaderBytes: m.length - 6 });
    assert.equal(big.kind === 'error' && big.error.code, SipErrors.HEADER_TOO_LARGE.code);
    const body = frameCompleteMessage(m, { maxBodyBytes: 4 });
    assert.equal(body.kind === 'error' && body.error.code, SipErrors.BODY_TOO_LARGE.code);
    const noCl = frameCompleteMessage(msg(START, 'abcde'), { maxBodyBytes: 4 });
    assert.equal(noCl.kind === 'error' && noCl.error.code, SipErrors.BODY_TOO_LARGE.code);
  });
});
