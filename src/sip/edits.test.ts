import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEdits, EditList } from './edits.ts';

const SRC = Buffer.from('0123456789');

function apply(lists: Array<EditList | null>, from = 0, to = SRC.length): string {
  return applyEdits(SRC, from, to, lists).toString('latin1');
}

describe('applyEdits', () => {
  it('returns the source itself when nothing is edited', () => {
    assert.equal(applyEdits(SRC, 0, SRC.length, [null, new EditList()]), SRC);
  });

  it('splices replacements and insertions in offset order, insertions first at one offset', () => {
    const l = new EditList();
    l.replace(2, 4, 'ab');
    l.insert(2, 'X');
    l.insert(8, 'Y');
    l.insert(8, 'Z', true);
    assert.equal(apply([l]), '01Xab4567ZY89');
  });

  it('a keyed edit replaces the earlier one of its list', () => {
    const l = new EditList();
    l.replace(0, 1, 'A', 'k');
    l.replace(0, 1, 'B', 'k');
    assert.equal(l.size, 1);
    assert.ok(l.has('k'));
    assert.ok(!l.has('other'));
    assert.equal(apply([l]), 'B123456789');
  });

  it('a keyed edit of a later list overrides every earlier one with that key, and only those', () => {
    const base = new EditList();
    base.replace(0, 1, 'A', 'ruri');
    base.replace(5, 6, 'F', 'mf');
    base.insert(9, '+');
    const branch = new EditList();
    branch.insert(3, '[');
    branch.replace(0, 1, 'R', 'ruri');
    branch.replace(5, 6, 'M', 'mf');
    assert.equal(apply([base, branch]), 'R12[34M678+9');
    // The earlier list is left as it was.
    assert.equal(apply([base]), 'A1234F678+9');
  });

  it('a part of the message keeps only the edits inside it', () => {
    const l = new EditList();
    l.replace(0, 1, 'A');
    l.replace(4, 5, 'E');
    l.insert(9, '+');
    assert.equal(apply([l], 3, 7), '3E56');
    const later = new EditList();
    later.replace(4, 5, 'K', 'k');
    const first = new EditList();
    first.replace(4, 5, 'J', 'k');
    assert.equal(apply([first, later], 3, 7), '3K56');
  });
});

describe('EditList.unsound', () => {
  it('counts the edits made without the promise that the message still parses', () => {
    const l = new EditList();
    l.replace(0, 1, '7', 'mf', true);
    l.insert(3, ';rport=5060', false, true);
    assert.equal(l.unsound, 0);
    l.insert(3, 'X-A: b\r\n');
    l.replace(4, 5, 'y');
    l.remove(6, 7);
    assert.equal(l.unsound, 3);
    l.clear();
    assert.equal(l.unsound, 0);
  });
});

describe('applyEdits: short and long data, ASCII and not', () => {
  const text = `INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKabc\r\nSubject: ${'x'.repeat(200)}\r\n\r\n`;
  const big = Buffer.from(text);

  function expected(edits: Array<[number, number, string | Buffer]>): Buffer {
    // Reference: plain Buffer.concat over the sorted, non-overlapping edits.
    const parts: Buffer[] = [];
    let pos = 0;
    for (const [s, e, d] of edits) {
      parts.push(big.subarray(pos, s), typeof d === 'string' ? Buffer.from(d, 'utf8') : d);
      pos = e;
    }
    parts.push(big.subarray(pos));
    return Buffer.concat(parts);
  }

  it('encodes non-ASCII edits as UTF-8, short and long, beside ASCII ones', () => {
    const cases: Array<Array<[number, number, string | Buffer]>> = [
      [[7, 10, 'é']],
      [[7, 10, 'Zoë']],
      [[7, 10, `Ünïcødé ${'ä'.repeat(40)}`]],
      [[7, 10, '😀']],
      [
        [0, 0, 'X-A: b\r\n'],
        [7, 10, 'ü'],
        [40, 40, `;received=${'1'.repeat(30)}`],
      ],
      [
        [3, 5, 'ab'],
        [20, 30, Buffer.from('ç')],
        [60, 200, Buffer.from('y'.repeat(40))],
      ],
      [
        [1, 2, ''],
        [big.length - 3, big.length - 3, 'Content-Length: 0\r\n'],
      ],
    ];
    for (const c of cases) {
      const l = new EditList();
      for (const [s, e, d] of c) l.replace(s, e, d);
      const got = applyEdits(big, 0, big.length, [l]);
      assert.ok(got.equals(expected(c)), JSON.stringify(c.map(([s, e, d]) => [s, e, String(d)])));
    }
  });

  it('a lone surrogate is written as U+FFFD, as Buffer.from does', () => {
    const l = new EditList();
    l.replace(0, 6, '\ud800X');
    const got = applyEdits(big, 0, big.length, [l]);
    assert.ok(got.equals(Buffer.concat([Buffer.from('\ud800X'), big.subarray(6)])));
  });

  it('edits of two lists and a part of the message, one call after another (no state kept)', () => {
    const a = new EditList();
    a.replace(7, 10, 'café', 'ruri');
    const b = new EditList();
    b.replace(7, 10, 'bob', 'ruri');
    b.insert(36, 'Via: x\r\n', true);
    const first = applyEdits(big, 0, big.length, [a, b]).toString('utf8');
    assert.ok(first.startsWith('INVITE bob:bob@example.com SIP/2.0\r\nVia: x\r\nVia: SIP/2.0/UDP'), first);
    assert.equal(applyEdits(big, 0, big.length, [a]).toString('utf8').slice(0, 14), 'INVITE café:bo');
    assert.equal(applyEdits(big, 36, 81, [a, b]).toString('latin1'), `Via: x\r\n${text.slice(36, 81)}`);
  });
});
