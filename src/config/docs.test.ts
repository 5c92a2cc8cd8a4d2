import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import {
  generateTable,
  normalizeTables,
  README_PATH,
  readmeIsCurrent,
  schemaKeys,
  updateReadme,
} from './docs.ts';

const readme = readFileSync(README_PATH, 'utf8');

it('README.md documents every schema key', () => {
  const missing = schemaKeys().filter((key) => !readme.includes(`\`${key}\``));
  assert.deepEqual(missing, [], 'run npm run docs:config');
});

it("README.md's generated table is current", () => {
  assert.ok(readmeIsCurrent(readme), 'src/config/README.md is out of date: run npm run docs:config');
  assert.ok(readmeIsCurrent(updateReadme(readme)));
});

it('a stale table is detected whatever the padding', () => {
  const stale = readme.replace('| `script_watch` ', '| `script_watched` ');
  assert.notEqual(stale, readme);
  assert.equal(readmeIsCurrent(stale), false);
  assert.equal(normalizeTables('| a  |  b |\n| --- | ------ |'), normalizeTables('| a | b |\n| --- | --- |'));
});

it('every key has a doc string', () => {
  assert.ok(schemaKeys().length > 40);
  for (const line of generateTable()
    .split('\n')
    .filter((l) => l.startsWith('| `'))) {
    assert.notEqual(line.trim().split('|').at(-2)?.trim(), '', line);
  }
});
