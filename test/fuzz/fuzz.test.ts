/**
 * Bounded fuzzing inside the suite: the committed corpus of interesting inputs is replayed, the
 * shared corpus is checked as is, then ~5,000 mutated inputs (fixed seed: a failure reproduces)
 * go through every invariant of harness.ts, each within 50 ms, with the heap bounded.
 * Long runs: `npm run fuzz -- --seconds 600 --seed 42` (test/fuzz/fuzz.ts).
 *
 * JUNCTION_FUZZ_ITERATIONS and JUNCTION_FUZZ_SEED override the count and the seed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { committedCorpus, InvariantError, loadSeeds, mulberry32, mutate, timedCheck } from './harness.ts';

const ITERATIONS = Number(process.env.JUNCTION_FUZZ_ITERATIONS ?? 5000);
const SEED = Number(process.env.JUNCTION_FUZZ_SEED ?? 0x5eed4475);
/** No input may take longer than this (catches accidental quadratic loops). */
const BUDGET_MS = 50;
/** The mutation loop stops here even if ITERATIONS are not done (a slow machine must not hang CI). */
const WALL_MS = 18_000;
/** Heap growth allowed across the whole run, after a full GC. */
const HEAP_GROWTH_BYTES = 48 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Save a failing input where a developer can pick it up and commit it to test/fuzz/corpus/. */
function keep(input: Buffer, label: string): string {
  const dir = join(tmpdir(), 'junction-fuzz-failures');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${label}.sip`);
  writeFileSync(file, input);
  return file;
}

function describeFailure(e: unknown, input: Buffer, label: string, how: string): string {
  const file = keep(input, label);
  const why = e instanceof Error ? e.message : String(e);
  return `${label} (${how}) broke an invariant: ${why}\ninput saved to ${file}\n${input.length <= 600 ? `base64: ${input.toString('base64')}` : ''}`;
}

describe('fuzz: the message layer never throws, never hangs, never grows', () => {
  it('replays the committed corpus of interesting inputs', () => {
    const files = committedCorpus();
    assert.ok(
      files.length >= 20,
      `test/fuzz/corpus/ should hold the committed inputs (found ${files.length})`,
    );
    assert.ok(files.length <= 120, 'keep the committed corpus small (cap ~100 files)');
    const outcomes = new Set<string>();
    const failures: string[] = [];
    for (const [k, { name, buf }] of files.entries()) {
      try {
        const r = timedCheck(buf, k, BUDGET_MS);
        if (r.ms > BUDGET_MS) failures.push(`${name} took ${r.ms.toFixed(1)} ms`);
        outcomes.add(r.outcome);
      } catch (e) {
        if (!(e instanceof InvariantError)) throw e;
        failures.push(describeFailure(e, buf, name.replace('/', '-'), 'replay'));
      }
    }
    assert.equal(
      failures.length,
      0,
      `${failures.length} committed input(s) fail:\n\n${failures.join('\n\n')}`,
    );
    // The corpus is kept for the distinct outcomes it reaches: it must still reach many.
    assert.ok(
      outcomes.size >= 15,
      `committed corpus reaches only ${outcomes.size} outcomes: ${[...outcomes].join(' ')}`,
    );
  });

  it('checks every message of the shared corpus unmutated', () => {
    const failures: string[] = [];
    for (const [k, { name, buf }] of loadSeeds(false).entries()) {
      try {
        const r = timedCheck(buf, k, BUDGET_MS);
        if (r.ms > BUDGET_MS) failures.push(`${name} took ${r.ms.toFixed(1)} ms`);
      } catch (e) {
        if (!(e instanceof InvariantError)) throw e;
        failures.push(describeFailure(e, buf, name.replaceAll('/', '-'), 'seed'));
      }
    }
    assert.equal(failures.length, 0, `${failures.length} seed message(s) fail:\n\n${failures.join('\n\n')}`);
  });

  it(`survives ${ITERATIONS} mutated inputs (seed ${SEED}), each within ${BUDGET_MS} ms, heap bounded`, () => {
    const seeds = loadSeeds();
    const rnd = mulberry32(SEED);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const outcomes = new Map<string, number>();
    let slowest = 0;
    let slowestHow = '';
    const t0 = performance.now();
    let done = 0;
    // Every kind of violation is collected (one example each), so that one report shows them all.
    const failures = new Map<string, string>();
    for (; done < ITERATIONS && performance.now() - t0 < WALL_MS; done++) {
      const { input, how } = mutate(rnd, seeds);
      const checkSeed = Math.floor(rnd() * 2 ** 32);
      let r: ReturnType<typeof timedCheck>;
      try {
        r = timedCheck(input, checkSeed, BUDGET_MS);
      } catch (e) {
        if (!(e instanceof InvariantError)) throw e;
        const kind = e.message
          .split('\n')[0]
          .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
          .replace(/[0-9]+/g, '#');
        if (!failures.has(kind) && failures.size < 12) {
          failures.set(kind, describeFailure(e, input, `seed${SEED}-iter${done}`, how));
        }
        continue;
      }
      if (r.ms > slowest) {
        slowest = r.ms;
        slowestHow = `${how} (${input.length} bytes)`;
      }
      if (r.ms > BUDGET_MS && !failures.has('slow')) {
        failures.set(
          'slow',
          describeFailure(new Error(`took ${r.ms.toFixed(1)} ms`), input, `seed${SEED}-iter${done}`, how),
        );
      }
      outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
    }
    assert.equal(
      failures.size,
      0,
      `${failures.size} kind(s) of invariant violation:\n\n${[...failures.values()].join('\n\n')}`,
    );
    gc();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    const elapsed = performance.now() - t0;
    const summary = `${done} inputs in ${(elapsed / 1000).toFixed(1)} s, ${outcomes.size} outcomes, slowest ${slowest.toFixed(2)} ms (${slowestHow}), heap growth ${(growth / 1048576).toFixed(1)} MiB`;
    console.log(`# fuzz: ${summary}`);
    // A machine too slow to do a fifth of the work in the wall budget is a failure worth seeing.
    assert.ok(done >= Math.min(ITERATIONS, 1000), `only ${done} inputs within ${WALL_MS} ms: ${summary}`);
    assert.ok(growth < HEAP_GROWTH_BYTES, `heap grew by ${growth} bytes: ${summary}`);
    // The mutators must reach both sides: accepted messages and many distinct refusals.
    assert.ok(
      (outcomes.get('ok') ?? 0) > done / 50,
      `too few accepted inputs: ${JSON.stringify([...outcomes])}`,
    );
    assert.ok(
      outcomes.size >= 20,
      `only ${outcomes.size} distinct outcomes: ${JSON.stringify([...outcomes])}`,
    );
  });
});
