import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './load.ts';
import { createModuleRegistry, moduleSchemas, registerModuleSchema } from './modules.ts';
import { flag, type Infer, millis, oneOf, string } from './spec.ts';

describe('registerModuleSchema', () => {
  it('validates modules.<name> against the table the module declared', () => {
    const modules = createModuleRegistry();
    const spec = modules.register(
      'registrar',
      {
        use_domain: flag({ doc: 'AORs include the domain.', default: 0 }),
        max_expires_ms: millis({ doc: 'Longest registration.', default: 3_600_000 }),
        mode: oneOf(['strict', 'loose'], { doc: 'How strict.', default: 'strict' }),
        realm: string({ doc: 'Auth realm.', default: '' }),
      },
      { doc: 'Registrations.' },
    );
    // The spec's inferred type is what modules read their parameters as.
    type Params = Infer<typeof spec>;
    const ok = parseConfig('modules: { registrar: { use_domain: 1, mode: loose } }', { modules });
    if (!ok.ok) assert.fail(JSON.stringify(ok.errors));
    const params = ok.config.modules.registrar as Params;
    assert.deepEqual(params, { use_domain: 1, max_expires_ms: 3_600_000, mode: 'loose', realm: '' });

    const bad = parseConfig('modules: { registrar: { use_domian: 1, max_expires_ms: -3, mode: lose } }', {
      modules,
    });
    assert.equal(bad.ok, false);
    const byPath = new Map(bad.ok ? [] : bad.errors.map((e) => [e.path, e.message]));
    assert.match(byPath.get('modules.registrar.use_domian') ?? '', /did you mean 'use_domain'/);
    assert.match(byPath.get('modules.registrar.max_expires_ms') ?? '', /must not be negative/);
    assert.match(
      byPath.get('modules.registrar.mode') ?? '',
      /expected one of strict, loose.*did you mean 'loose'/,
    );
  });

  it('fills every registered module with its defaults, mentioned or not', () => {
    const modules = createModuleRegistry();
    modules.register('acc', { log_missed: flag({ doc: 'Log missed calls.', default: 1 }) });
    const r = parseConfig('', { modules });
    assert.ok(r.ok);
    assert.deepEqual(r.config.modules.acc, { log_missed: 1 });
    assert.deepEqual(r.config.modules.tm.t1, 500);
  });

  it('an unregistered module is an error naming it', () => {
    const modules = createModuleRegistry();
    const r = parseConfig('modules: { dialog: { x: 1 } }', { modules });
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.errors.map((e) => e.path), ['modules.dialog']);
    assert.match(r.ok ? '' : r.errors[0]!.message, /unknown module 'dialog'; modules with parameters: tm/);
  });

  it('refuses bad names and double registration', () => {
    const modules = createModuleRegistry();
    assert.throws(() => modules.register('Bad-Name', {}), /must match/);
    assert.throws(() => modules.register('tm', {}), /registered twice/);
    assert.ok(modules.has('tm'));
    assert.deepEqual(createModuleRegistry({ builtins: false }).names(), []);
  });

  it('the process-wide registry is what loadConfig uses by default', () => {
    registerModuleSchema('test_config_global', { level: flag({ doc: 'x', default: 0 }) });
    assert.ok(moduleSchemas.has('test_config_global'));
    const r = parseConfig('modules: { test_config_global: { level: 1 } }');
    assert.ok(r.ok && r.config.modules.test_config_global?.level === 1);
  });
});
