/**
 * The proxies under test, each started on udp:127.0.0.1:5060 and stopped by PID.
 *
 * - Junction: `bin/junction start -c cfg.yaml` (udp only, log_level warn, storage memory, no MI,
 *   routes/default.ts). bin/junction execs node, so the tracked PID is the node process.
 * - Kamailio: ../shared/bench/kamailio/stateful.cfg with kam.sh's command line
 *   (`-DD -E -m SHM -M 32 [-x MEMMGR] -A KCHILDREN=2`), syntax-checked with `-c` first; the main
 *   PID and every process it forks are the proxy.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { descendants, startTracked, type Tracked } from './procs.ts';

export interface ProxySpec {
  /** Short id: junction | kamailio-tuned | kamailio-shipped. */
  id: string;
  label: string;
  kind: 'junction' | 'kamailio';
  /** Kamailio only. */
  shmMb?: number;
  memmgr?: string;
  /** Kamailio: the config in ../shared/bench/kamailio (default stateful.cfg). */
  cfg?: string;
  /** Kamailio: more `-A NAME` defines. */
  defines?: string[];
  /** Junction: more top-level YAML (connection points, hook settings). */
  extraYaml?: string;
  /**
   * Track every call as a dialog: Junction `modules.dialog.track_all: 1`; Kamailio stateful.cfg
   * with dialog.so loaded and dlg_manage() on each initial INVITE (written into the run folder).
   */
  dialog?: boolean;
}

export interface RunningProxy {
  spec: ProxySpec;
  tracked: Tracked;
  /** Every PID of the proxy now (main + descendants). */
  pids(): number[];
  logFile: string;
  /** Current size of the log (an offset for errorLinesSince). */
  logOffset(): number;
  /** Error-level lines logged since `offset`. */
  errorLinesSince(offset: number): { count: number; first: string[] };
}

export interface StartOptions {
  repo: string;
  shared: string;
  dir: string;
  /** Extra NODE_OPTIONS for Junction (e.g. --cpu-prof). */
  nodeOptions?: string;
  children?: number;
}

export function startProxy(spec: ProxySpec, o: StartOptions): RunningProxy {
  const logFile = join(o.dir, `${spec.id}.log`);
  const out = openSync(logFile, 'w');
  let tracked: Tracked;
  let errorRe: RegExp;
  try {
    if (spec.kind === 'junction') {
      const cfg = join(o.dir, 'junction.yaml');
      writeFileSync(
        cfg,
        [
          '# written by bench/proxy.ts',
          'listen:',
          '  - udp:127.0.0.1:5060',
          `script: ${JSON.stringify(join(o.repo, 'routes/default.ts'))}`,
          'log_level: warn',
          'storage: memory',
          'mi: { http: false, fifo: false }',
          spec.extraYaml ?? '',
          ...(spec.dialog === true ? ['modules: { dialog: { track_all: 1 } }'] : []),
          '',
        ].join('\n'),
      );
      const env = { ...process.env };
      delete env.NODE_OPTIONS;
      if (o.nodeOptions !== undefined && o.nodeOptions !== '') env.NODE_OPTIONS = o.nodeOptions;
      tracked = startTracked('junction', join(o.repo, 'bin/junction'), ['start', '-c', cfg], {
        cwd: o.dir,
        env,
        stdio: ['ignore', out, out],
        watchdog: true,
      });
      // pino JSON lines: level 50 = error, 60 = fatal.
      errorRe = /"level":\s*(?:50|60)\b/;
    } else {
      const cfg =
        spec.dialog === true
          ? dialogCfg(o.shared, o.dir)
          : join(o.shared, 'kamailio', spec.cfg ?? 'stateful.cfg');
      const defs = [
        ...(spec.defines ?? []).flatMap((d) => ['-A', d]),
        '-A',
        `KCHILDREN=${o.children ?? 2}`,
        '-A',
        `CTLSOCK="unix:${join(o.dir, 'kamailio_ctl')}"`,
      ];
      execFileSync('kamailio', ['-c', '-f', cfg, ...defs], { stdio: 'pipe' });
      const args = [
        '-f',
        cfg,
        ...defs,
        '-DD',
        '-E',
        '-m',
        String(spec.shmMb ?? 256),
        '-M',
        '32',
        ...(spec.memmgr !== undefined ? ['-x', spec.memmgr] : []),
      ];
      tracked = startTracked(spec.id, 'kamailio', args, {
        cwd: o.dir,
        stdio: ['ignore', out, out],
        tree: true,
        watchdog: true,
      });
      errorRe = /\b(ERROR|CRITICAL)\b/;
    }
  } finally {
    closeSync(out);
  }
  const main = tracked.pid;
  return {
    spec,
    tracked,
    pids: () => descendants(main),
    logFile,
    logOffset: () => statSync(logFile).size,
    errorLinesSince(offset: number) {
      const text = readFileSync(logFile).subarray(offset).toString('utf8');
      const lines = text.split('\n').filter((l) => errorRe.test(l));
      return { count: lines.length, first: lines.slice(0, 3).map((l) => l.slice(0, 300)) };
    },
  };
}

/** stateful.cfg plus the dialog module and dlg_manage() on initial INVITEs, in `dir`. */
function dialogCfg(shared: string, dir: string): string {
  const base = readFileSync(join(shared, 'kamailio/stateful.cfg'), 'utf8');
  const load = 'loadmodule "rr.so"\n';
  const rr = '\tif (is_method("INVITE|SUBSCRIBE")) {\n\t\trecord_route();\n\t}\n';
  if (!base.includes(load) || !base.includes(rr))
    throw new Error('stateful.cfg changed: cannot derive the dialog variant');
  const cfg = base
    .replace(load, `${load}loadmodule "dialog.so"\n`)
    .replace(rr, `${rr}\tif (is_method("INVITE")) {\n\t\tdlg_manage();\n\t}\n`);
  const path = join(dir, 'stateful-dialog.cfg');
  writeFileSync(path, cfg);
  return path;
}
