/**
 * The management interface against a real running server (bin/junction start) with real FIFOs,
 * HTTP, the CLI and SIPp: the seed's examples (serctl fifo uptime / which, the shell script that
 * sends an instant message with t_uac_dlg), `junction mi`, `mi()` in a routing script changing
 * behaviour at run time, safety (bad input, a symlinked FIFO path) and load (100 MI req/s over
 * HTTP during 300 calls/s → 0 failed calls).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, symlinkSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { httpCall, miOverHttp } from '../../src/mi/client.ts';
import { RELAY_CANCEL_AND_IN_DIALOG } from './call_flow.ts';
import {
  DEFAULT_SCRIPTS,
  describeSipp,
  ensureSipp,
  freePort,
  REPO,
  removeTempDirs,
  runSipp,
  shared,
  sleep,
  tempDir,
  waitUdpBound,
  writeFile,
} from './harness.ts';

const execFileP = promisify(execFile);
const BIN = join(REPO, 'bin/junction');

/** Relay everything (Kamailio-basic style); OPTIONS answered from MI state read with KSR.mi.mi(). */
const SCRIPT = `
export async function ksr_request_route(KSR: any): Promise<void> {
${RELAY_CANCEL_AND_IN_DIALOG}  if (KSR.is_OPTIONS()) {
    // The operator puts the server in "maintenance" by raising the log level to debug.
    const rc = await KSR.mi.mi('log_level', null, '$var(level)');
    const level = String(KSR.pv.get('$var(level)'));
    if (rc === 1 && level.includes('debug')) KSR.sl.sl_send_reply(503, 'Maintenance');
    else KSR.sl.sl_send_reply(200, 'rc ' + rc);
    const unknown = await KSR.mi.mi('no_such_command');
    KSR.info('mi unknown rc ' + unknown + '\\n');
    return;
  }
  if (KSR.is_method_in('I')) KSR.rr.record_route();
  if ((await KSR.tm.t_relay()) < 0) KSR.sl.sl_reply_error();
}
`;

const UAS_NOTIFY = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas for one non-INVITE request">
  <recv request="NOTIFY|MESSAGE" regexp_match="true" />
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
</scenario>
`;

interface Jn {
  child: ChildProcess;
  out: () => string;
  port: number;
  http: number;
  fifo: string;
  replyDir: string;
  dir: string;
  stop(): Promise<void>;
}

async function startJn(
  opts: { fifo?: string; dir?: string; logLevel?: string; script?: string } = {},
): Promise<Jn> {
  const dir = opts.dir ?? tempDir('junction-mi-');
  const port = await freePort();
  const http = await freePort();
  const fifo = opts.fifo ?? join(dir, 'junction_fifo');
  const script = opts.script ?? writeFile(dir, 'routes.ts', SCRIPT);
  const cfg = writeFile(
    dir,
    'junction.yaml',
    [
      `listen: [udp:127.0.0.1:${port}]`,
      `script: ${script}`,
      `log_level: ${opts.logLevel ?? 'info'}`,
      'storage: memory',
      'mi:',
      `  http: 127.0.0.1:${http}`,
      `  fifo: ${fifo}`,
      `  fifo_reply_dir: ${dir}`,
      `  socket: ${join(dir, 'mi.sock')}`,
    ].join('\n'),
  );
  const child = spawn(BIN, ['start', '-c', cfg], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const deadline = Date.now() + 15000;
  const ready = (): boolean =>
    out.split('\n').some((l) => l.includes('"listen":[') && l.includes('"msg":"listening"'));
  while (!ready()) {
    if (child.exitCode !== null) throw Object.assign(new Error(`junction exited ${child.exitCode}`), { out });
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`junction did not start:\n${out}`);
    }
    await sleep(50);
  }
  return {
    child,
    out: () => out,
    port,
    http,
    fifo,
    replyDir: dir,
    dir,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await execFileP(BIN, args, { timeout: 30000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** One OPTIONS over UDP; the status line of the answer. */
async function options(port: number): Promise<string> {
  const sock = createSocket('udp4');
  await new Promise<void>((ok) => sock.bind(0, '127.0.0.1', () => ok()));
  const lport = sock.address().port;
  const msg = [
    `OPTIONS sip:ping@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK${Math.random().toString(36).slice(2)};rport`,
    'Max-Forwards: 70',
    `From: <sip:t@127.0.0.1>;tag=${Date.now()}`,
    `To: <sip:ping@127.0.0.1:${port}>`,
    `Call-ID: ${Math.random().toString(36).slice(2)}@test`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const reply = new Promise<string>((ok, fail) => {
    const t = setTimeout(() => fail(new Error('no answer to OPTIONS')), 3000);
    sock.on('message', (m) => {
      const line = m.toString().split('\r\n')[0]!;
      if (line.includes(' 100 ')) return;
      clearTimeout(t);
      ok(line);
    });
  });
  sock.send(msg, port, '127.0.0.1');
  try {
    return await reply;
  } finally {
    sock.close();
  }
}

describe('management interface (integration)', { timeout: 240000 }, () => {
  let jn: Jn;
  before(async () => {
    ensureSipp();
    jn = await startJn();
  });
  after(async () => {
    await jn?.stop();
    removeTempDirs();
  });

  it("answers the seed's `serctl fifo uptime` / `which` / unknown command through `junction fifo`", async () => {
    const up = await cli(['fifo', '--fifo', jn.fifo, '-c', join(jn.dir, 'junction.yaml'), 'uptime']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^200 OK\nNow: .+\nUp Since: .+\nUp time: \d+ \[sec\]\n$/);
    const which = await cli(['fifo', '-c', join(jn.dir, 'junction.yaml'), 'which']);
    for (const n of ['ps', 'which', 'version', 'uptime', 't_uac_dlg'])
      assert.ok(which.stdout.split('\n').includes(n), n);
    const bad = await cli(['fifo', '-c', join(jn.dir, 'junction.yaml'), 'foobar']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, "500 command 'foobar' not available\n");
  });

  it("delivers the seed's shell-script instant message (t_uac_dlg over the FIFO) to a SIPp UAS", async () => {
    const uasPort = await freePort();
    const dir = tempDir('sipp-uas-');
    const sc = writeFile(dir, 'uas.xml', UAS_NOTIFY);
    const msgs = join(dir, 'msgs.log');
    const uas = runSipp(
      [
        '-sf',
        sc,
        '-i',
        '127.0.0.1',
        '-p',
        String(uasPort),
        '-m',
        '1',
        '-t',
        'u1',
        '-trace_msg',
        '-message_file',
        msgs,
      ],
      30000,
    );
    await waitUdpBound(uasPort);
    // The seed's script, with the receiver's port (the UAS is not on 5060) and our FIFO.
    const sh = writeFile(
      dir,
      'send_im.sh',
      `#!/bin/sh
FIFO="$1"; shift
cat > "$FIFO" <<EOF
:t_uac_dlg:hh
NOTIFY
sip:receiver@127.0.0.1:${uasPort}
.
From: sip:originator@foo.bar
To: sip:receiver@127.0.0.1
foo: bar_special_header
x: y
p_header: p_value
Contact: <sip:devnull@192.168.0.100:9>
Content-Type: text/plain; charset=UTF-8
.
Hello world!!!! $@
.
EOF
`,
    );
    await execFileP('sh', [sh, jn.fifo, 'from', 'shell'], { timeout: 10000 });
    const r = await uas.done;
    assert.ok(r.code === 0 && r.successful === 1, describeSipp('uas', r));
    const got = readFileSync(msgs, 'utf8');
    assert.match(got, /NOTIFY sip:receiver@127\.0\.0\.1:\d+ SIP\/2\.0\r\n/);
    assert.match(got, /\r\nfoo: bar_special_header\r\n/);
    assert.match(got, /\r\n\r\nHello world!!!! from shell/);
  });

  it('t_uac_dlg MESSAGE over the FIFO JSON framing (`junction mi --fifo`) returns the final status', async () => {
    const uasPort = await freePort();
    const dir = tempDir('sipp-uas-');
    const uas = runSipp(
      ['-sf', writeFile(dir, 'uas.xml', UAS_NOTIFY), '-i', '127.0.0.1', '-p', String(uasPort), '-m', '1'],
      30000,
    );
    await waitUdpBound(uasPort);
    const r = await cli([
      'mi',
      '--fifo',
      jn.fifo,
      '-c',
      join(jn.dir, 'junction.yaml'),
      't_uac_dlg',
      'method=MESSAGE',
      `ruri=sip:bob@127.0.0.1:${uasPort}`,
      'headers=From: <sip:admin@example.com>\nTo: <sip:bob@example.com>\nContent-Type: text/plain',
      'body=Hello world from junction mi',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { Status: string; Message: string };
    assert.equal(res.Status, '200 OK');
    assert.match(res.Message, /^SIP\/2\.0 200 OK\r\n/);
    const u = await uas.done;
    assert.ok(u.code === 0 && u.successful === 1, describeSipp('uas', u));
  });

  it('`junction mi` over HTTP: results as JSON, errors with exit 1', async () => {
    const cfg = join(jn.dir, 'junction.yaml');
    const v = await cli(['mi', '-c', cfg, 'core.version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match((JSON.parse(v.stdout) as { Server: string }).Server, /^Junction /);
    const st = await cli(['mi', '--url', `http://127.0.0.1:${jn.http}/mi`, 'get_statistics', 'core:', 'tm:']);
    assert.equal(st.code, 0, st.stderr);
    assert.equal(typeof (JSON.parse(st.stdout) as Record<string, number>)['tm:created'], 'number');
    const bad = await cli(['mi', '-c', cfg, 'which', 'nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error 404: command 'nope' not available/);
    const params = await cli(['mi', '-c', cfg, 'uptime', 'x=1']);
    assert.equal(params.code, 1);
    assert.match(params.stderr, /^error -32602: Invalid params/);
  });

  it('mi() in the routing script changes behaviour at run time', async () => {
    const cfg = join(jn.dir, 'junction.yaml');
    assert.equal(await options(jn.port), 'SIP/2.0 200 rc 1');
    assert.equal((await cli(['mi', '-c', cfg, 'log_level', 'debug'])).code, 0);
    assert.equal(await options(jn.port), 'SIP/2.0 503 Maintenance');
    assert.equal((await cli(['mi', '-c', cfg, 'log_level', 'info'])).code, 0);
    assert.equal(await options(jn.port), 'SIP/2.0 200 rc 1');
    await sleep(100);
    assert.match(jn.out(), /mi unknown rc -1/);
  });

  it('bad JSON, unknown commands, wrong params and oversized requests get clear errors; the server keeps serving', async () => {
    const url = `http://127.0.0.1:${jn.http}/mi`;
    const pe = await httpCall(url, '{"jsonrpc":"2.0","id":1,');
    assert.equal((JSON.parse(pe.text) as { error: { code: number } }).error.code, -32700);
    assert.equal((await miOverHttp(url, 'nope', [])).error?.code, -32601);
    assert.equal((await miOverHttp(url, 'log_level', { level: 'loud' })).error?.code, 400);
    assert.equal((await miOverHttp(url, 'uptime', ['extra'])).error?.code, -32602);
    assert.equal((await httpCall(url, `{"x":"${'a'.repeat(2 * 1024 * 1024)}"}`)).status, 413);
    assert.equal((await options(jn.port)).startsWith('SIP/2.0 200'), true);
    assert.equal((await miOverHttp(url, 'uptime', undefined)).error, undefined);
  });

  for (const d of DEFAULT_SCRIPTS)
    it(`serweb's ul_add flow from a shell script (FIFO request, reply FIFO), then a call reaches the contact (${d.lang} default script)`, async () => {
      const reg = await startJn({ script: d.script });
      try {
        const uasPort = await freePort();
        const uas = runSipp(
          ['-sf', shared('bench/scenarios/uas.xml'), '-i', '127.0.0.1', '-p', String(uasPort), '-m', '1'],
          30000,
        );
        await waitUdpBound(uasPort);
        // write2fifo() of the seed, in sh: make the reply FIFO, write the request, read the reply.
        const sh = writeFile(
          reg.dir,
          'serweb.sh',
          `#!/bin/sh
  fifo="$1"; reply_dir="$2"; contact="$3"
  name="serweb_reply_$$"
  mkfifo -m 666 "$reply_dir/$name" || exit 1
  printf ':ul_add:%s\nlocation\njiri\n%s\n3600\n1\n\n' "$name" "$contact" > "$fifo"
  cat "$reply_dir/$name"
  rm -f "$reply_dir/$name"
  `,
        );
        const out = await execFileP('sh', [sh, reg.fifo, reg.replyDir, `sip:jiri@127.0.0.1:${uasPort}`], {
          timeout: 10000,
        });
        assert.match(out.stdout, /^200 /);
        const show = await cli([
          'fifo',
          '-c',
          join(reg.dir, 'junction.yaml'),
          'ul_show_contact',
          'location',
          'jiri',
        ]);
        assert.match(show.stdout, new RegExp(`^200 [^\\n]*\\n.*sip:jiri@127\\.0\\.0\\.1:${uasPort}`, 's'));
        const uac = runSipp(
          [
            '-sf',
            shared('bench/scenarios/uac-rr.xml'),
            `127.0.0.1:${reg.port}`,
            '-s',
            'jiri',
            '-i',
            '127.0.0.1',
            '-m',
            '1',
            '-timeout',
            '20s',
            '-timeout_error',
          ],
          30000,
        );
        const r = await uac.done;
        assert.ok(r.code === 0 && r.successful === 1, describeSipp('uac', r));
        const u = await uas.done;
        assert.ok(u.code === 0 && u.successful === 1, describeSipp('uas', u));
      } finally {
        await reg.stop();
      }
    });

  it('refuses to start with a FIFO path that is a symlink', async () => {
    const dir = tempDir('junction-mi-link-');
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'fifo_link'));
    await assert.rejects(startJn({ dir, fifo: join(dir, 'fifo_link') }), (e: Error & { out?: string }) => {
      assert.match(e.out ?? '', /refusing FIFO path .*fifo_link: it is a symbolic link/);
      return true;
    });
  });

  it('load: 100 management requests/s over HTTP during 300 calls/s cause 0 failed calls', async (t) => {
    const uasPort = await freePort();
    const uas = runSipp(
      ['-sf', shared('bench/scenarios/uas.xml'), '-i', '127.0.0.1', '-p', String(uasPort), '-t', 'u1'],
      90000,
    );
    await waitUdpBound(uasPort);
    const calls = 3000;
    const uac = runSipp(
      [
        '-sf',
        shared('bench/scenarios/uac-rr.xml'),
        `127.0.0.1:${uasPort}`,
        '-rsa',
        `127.0.0.1:${jn.port}`,
        '-i',
        '127.0.0.1',
        '-t',
        'u1',
        '-r',
        '300',
        '-m',
        String(calls),
        '-l',
        '3000',
        '-recv_timeout',
        '10000',
        '-timeout',
        '60s',
      ],
      90000,
    );
    const url = `http://127.0.0.1:${jn.http}/mi`;
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const methods: Array<[string, unknown]> = [
      ['get_statistics', ['all']],
      ['uptime', undefined],
      ['which', undefined],
      ['tm.t_uac_start', undefined], // wrong params: an error answer is fine, it must not disturb calls
      ['core.psx', undefined],
    ];
    let sent = 0;
    let answered = 0;
    let stop = false;
    const latencies: number[] = [];
    const driver = (async () => {
      const start = Date.now();
      while (!stop) {
        const due = Math.floor(((Date.now() - start) / 1000) * 100);
        while (sent < due) {
          const [m, p] = methods[sent % methods.length]!;
          const t0 = performance.now();
          sent++;
          void httpCall(
            url,
            JSON.stringify({
              jsonrpc: '2.0',
              id: sent,
              method: m,
              ...(p === undefined ? {} : { params: p }),
            }),
            {
              agent,
              timeoutMs: 5000,
            },
          ).then(
            (r) => {
              if (r.status === 200) answered++;
              latencies.push(performance.now() - t0);
            },
            () => undefined,
          );
        }
        await sleep(5);
      }
    })();
    const r = await uac.done;
    stop = true;
    await driver;
    await sleep(200);
    agent.destroy();
    uas.stop();
    await uas.done;
    const seconds = calls / 300;
    assert.ok(r.code === 0 && r.successful === calls && r.failed === 0, describeSipp('uac', r));
    assert.ok(sent >= seconds * 100 * 0.9, `sent ${sent} MI requests`);
    assert.ok(answered >= sent * 0.99, `answered ${answered}/${sent}`);
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
    t.diagnostic(
      `calls ${r.successful}/${calls} ok, ${r.failed} failed; MI ${answered}/${sent} answered, p50 ${(latencies[Math.floor(latencies.length / 2)] ?? 0).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
    );
    assert.ok(p99 < 1000, `MI p99 ${p99.toFixed(1)} ms`);
  });
});
