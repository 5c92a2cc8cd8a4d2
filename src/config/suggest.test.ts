import assert from 'node:assert/strict';
import { it } from 'node:test';
import { editDistance, suggest } from './suggest.ts';

it('measures edits, transpositions counting one', () => {
  assert.equal(editDistance('fr_timer', 'fr_timer'), 0);
  assert.equal(editDistance('fr_timr', 'fr_timer'), 1);
  assert.equal(editDistance('fr_tiemr', 'fr_timer'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

it('suggests near misses only', () => {
  const keys = ['fr_timer', 'fr_inv_timer', 't1', 't2', 't4'];
  assert.equal(suggest('fr_timr', keys), 'fr_timer');
  assert.equal(suggest('FR-TIMER', keys), 'fr_timer');
  assert.equal(suggest('fr_inv_timr', keys), 'fr_inv_timer');
  assert.equal(suggest('t3', keys), 't1');
  assert.equal(suggest('completely_else', keys), undefined);
});
