import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyRules, type NumberRules, parseRules } from './rules.ts';

function rules(text: string): NumberRules {
  const r = parseRules(text);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

describe('M4 transformation rules', () => {
  it('adds, cuts and replaces prefixes; the first rule that applies wins', () => {
    assert.equal(applyRules(rules('370'), '61234567'), '37061234567');
    assert.equal(applyRules(rules('-00'), '0037061234567'), '37061234567');
    assert.equal(applyRules(rules('-00'), '37061234567'), '37061234567');
    assert.equal(applyRules(rules('-8+370'), '861234567'), '37061234567');
    const chain = rules('-00|-0+370|370');
    assert.equal(applyRules(chain, '0044123'), '44123');
    assert.equal(applyRules(chain, '0612'), '370612');
    assert.equal(applyRules(chain, '612'), '370612');
    // An add rule always applies: rules after it never run.
    assert.equal(applyRules(rules('1|-1'), '123'), '1123');
    assert.equal(applyRules(rules(''), '123'), '123');
    assert.equal(applyRules(rules('-+'), '+370'), '370');
  });

  it('refuses rules it cannot read, saying which', () => {
    assert.match(String(parseRules('-')), /nothing to cut/);
    assert.match(String(parseRules('1||2')), /empty rule/);
    assert.match(String(parseRules('-0+3 7')), /"-0\+3 7"/);
    assert.match(String(parseRules('a;b')), /prefixes may hold/);
  });
});
