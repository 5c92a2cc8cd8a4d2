/** exec statistics (get_statistics exec:, /metrics): counters kept by the module, read on demand. */
import { Histogram } from '../../mi/histogram.ts';
import { defineModuleStatistic } from '../../mi/statistics.ts';

export const execStats = {
  /** Programs started. */
  executions: 0,
  /** Runs that did not end with exit 0 (non-zero exit, signal, timeout, could not start). */
  failures: 0,
  /** Runs killed at time_to_kill. */
  kills: 0,
  /** Calls refused at once because max_children programs were running. */
  refusals: 0,
  /** Runs whose stdout exceeded max_output (the rest was discarded). */
  truncated: 0,
};

/** Wall-clock duration of each run, ms. */
export const execDuration = new Histogram([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 30000]);

const HELP: Record<keyof typeof execStats, string> = {
  executions: 'Programs started by KSR.exec.',
  failures: 'exec runs that did not exit 0 (non-zero exit, signal, killed, could not start).',
  kills: 'exec runs killed at time_to_kill (whole process group).',
  refusals: 'exec calls refused at once: max_children programs already running.',
  truncated: 'exec runs whose stdout exceeded max_output.',
};

for (const name of Object.keys(execStats) as Array<keyof typeof execStats>) {
  defineModuleStatistic({
    group: 'exec',
    name,
    kind: 'counter',
    help: HELP[name],
    read: () => execStats[name],
  });
}
execDuration.define('exec', 'duration_ms', 'Duration of exec runs, ms');

/** The `exec:running` gauge reads this (the module points it at its runner). */
export const runningNow = { read: (): number => 0 };
defineModuleStatistic({
  group: 'exec',
  name: 'running',
  kind: 'gauge',
  help: 'exec programs running now.',
  read: () => runningNow.read(),
});
