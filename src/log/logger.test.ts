import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { toLevelName, toThreshold } from './levels.ts';
import { createLogger, flushLogger, logAt, moduleLogger } from './logger.ts';

/** A destination that keeps the parsed lines. */
function capture(): { lines: Array<Record<string, unknown>>; write(s: string): void } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, write: (s: string) => void lines.push(JSON.parse(s)) };
}

describe('levels', () => {
  it("maps Kamailio's names onto pino's", () => {
    assert.equal(toLevelName('dbg'), 'debug');
    assert.equal(toLevelName('info'), 'info');
    assert.equal(toLevelName('notice'), 'info');
    assert.equal(toLevelName('warn'), 'warn');
    assert.equal(toLevelName('err'), 'error');
    assert.equal(toLevelName('crit'), 'fatal');
    assert.equal(toLevelName('alert'), 'fatal');
    assert.equal(toLevelName('ERROR'), 'error');
    assert.equal(toLevelName('loud'), undefined);
  });
  it("maps Kamailio's numeric debug levels", () => {
    assert.equal(toLevelName(4), 'debug');
    assert.equal(toLevelName(3), 'debug');
    assert.equal(toLevelName(2), 'info');
    assert.equal(toLevelName(1), 'info');
    assert.equal(toLevelName(0), 'warn');
    assert.equal(toLevelName(-1), 'error');
    assert.equal(toLevelName(-2), 'fatal');
    assert.equal(toLevelName(1.5), undefined);
  });
  it('silent is a threshold, not a level', () => {
    assert.equal(toThreshold('silent'), 'silent');
    assert.equal(toLevelName('silent'), undefined);
  });
});

describe('createLogger', () => {
  it('writes JSON lines with level names, pid, and the module of child loggers', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', destination: out });
    moduleLogger(log, 'tm').debug({ branch: 2 }, 'relayed');
    log.trace('not shown');
    assert.equal(out.lines.length, 1);
    const [line] = out.lines;
    assert.equal(line!.level, 'debug');
    assert.equal(line!.module, 'tm');
    assert.equal(line!.branch, 2);
    assert.equal(line!.msg, 'relayed');
    assert.equal(line!.pid, process.pid);
    assert.equal(typeof line!.time, 'number');
    assert.equal(line!.hostname, undefined);
  });

  it('takes a Kamailio level as the threshold and refuses an unknown one', () => {
    const out = capture();
    const log = createLogger({ level: 'err', destination: out });
    log.warn('dropped');
    log.error('kept');
    assert.deepEqual(
      out.lines.map((l) => l.msg),
      ['kept'],
    );
    assert.throws(() => createLogger({ level: 'loud' }), /unknown log level/);
  });

  it('logAt logs at Kamailio-named levels; an unknown one logs as error', () => {
    const out = capture();
    const log = createLogger({ level: 'trace', destination: out });
    logAt(log, 'dbg', 'a');
    logAt(log, 'notice', 'b');
    logAt(log, 'crit', 'c', { call: 'x' });
    logAt(log, 'shout', 'd');
    assert.deepEqual(
      out.lines.map((l) => [l.level, l.msg]),
      [
        ['debug', 'a'],
        ['info', 'b'],
        ['fatal', 'c'],
        ['error', 'd'],
      ],
    );
    assert.equal(out.lines[2]!.call, 'x');
    assert.equal(out.lines[3]!.ksr_level, 'shout');
  });

  it('appends to a file (folder created) and flushes on demand', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-log-'));
    try {
      const file = join(dir, 'sub', 'j.log');
      const log = createLogger({ destination: file });
      log.info({ n: 1 }, 'one');
      log.info({ n: 2 }, 'two');
      await flushLogger(log);
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { n: number });
      assert.deepEqual(
        lines.map((l) => l.n),
        [1, 2],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
