import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
// The exec module registers `modules.exec` (as the CLI does by importing src/modules/index.ts).
import '../modules/exec/params.ts';
import { defaultConfig, formatConfigError, loadConfig, parseConfig } from './load.ts';
import { createModuleRegistry } from './modules.ts';
import { DEFAULT_SCRIPT } from './schema.ts';
import type { ConfigError } from './spec.ts';
import type { Config } from './types.ts';

const tmp = mkdtempSync(join(tmpdir(), 'junction-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Errors of a config that must be invalid (files are not checked unless asked). */
function errorsOf(yaml: string, checkFiles = false): readonly ConfigError[] {
  const r = parseConfig(yaml, { checkFiles });
  assert.equal(r.ok, false, `expected errors for:\n${yaml}`);
  return r.ok ? [] : r.errors;
}

function configOf(yaml: string, options: Parameters<typeof parseConfig>[1] = {}): Config {
  const r = parseConfig(yaml, options);
  if (!r.ok) assert.fail(r.errors.map(formatConfigError).join('\n'));
  return r.config;
}

/** The one error at `path`, whose message must match. */
function expectError(yaml: string, path: string, message: RegExp): void {
  const errors = errorsOf(yaml);
  const hit = errors.find((e) => e.path === path);
  assert.ok(hit, `no error at ${path}; got:\n${errors.map(formatConfigError).join('\n')}`);
  assert.match(hit.message, message);
}

describe('defaults', () => {
  it('no config file gives a working proxy', () => {
    const c = defaultConfig({ cwd: '/srv/junction' });
    assert.deepEqual(
      c.listen.map((l) => l.spec),
      ['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060'],
    );
    assert.equal(c.script, DEFAULT_SCRIPT);
    assert.match(c.script, /routes\/default\.ts$/);
    assert.equal(c.log_level, 'info');
    assert.deepEqual(c.storage, {
      kind: 'sqlite',
      spec: 'sqlite:./data/junction.db',
      path: '/srv/junction/data/junction.db',
    });
    assert.deepEqual(c.mi, {
      http: { host: '127.0.0.1', port: 8888 },
      fifo: '/tmp/junction_fifo',
      socket: null,
      fifo_reply_dir: '/tmp',
    });
    assert.deepEqual(c.modules.tm, {
      fr_timer: 30000,
      fr_inv_timer: 120000,
      t1: 500,
      t2: 4000,
      t4: 5000,
      wt_timer: 5000,
      max_transactions: 250000,
    });
    assert.deepEqual(c.modules.exec, {
      setvars: 1,
      time_to_kill: 0,
      bash_safety: 1,
      max_children: 128,
      max_output: 65536,
      spawner: 1,
    });
    assert.equal(c.external_script_timeout_ms, 900);
    assert.equal(c.external_script_reject_on_timeout, 0);
    assert.deepEqual(c.connection_points, []);
    assert.deepEqual(c.termination_points, []);
    assert.deepEqual(c.proxy, {
      stateless: false,
      record_route: true,
      max_branches: 12,
      dns_cache_ttl_s: 300,
      user_agent: 'Junction',
    });
    assert.deepEqual(c.transport, {
      tcp_idle_timeout_ms: 60000,
      max_connections: 4096,
      max_buffered_bytes: 262144,
      keepalive_interval_ms: 0,
    });
    assert.deepEqual(c.dns, { servers: [], timeout_ms: 2000, tries: 2 });
    assert.equal(c.script_watch, false);
    assert.equal(c.tls, undefined);
    assert.equal(c.source, null);
  });

  it('an empty or comment-only file is the defaults; a file only changes what it names', () => {
    assert.deepEqual(configOf('').modules, defaultConfig().modules);
    assert.equal(configOf('# nothing yet\n').log_level, 'info');
    const c = configOf('modules:\n  tm:\n    fr_timer: 5000\n');
    assert.equal(c.modules.tm.fr_timer, 5000);
    assert.equal(c.modules.tm.fr_inv_timer, 120000);
    assert.equal(c.listen.length, 2);
  });

  it('the result is deeply frozen', () => {
    const c = defaultConfig();
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.listen[0]));
    assert.ok(Object.isFrozen(c.modules.tm));
    assert.throws(() => {
      (c.modules.tm as { fr_timer: number }).fr_timer = 1;
    }, TypeError);
  });

  it('sections with no value are empty sections', () => {
    const c = configOf('modules:\nconnection_points:\nproxy:\n');
    assert.equal(c.modules.tm.fr_timer, 30000);
    assert.deepEqual(c.connection_points, []);
    assert.equal(c.proxy.max_branches, 12);
  });
});

describe('the public contract example from DESIGN.md', () => {
  it('loads as written', () => {
    const c = configOf(
      `
listen:
  - udp:127.0.0.1:5060
  - tcp:127.0.0.1:5060
script: ${DEFAULT_SCRIPT}
log_level: info
storage: sqlite:./data/junction.db
mi:
  http: 127.0.0.1:8888
  fifo: /tmp/junction_fifo
modules:
  exec: { setvars: 1, time_to_kill: 0 }
  tm: { fr_timer: 30000, fr_inv_timer: 120000 }
external_script_timeout_ms: 900
external_script_reject_on_timeout: 0
connection_points:
  - id: 2
    user_id: 2
    match: { ip: 127.0.0.1/32 }
    external_script: http://127.0.0.1:8833
    termination_points: [10]
termination_points:
  - id: 10
    uri: sip:127.0.0.1:5090
`,
      { checkFiles: true },
    );
    assert.deepEqual(c.connection_points[0], {
      id: 2,
      user_id: 2,
      match: { ip: { spec: '127.0.0.1/32', address: '127.0.0.1', prefix: 32, family: 4 } },
      external_script: { kind: 'http', url: 'http://127.0.0.1:8833/' },
      external_script_mode: 'spawn',
      localization: { src: { text: '', rules: [] }, dst: { text: '', rules: [] } },
      termination_points: [{ id: 10 }],
    });
    assert.deepEqual(c.termination_points, [
      {
        id: 10,
        uri: 'sip:127.0.0.1:5090',
        active: true,
        transformation: { src: { text: '', rules: [] }, dst: { text: '', rules: [] } },
        capacity: 0,
        options_interval_ms: 0,
        no_answer_timeout_ms: 0,
      },
    ]);
    assert.equal(c.external_script_reject_on_failure, 0);
    assert.deepEqual(c.hangup_causes, {});
  });

  it('reads M4 rules, routed termination points and the HGC table, naming bad keys', () => {
    const c = configOf(`
hangup_causes: { 384: 403 }
connection_points:
  - id: 1
    match: { ip: 10.0.0.0/8, transport: udp }
    localization: { src: "-00|-0+370", dst: 370 }
    termination_points: [{ id: 7, prefix: "3706" }, { id: 8, regexp: "^1" }, 9]
termination_points:
  - { id: 7, uri: "sip:10.1.1.1", capacity: 2 }
  - { id: 8, uri: "sip:10.1.1.2", transformation: { dst: "-370" } }
  - { id: 9, uri: "sip:10.1.1.3", active: false }
`);
    const cp = c.connection_points[0]!;
    assert.equal(cp.localization.src.text, '-00|-0+370');
    assert.equal(cp.localization.dst.rules[0]!.add, '370');
    assert.equal(cp.termination_points[0]!.prefix, '3706');
    assert.equal(cp.termination_points[1]!.regexp?.test('123'), true);
    assert.deepEqual(cp.termination_points[2], { id: 9 });
    assert.deepEqual(c.hangup_causes, { 384: 403 });
    const bad = parseConfig(`
hangup_causes: { 384: 200 }
connection_points:
  - { id: 1, match: { ip: 10.0.0.1 }, localization: { src: "-" }, termination_points: [{ id: 3, regexp: "(" }] }
termination_points: [{ id: 3, uri: "sip:h", transformation: { dst: "1||2" } }]
`);
    assert.equal(bad.ok, false);
    const text = bad.ok ? '' : bad.errors.map((e) => `${e.path}: ${e.message}`).join('\n');
    assert.match(text, /hangup_causes\.384: expected a SIP status/);
    assert.match(text, /connection_points\[0\]\.localization\.src: rule "-"/);
    assert.match(text, /connection_points\[0\]\.termination_points\[0\]\.regexp: bad regular expression/);
    assert.match(text, /termination_points\[0\]\.transformation\.dst: empty rule/);
  });
});

describe('listen', () => {
  it('parses IPv6 in brackets, host names, advertise in both forms', () => {
    const c = configOf(`
listen:
  - udp:[::1]:5060
  - tcp:sip.example.com:5070
  - { url: 'udp:0.0.0.0:5080', advertise: 'pub.example.com' }
  - { url: 'udp:0.0.0.0:5090', advertise: '[2001:db8::1]:6000' }
  - udp:10.0.0.1:5060 advertise 1.2.3.4:5062
`);
    assert.deepEqual(c.listen[0], {
      spec: 'udp:[::1]:5060',
      protocol: 'udp',
      address: '::1',
      family: 6,
      port: 5060,
    });
    assert.deepEqual(c.listen[1], {
      spec: 'tcp:sip.example.com:5070',
      protocol: 'tcp',
      address: 'sip.example.com',
      family: null,
      port: 5070,
    });
    assert.deepEqual(c.listen[2]!.advertise, { host: 'pub.example.com', port: 5080 });
    assert.deepEqual(c.listen[3]!.advertise, { host: '2001:db8::1', port: 6000 });
    assert.deepEqual(c.listen[4]!.advertise, { host: '1.2.3.4', port: 5062 });
  });

  it('names the entry of a bad spec', () => {
    expectError(
      'listen:\n  - udp:127.0.0.1:5060\n  - udp:127.0.0.1\n',
      'listen[1]',
      /bad listen spec.*has no port/,
    );
    expectError('listen: [ "udp:1.2.3.4:99999" ]', 'listen[0]', /port 99999 is out of range 1-65535/);
    expectError('listen: [ "sctp:1.2.3.4:5060" ]', 'listen[0]', /unknown protocol "sctp"/);
    expectError('listen: [ { url: "udp:1.2.3.4" } ]', 'listen[0].url', /has no port/);
    expectError(
      'listen: [ { url: "udp:1.2.3.4:5060", advertise: "a b" } ]',
      'listen[0].advertise',
      /bad advertise/,
    );
    expectError(
      'listen: [ { url: "udp:1.2.3.4:5060", advertize: "x" } ]',
      'listen[0].advertize',
      /did you mean 'advertise'/,
    );
    expectError('listen: [ 5060 ]', 'listen[0]', /expected a listen spec/);
    expectError('listen: udp:1.2.3.4:5060', 'listen', /expected a list, got string/);
    expectError('listen: []', 'listen', /at least 1 entry/);
    expectError(
      'listen: [udp:1.2.3.4:5060, "udp:1.2.3.4:5060"]',
      'listen[1]',
      /duplicate listener udp:1.2.3.4:5060 \(already listen\[0\]\)/,
    );
  });

  it('tls and wss listeners need the tls section', () => {
    expectError(
      'listen: [ tls:127.0.0.1:5061 ]',
      'tls',
      /listen\[0\] \(tls:127.0.0.1:5061\) needs tls.certificate/,
    );
  });
});

describe('errors name the key path and the problem', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['modules: { tm: { fr_timer: -1 } }', 'modules.tm.fr_timer', /must not be negative, got -1/],
    [
      'modules: { tm: { fr_timer: "30000" } }',
      'modules.tm.fr_timer',
      /expected an integer.*string "30000" \(write numbers without quotes\)/,
    ],
    ['modules: { tm: { fr_timer: 1.5 } }', 'modules.tm.fr_timer', /expected an integer.*1.5/],
    ['modules: { tm: { t1: 1000, t2: 500 } }', 'modules.tm.t2', /must not be below t1/],
    ['modules: { tm: { fr_timr: 1 } }', 'modules.tm.fr_timr', /unknown key \(did you mean 'fr_timer'\?\)/],
    ['modules: { exec: { setvars: 2 } }', 'modules.exec.setvars', /expected 0 or 1, got number 2/],
    ['modules: { registar: {} }', 'modules.registar', /unknown module 'registar'.*exec, tm/],
    ['modules: { tmm: {} }', 'modules.tmm', /unknown module 'tmm' \(did you mean 'tm'\?\)/],
    ['modules: [tm]', 'modules', /expected a mapping/],
    ['fr_timer: 100', 'fr_timer', /did you mean 'modules.tm.fr_timer'/],
    ['lissten: []', 'lissten', /did you mean 'listen'/],
    ['log_level: verbose', 'log_level', /unknown log level/],
    ['log_level: dbug', 'log_level', /did you mean 'debug'/],
    ['storage: postgres://x', 'storage', /expected memory, sqlite:PATH or redis:\/\/HOST:PORT/],
    ['mi: { http: "127.0.0.1" }', 'mi.http', /has no port/],
    ['mi: { http: 70000 }', 'mi.http', /out of range/],
    ['proxy: { stateless: "yes" }', 'proxy.stateless', /expected a boolean/],
    ['proxy: { max_branches: 0 }', 'proxy.max_branches', /at least 1/],
    ['transport: { tcp_idle_timeout_ms: -5 }', 'transport.tcp_idle_timeout_ms', /must not be negative/],
    ['external_script_timeout_ms: -1', 'external_script_timeout_ms', /must not be negative/],
    ['external_script_reject_on_timeout: 2', 'external_script_reject_on_timeout', /expected 0 or 1/],
    ['script: routes/default.txt', 'script', /\.ts, \.js or \.lua/],
    ['script: 42', 'script', /expected the routing script's path/],
    ['script_watch: maybe', 'script_watch', /expected a boolean/],
    [
      'connection_points: [ { id: 1, match: { ip: 300.0.0.1/32 } } ]',
      'connection_points[0].match.ip',
      /not an IP address or CIDR/,
    ],
    ['connection_points: [ { id: 1, match: { port: 0 } } ]', 'connection_points[0].match.port', /at least 1/],
    [
      'connection_points: [ { id: 1, match: {} } ]',
      'connection_points[0].match',
      /at least one of ip, port, username/,
    ],
    [
      'connection_points: [ { match: { port: 5070 } } ]',
      'connection_points[0].id',
      /missing \(required: integer ≥ 1\)/,
    ],
    ['connection_points: [ { id: 1 } ]', 'connection_points[0].match', /at least one of/],
    [
      'connection_points: [ { id: 1, match: { port: 1 }, external_script: ftp://x } ]',
      'connection_points[0].external_script',
      /only http/,
    ],
    [
      'connection_points: [ { id: 1, match: { port: 1 }, termination_points: [7] } ]',
      'connection_points[0].termination_points[0]',
      /no termination point with id 7/,
    ],
    [
      'connection_points: [ { id: 1, match: { port: 1 } }, { id: 1, match: { port: 2 } } ]',
      'connection_points[1].id',
      /duplicate id 1/,
    ],
    ['termination_points: [ { id: 1, uri: "http://x" } ]', 'termination_points[0].uri', /sip: or sips:/],
    ['termination_points: [ { id: 1, uri: "sip:" } ]', 'termination_points[0].uri', /bad SIP URI/],
    ['aliases: [ "bad host" ]', 'aliases[0]', /not an IPv4 address/],
    ['dns: { servers: [ "dns.example.com" ] }', 'dns.servers[0]', /expected a DNS server ip or ip:port/],
    [
      'transport: { keepalive_interval_ms: -1 }',
      'transport.keepalive_interval_ms',
      /must not be negative, got -1/,
    ],
    ['log_level:', 'log_level', /has no value \(remove the key to use the default, "info"\)/],
    ['mi:\n  http:', 'mi.http', /has no value/],
    ['[1, 2]', '', /must be a mapping/],
  ];
  for (const [yaml, path, message] of cases) {
    it(`${path || '(root)'} ← ${yaml}`, () => expectError(yaml, path, message));
  }

  it('reports every problem in one run, ordered by line, with positions', () => {
    const errors = errorsOf('listen:\n  - udp:1.2.3.4\nmodules:\n  tm:\n    fr_timer: -1\n    t9: 1\n');
    assert.deepEqual(
      errors.map((e) => [e.path, e.line, e.column]),
      [
        ['listen[0]', 2, 5],
        ['modules.tm.fr_timer', 5, 5],
        ['modules.tm.t9', 6, 5],
      ],
    );
  });

  it('YAML syntax errors and duplicate keys have a position', () => {
    const [dup] = errorsOf('log_level: info\nlog_level: debug\n');
    assert.match(dup!.message, /YAML: .*unique/i);
    assert.equal(dup!.line, 2);
    const [syntax] = errorsOf('listen: [udp:1.2.3.4:5060\n');
    assert.match(syntax!.message, /^YAML: /);
    assert.ok(syntax!.line !== undefined);
  });

  it('formats errors compiler-style', () => {
    assert.equal(
      formatConfigError({
        path: 'modules.tm.fr_timer',
        message: 'must not be negative, got -1',
        file: '/etc/j.yaml',
        line: 7,
        column: 5,
      }),
      '/etc/j.yaml:7:5: modules.tm.fr_timer: must not be negative, got -1',
    );
    assert.equal(formatConfigError({ path: 'listen', message: 'x' }), 'listen: x');
  });
});

describe('files and relative paths', () => {
  const dir = join(tmp, 'etc');
  mkdirSync(join(dir, 'routes'), { recursive: true });
  writeFileSync(join(dir, 'routes', 'main.ts'), 'export function ksr_request_route() {}\n');
  writeFileSync(join(dir, 'hook.sh'), '#!/bin/sh\necho {}\n');
  chmodSync(join(dir, 'hook.sh'), 0o755);
  writeFileSync(join(dir, 'not-exec.sh'), '#!/bin/sh\n');
  chmodSync(join(dir, 'not-exec.sh'), 0o644);
  writeFileSync(join(dir, 'cert.pem'), 'x');
  writeFileSync(join(dir, 'key.pem'), 'x');

  it('are relative to the config file folder', () => {
    const file = join(dir, 'junction.yaml');
    writeFileSync(
      file,
      `script: routes/main.ts
storage: sqlite:db/j.db
mi: { fifo: run/fifo }
log_destination: logs/j.log
listen: [ tls:127.0.0.1:5061 ]
tls: { certificate: cert.pem, private_key: ./key.pem }
connection_points:
  - { id: 1, match: { username: alice }, external_script: ./hook.sh }
`,
    );
    const r = loadConfig(file, { cwd: '/' });
    if (!r.ok) assert.fail(r.errors.map(formatConfigError).join('\n'));
    const c = r.config;
    assert.equal(c.source, file);
    assert.equal(c.script, join(dir, 'routes/main.ts'));
    assert.deepEqual(c.storage, { kind: 'sqlite', spec: 'sqlite:db/j.db', path: join(dir, 'db/j.db') });
    assert.equal(c.mi.fifo, join(dir, 'run/fifo'));
    assert.equal(c.log_destination, join(dir, 'logs/j.log'));
    assert.deepEqual(c.tls, {
      certificate: join(dir, 'cert.pem'),
      private_key: join(dir, 'key.pem'),
      verify_client: false,
      verify_server: false,
    });
    assert.deepEqual(c.connection_points[0]!.external_script, { kind: 'exec', path: join(dir, 'hook.sh') });
  });

  it('are relative to the cwd without a config file, except the embedded script', () => {
    const c = defaultConfig({ cwd: dir });
    assert.equal(c.storage.kind === 'sqlite' && c.storage.path, join(dir, 'data/junction.db'));
    assert.equal(c.script, DEFAULT_SCRIPT);
  });

  it('files the config names must exist (and hooks be executable)', () => {
    const file = join(dir, 'missing.yaml');
    writeFileSync(
      file,
      `script: routes/nope.ts
connection_points:
  - { id: 1, match: { port: 5070 }, external_script: ./not-exec.sh }
  - { id: 2, match: { port: 5071 }, external_script: /nonexistent/hook }
`,
    );
    const r = loadConfig(file);
    assert.equal(r.ok, false);
    const byPath = new Map(r.ok ? [] : r.errors.map((e) => [e.path, e.message]));
    assert.match(byPath.get('script') ?? '', /routes\/nope\.ts does not exist/);
    assert.match(byPath.get('connection_points[0].external_script') ?? '', /is not executable/);
    assert.match(byPath.get('connection_points[1].external_script') ?? '', /does not exist/);
    // checkFiles: false skips the file system (for tools that only look at the shape).
    assert.equal(loadConfig(file, { checkFiles: false }).ok, true);
  });

  it('a missing config file is an error result, not a throw', () => {
    const r = loadConfig(join(dir, 'absent.yaml'));
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.errors[0]!.message, /cannot read config file: no such file/);
  });
});

describe('log levels', () => {
  it("accepts pino names, Kamailio's names and numbers", () => {
    assert.equal(configOf('log_level: dbg').log_level, 'debug');
    assert.equal(configOf('log_level: notice').log_level, 'info');
    assert.equal(configOf('log_level: err').log_level, 'error');
    assert.equal(configOf('log_level: crit').log_level, 'fatal');
    assert.equal(configOf('log_level: 3').log_level, 'debug');
    assert.equal(configOf('log_level: -1').log_level, 'error');
    assert.equal(configOf('log_level: silent').log_level, 'silent');
  });
});

describe('mi', () => {
  it('false disables an interface; a bare port binds loopback', () => {
    assert.deepEqual(configOf('mi: { http: false, fifo: false }').mi, {
      http: null,
      fifo: null,
      socket: null,
      fifo_reply_dir: '/tmp',
    });
    assert.equal(configOf('mi: { socket: /run/junction.sock, token: abc }').mi.socket, '/run/junction.sock');
    assert.equal(configOf('mi: { token: abc }').mi.token, 'abc');
    assert.deepEqual(configOf('mi: { http: 9000 }').mi.http, { host: '127.0.0.1', port: 9000 });
    assert.deepEqual(configOf('mi: { http: "[::1]:9000" }').mi.http, { host: '::1', port: 9000 });
  });
});

describe('module registries', () => {
  it('validates against the registry given', () => {
    const modules = createModuleRegistry({ builtins: false });
    const r = parseConfig('modules: { tm: {} }', { modules });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.errors[0]!.message, /unknown module 'tm'/);
  });
});
