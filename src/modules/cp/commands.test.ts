import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../log/logger.ts';
import { MiError } from '../../mi/command.ts';
import cp from './index.ts';
import { startCallRouting } from './reload.ts';

const dir = mkdtempSync(join(tmpdir(), 'cp-commands-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function command(name: string): (params?: Record<string, unknown>) => unknown {
  const c = cp.commands.find((x) => x.name === name);
  assert.ok(c, name);
  return (params = {}) => c.handler(params, { transport: 'test' });
}

const YAML = (dst: string): string => `
mi: { http: false, fifo: false }
storage: memory
connection_points:
  - { id: 2, user_id: 20, match: { ip: 10.0.0.0/8, port: 5070 }, external_script: "http://127.0.0.1:8833", localization: { dst: "${dst}" }, termination_points: [10, { id: 11, regexp: "^44" }] }
termination_points:
  - { id: 10, uri: "sip:192.0.2.1:5060", capacity: 3 }
  - { id: 11, uri: "sip:192.0.2.2:5060", active: false, transformation: { src: "+" } }
`;

describe('cp_list, tp_list, cp_reload', () => {
  it('lists what is in force and reloads it from the config file; a bad file changes nothing', async () => {
    const file = join(dir, 'junction.yaml');
    writeFileSync(file, YAML('-0+370'));
    const loaded = loadConfig(file, { checkFiles: false });
    assert.ok(loaded.ok);
    const routing = startCallRouting(loaded.config, createLogger({ level: 'silent' }));
    try {
      assert.deepEqual(command('cp_list')(), [
        {
          id: 2,
          user_id: 20,
          match: { ip: '10.0.0.0/8', port: 5070 },
          external_script: 'http://127.0.0.1:8833/',
          external_script_mode: 'spawn',
          localization: { src: '', dst: '-0+370' },
          termination_points: [{ id: 10 }, { id: 11, regexp: '^44' }],
        },
      ]);
      const tps = command('tp_list')() as Array<Record<string, unknown>>;
      assert.deepEqual(
        tps.map((t) => [t.id, t.active, t.alive, t.capacity, t.calls]),
        [
          [10, true, true, 3, 0],
          [11, false, true, 0, 0],
        ],
      );
      writeFileSync(file, YAML('-8+370'));
      assert.deepEqual(command('cp_reload')(), { connection_points: 1, termination_points: 2 });
      assert.equal(
        (command('cp_list')() as Array<{ localization: { dst: string } }>)[0]?.localization.dst,
        '-8+370',
      );
      writeFileSync(file, YAML('-'));
      assert.throws(
        () => command('cp_reload')(),
        (e: unknown) => e instanceof MiError && /localization\.dst/.test(e.message),
      );
      assert.equal(
        (command('cp_list')() as Array<{ localization: { dst: string } }>)[0]?.localization.dst,
        '-8+370',
      );
    } finally {
      await routing.stop();
    }
  });
});
