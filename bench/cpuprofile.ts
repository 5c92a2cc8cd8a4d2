/**
 * `node bench/cpuprofile.ts FILE.cpuprofile [--top N] [--skip S]` — where a `--cpu-prof` profile
 * (bench:register / bench:proxy `--cpu-prof DIR`) spent its time: self and inclusive time per
 * function as a share of the busy (non-idle) time, after skipping the first S seconds (start-up).
 *
 * Caveat: V8's profiler samples the thread's wall time, so a syscall during which the process is
 * descheduled (a UDP send that wakes the load generator on a busy 2-core machine) looks expensive
 * here; `perf record -g -p PID` (with node --perf-basic-prof) counts CPU only.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '40' }, skip: { type: 'string', default: '0' } },
});
const file = positionals[0];
if (file === undefined) {
  console.error('usage: node bench/cpuprofile.ts FILE.cpuprofile [--top N] [--skip SECONDS]');
  process.exit(2);
}
const top = Number(values.top);
const skipUs = Number(values.skip) * 1e6;

const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const key = (n: ProfileNode): string => {
  const f = n.callFrame;
  return `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
};

// Time per sampled node, after the skipped start.
const hits = new Map<number, number>();
let t = 0;
for (let i = 0; i < p.samples.length; i++) {
  const d = p.timeDeltas[i] ?? 0;
  t += d;
  if (t < skipUs) continue;
  hits.set(p.samples[i], (hits.get(p.samples[i]) ?? 0) + d);
}

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
let idle = 0;
for (const [id, us] of hits) {
  const node = byId.get(id);
  if (node === undefined) continue;
  total += us;
  const k = key(node);
  if (node.callFrame.functionName === '(idle)') idle += us;
  self.set(k, (self.get(k) ?? 0) + us);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (n === undefined) break;
    const kk = key(n);
    if (seen.has(kk)) continue;
    seen.add(kk);
    inclusive.set(kk, (inclusive.get(kk) ?? 0) + us);
  }
}

const busy = Math.max(1, total - idle);
const ms = (us: number): string => (us / 1000).toFixed(0);
console.log(`total ${ms(total)} ms, idle ${ms(idle)} ms, busy ${ms(busy)} ms (after ${values.skip} s)`);
const print = (title: string, m: Map<string, number>): void => {
  console.log(`--- ${title} (% of busy)`);
  const rows = [...m]
    .filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);
  for (const [k, us] of rows) console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}  ${k}`);
};
print('self', self);
print('inclusive', inclusive);
