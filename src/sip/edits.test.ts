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
