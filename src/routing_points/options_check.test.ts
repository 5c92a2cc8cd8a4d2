import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../config/load.ts';
import { TpChecker } from './options_check.ts';
import { RoutingPoints, type TpRuntime } from './points.ts';

describe('termination point OPTIONS checks', () => {
  it('marks a TP dead without an answer and alive again when it answers; only TPs with an interval', async () => {
    const c = parseConfig(`
termination_points:
  - { id: 1, uri: "sip:127.0.0.1:5091", options_interval_ms: 1000 }
  - { id: 2, uri: "sip:127.0.0.1:5092" }
`);
    assert.ok(c.ok);
    const points = new RoutingPoints([], c.config.termination_points);
    let answer = 0;
    const sent: number[] = [];
    const lines: string[] = [];
    const checker = new TpChecker(
      () => points,
      (tp: TpRuntime) => {
        sent.push(tp.config.id);
        return Promise.resolve(answer);
      },
      { info: (_o, m) => lines.push(m), warn: (_o, m) => lines.push(m) },
    );
    const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
    checker.tick(10_000);
    await flush();
    assert.deepEqual(sent, [1]);
    assert.equal(points.tp(1)?.alive, false);
    checker.tick(10_500); // not due yet
    await flush();
    assert.deepEqual(sent, [1]);
    answer = 405;
    checker.tick(11_000);
    await flush();
    assert.equal(points.tp(1)?.alive, true);
    assert.equal(points.tp(1)?.lastStatus, 405);
    assert.equal(points.tp(2)?.alive, true);
    assert.deepEqual(lines, [
      'termination point 1 does not answer OPTIONS: skipped until it does',
      'termination point 1 answers again (405)',
    ]);
    // A reload keeps what the checks learned about an unchanged TP.
    answer = 0;
    checker.tick(12_000);
    await flush();
    assert.equal(new RoutingPoints([], c.config.termination_points, points).tp(1)?.alive, false);
  });
});
