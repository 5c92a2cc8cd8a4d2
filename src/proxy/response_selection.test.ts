import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BranchOutcome, selectBest } from './response_selection.ts';

const rx = (status: number): BranchOutcome => ({ status, local: false });
const local = (status: number): BranchOutcome => ({ status, local: true });

describe('selectBest (RFC 3261 §16.7 step 6)', () => {
  it('returns -1 when there is no outcome', () => {
    assert.equal(selectBest([]), -1);
    assert.equal(selectBest([undefined, undefined]), -1);
  });

  it('skips branches without an outcome', () => {
    assert.equal(selectBest([undefined, rx(486)]), 1);
  });

  it('a 6xx wins over everything, even a 2xx', () => {
    assert.equal(selectBest([rx(200), rx(603)]), 1);
    assert.equal(selectBest([rx(302), rx(404), rx(600), rx(500)]), 2);
    assert.equal(selectBest([local(408), local(604)]), 1);
  });

  it('otherwise the lowest class wins', () => {
    assert.equal(selectBest([rx(500), rx(404), rx(302)]), 2);
    assert.equal(selectBest([rx(404), rx(200)]), 1);
    assert.equal(selectBest([rx(503), rx(486)]), 1);
  });

  it('prefers 401, 407, 415, 420 and 484 within the 4xx class', () => {
    for (const preferred of [401, 407, 415, 420, 484]) {
      assert.equal(selectBest([rx(404), rx(486), rx(preferred)]), 2, String(preferred));
    }
  });

  it('ranks locally generated outcomes last in their class', () => {
    assert.equal(selectBest([local(408), rx(486)]), 1, 'a received 486 beats a local timeout');
    assert.equal(selectBest([local(487), rx(404)]), 1);
    assert.equal(selectBest([local(408), rx(500)]), 0, 'but class still comes first');
  });

  it('ranks a 503 last in 5xx', () => {
    assert.equal(selectBest([rx(503), rx(500)]), 1);
    assert.equal(selectBest([rx(503), rx(502)]), 1);
  });

  it('keeps the earliest among equals', () => {
    assert.equal(selectBest([rx(486), rx(486), rx(404)]), 0);
    assert.equal(selectBest([local(408), local(408)]), 0);
    assert.equal(selectBest([rx(401), rx(407)]), 0);
  });
});
