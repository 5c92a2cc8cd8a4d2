/**
 * Long fuzzing runs of the SIP message layer (the suite runs a bounded version: fuzz.test.ts).
 *
 *   npm run fuzz -- --seconds 600 --seed 42          # run 10 minutes, reproducible
 *   npm run fuzz -- --seconds 60 --save              # also refresh test/fuzz/corpus/ (cap --max-corpus)
 *   npm run fuzz -- --replay path/to/input.sip       # re-run the invariants on one file
 *
 * Options: --seconds N (default 60), --seed S (default: random, printed), --budget-ms N (default 50:
 * slower inputs are failures), --save, --max-corpus N (default 100), --keep-going (report every
 * violation instead of stopping at the first).
 *
 * A violated invariant prints the seed, the iteration, the mutation chain and the error; the smallest
 * input of each kind of violation is saved as bug-<kind>-<sha>.sip (in test/fuzz/corpus/ with --save,
 * else under .tmp/fuzz/), and the exit code is 1.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  committedCorpus,
  FUZZ_CORPUS_DIR,
  InvariantError,
  loadSeeds,
  mulberry32,
  mutate,
  timedCheck,
} from './harness.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    'budget-ms': { type: 'string', default: '50' },
    save: { type: 'boolean', default: false },
    'max-corpus': { type: 'string', default: '100' },
    'keep-going': { type: 'boolean', default: false },
    replay: { type: 'string' },
  },
  allowPositionals: false,
});

const seconds = Number(values.seconds);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const budgetMs = Number(values['budget-ms']);
const maxCorpus = Number(values['max-corpus']);
/** Only small inputs are committed: the corpus is for replay, not for bulk. */
const MAX_SAVED_BYTES = 4096;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const sha = (buf: Buffer): string => createHash('sha256').update(buf).digest('hex').slice(0, 12);

/** A violation's kind: its message with the input-specific parts blanked (one reproducer per kind). */
function failureKind(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg
    .split('\n')[0]
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/[0-9]+(\.[0-9]+)?/g, '#')
    .slice(0, 160);
}

function kindSlug(kind: string): string {
  const code = /SIP_[A-Z_]+/.exec(kind)?.[0] ?? '';
  const what = kind.includes('control character')
    ? 'phrase-control'
    : kind.includes('characters long')
      ? 'phrase-length'
      : kind.includes('took')
        ? 'slow'
        : kind.includes('threw')
          ? 'throw'
          : 'invariant';
  return `${what}${code === '' ? '' : `-${code.slice(4).toLowerCase()}`}`;
}

function saveFailure(input: Buffer, kind: string): string {
  const dir = values.save ? FUZZ_CORPUS_DIR : join(process.cwd(), '.tmp', 'fuzz');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bug-${kindSlug(kind)}-${sha(input)}.sip`);
  writeFileSync(file, input);
  return file;
}

if (values.replay !== undefined) {
  const input = readFileSync(values.replay);
  try {
    const r = timedCheck(input, 1, budgetMs);
    console.log(`${values.replay}: ${r.outcome} in ${r.ms.toFixed(2)} ms${r.ms > budgetMs ? ' (SLOW)' : ''}`);
    process.exit(r.ms > budgetMs ? 1 : 0);
  } catch (e) {
    console.error(`${values.replay}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  }
}

const seeds = loadSeeds();
const rnd = mulberry32(seed);
console.log(
  `fuzzing for ${seconds} s with seed ${seed} over ${seeds.length} seed messages (budget ${budgetMs} ms/input)`,
);

gc();
const heapStart = process.memoryUsage().heapUsed;
let heapMax = heapStart;
const outcomes = new Map<string, number>();
/** Smallest input seen per outcome and per error shape: candidates for the committed corpus. */
const smallest = new Map<string, Buffer>();
const slow: Array<{ ms: number; how: string; size: number }> = [];
let failures = 0;
const failureKinds = new Map<string, { input: Buffer; how: string }>();
let n = 0;
const t0 = performance.now();
let lastReport = t0;

while (performance.now() - t0 < seconds * 1000) {
  const { input, how } = mutate(rnd, seeds);
  const checkSeed = Math.floor(rnd() * 2 ** 32);
  n++;
  try {
    const r = timedCheck(input, checkSeed, budgetMs);
    if (r.ms > budgetMs) {
      throw new InvariantError(`input took ${r.ms.toFixed(1)} ms (budget ${budgetMs} ms)`);
    }
    outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
    for (const key of [r.outcome, r.shape]) {
      const prev = smallest.get(key);
      if (input.length <= MAX_SAVED_BYTES && (prev === undefined || input.length < prev.length)) {
        smallest.set(key, Buffer.from(input));
      }
    }
    if (slow.length < 5 || r.ms > slow[slow.length - 1].ms) {
      slow.push({ ms: r.ms, how, size: input.length });
      slow.sort((a, c) => c.ms - a.ms);
      slow.length = Math.min(slow.length, 5);
    }
  } catch (e) {
    failures++;
    const kind = failureKind(e);
    const prev = failureKinds.get(kind);
    if (prev === undefined) {
      console.error(`\nFAILURE at iteration ${n} (seed ${seed}): ${how}`);
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      console.error(`input: ${input.length} bytes`);
    }
    // Keep the smallest reproducer of each kind.
    if (prev === undefined || input.length < prev.input.length)
      failureKinds.set(kind, { input: Buffer.from(input), how });
    if (!values['keep-going']) break;
  }
  const now = performance.now();
  if (now - lastReport > 5000) {
    lastReport = now;
    const heap = process.memoryUsage().heapUsed;
    heapMax = Math.max(heapMax, heap);
    console.log(
      `${((now - t0) / 1000).toFixed(0)} s: ${n} inputs (${Math.round((n * 1000) / (now - t0))}/s), ${outcomes.size} outcomes, heap ${(heap / 1048576).toFixed(1)} MiB`,
    );
  }
}

gc();
const heapEnd = process.memoryUsage().heapUsed;
const elapsed = (performance.now() - t0) / 1000;
console.log(
  `\n${n} inputs in ${elapsed.toFixed(1)} s (${Math.round(n / elapsed)}/s), seed ${seed}, ${failures} failure(s)`,
);
console.log(
  `heap: start ${(heapStart / 1048576).toFixed(1)} MiB, max ${(heapMax / 1048576).toFixed(1)} MiB, end after GC ${(heapEnd / 1048576).toFixed(1)} MiB`,
);
console.log('\noutcome                                  count');
for (const [k, v] of [...outcomes].sort((a, c) => c[1] - a[1]))
  console.log(`${k.padEnd(40)} ${String(v).padStart(6)}`);
if (failureKinds.size > 0) {
  console.log(`\n${failureKinds.size} kind(s) of failure; smallest reproducers:`);
  // One reproducer per kind slug (what broke, which code): the smallest.
  const bySlug = new Map<string, { kind: string; input: Buffer; how: string }>();
  for (const [kind, { input, how }] of failureKinds) {
    console.log(`  ${kind}: ${input.length} bytes (${how})`);
    const prev = bySlug.get(kindSlug(kind));
    if (prev === undefined || input.length < prev.input.length)
      bySlug.set(kindSlug(kind), { kind, input, how });
  }
  for (const { kind, input } of bySlug.values()) console.log(`saved ${saveFailure(input, kind)}`);
}
console.log('\nslowest inputs:');
for (const s of slow) console.log(`  ${s.ms.toFixed(2).padStart(7)} ms  ${s.size} bytes  ${s.how}`);

if (values.save) {
  // Keep what is committed; add the smallest input of every outcome not yet covered, then of every
  // error shape not yet covered, until the cap.
  const existing = committedCorpus();
  const covered = new Set<string>();
  for (const [k, { buf }] of existing.entries()) {
    try {
      const r = timedCheck(buf, k, Number.POSITIVE_INFINITY);
      covered.add(r.outcome);
      covered.add(r.shape);
    } catch {
      // A committed bug reproducer: it stays, and covers nothing new.
    }
  }
  let count = existing.length;
  const added: string[] = [];
  const byOutcome = [...smallest].filter(([k]) => k.split(':').length <= 2);
  const byShape = [...smallest]
    .filter(([k]) => k.split(':').length > 2)
    .sort((a, c) => a[1].length - c[1].length);
  mkdirSync(FUZZ_CORPUS_DIR, { recursive: true });
  const written = new Set(existing.map(({ buf }) => sha(buf)));
  for (const [key, buf] of [...byOutcome, ...byShape]) {
    if (count >= maxCorpus) break;
    if (covered.has(key) || written.has(sha(buf))) continue;
    written.add(sha(buf));
    const file = `${key.split(':').slice(0, 2).join('-').toLowerCase()}-${sha(buf)}.sip`;
    writeFileSync(join(FUZZ_CORPUS_DIR, file), buf);
    covered.add(key);
    added.push(file);
    count++;
  }
  console.log(
    `\ncorpus: ${existing.length} kept, ${added.length} added (cap ${maxCorpus}) in ${FUZZ_CORPUS_DIR}`,
  );
}

process.exitCode = failures > 0 ? 1 : 0;
