/**
 * KSR.exec through a running Junction (issue 7 §5): the environment of a known INVITE variable by
 * variable (the same vector Kamailio 5.6.3 produced, SIP_TID included), exec_dset forking a call
 * to two SIPp callees, exec_avp values used to route, time_to_kill under a 200 calls/s SIPp load,
 * 100 hung scripts that do not stop the proxy, and caller-controlled values that never execute.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  assertAllPassed,
  counts,
  proxyScript,
  runCalls,
  startBenchCalls,
  UAC_RR,
  UAS,
  withJunction,
} from './call_flow.ts';
import {
  ensureSipp,
  freePort,
  REPO,
  removeTempDirs,
  sleep,
  tempDir,
  writeFile,
  writeScript,
} from './harness.ts';
import { message, sipSocket } from './raw_sip.ts';
import { uasReject } from './scenarios.ts';

const FIXTURES = join(REPO, 'src/modules/exec/fixtures');

/** `NAME=value` lines → object. */
function envLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Direct children of `pid` (none when it is gone). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

/** Zombies (state Z) among the descendants of `pid` (the server and its spawner process). */
function zombiesUnder(pid: number): number[] {
  const out: number[] = [];
  const todo = childrenOf(pid);
  for (let i = 0; i < todo.length && i < 10_000; i++) {
    const child = todo[i] as number;
    try {
      const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) out.push(child);
    } catch {
      // gone meanwhile
    }
    todo.push(...childrenOf(child));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `decide` for proxyScript: a MESSAGE to user "hang" runs a script that never exits, answered 500 when killed. */
function hangRoute(pidDir: string): string {
  return `  if (KSR.is_MESSAGE() && KSR.pv.get('$rU') === 'hang') {
    KSR.tm.t_newtran();
    // $$$$ is the shell's $$ (a literal $ is written $$, as in Kamailio).
    const rc = await KSR.exec.exec_msg('echo $$$$ > ${pidDir}/$ci.pid; exec sleep 600');
    KSR.tm.t_reply(rc === -1 ? 500 : 200, rc === -1 ? 'Killed' : 'Exited');
    KSR.x.exit();
  }`;
}

describe('KSR.exec through Junction', { concurrency: 2 }, () => {
  before(() => ensureSipp());
  after(() => removeTempDirs());

  it(
    'the environment of a known INVITE is Kamailio 5.6.3’s, variable by variable (SIP_TID included)',
    { timeout: 60_000 },
    withJunction(async ({ junction, proxy }) => {
      const dir = tempDir();
      // As fixtures/kamailio-env.cfg: set the R-URI, then dump the SIP_* environment.
      const script = writeScript(`
export async function ksr_request_route(KSR: Ksr): Promise<void> {
  KSR.pv.sets('$ru', 'sip:carol@example.net:5070');
  const rc = await KSR.exec.exec_msg('env | grep ^SIP_ | sort > ${dir}/env-$(rm); cat > ${dir}/stdin-$(rm)');
  KSR.sl.sl_send_reply(rc === 1 ? 404 : 500, 'done');
}
`);
      await junction({ script });
      const sock = await sipSocket();
      try {
        for (const [sip, env, method, cid] of [
          ['invite.sip', 'kamailio-env-invite.txt', 'INVITE', 'd10815e0@213.20.128.35'],
          ['message.sip', 'kamailio-env-message.txt', 'MESSAGE', 'msg-1@h'],
        ] as const) {
          // The fixture's Via names port 35099: send from a socket, compare everything but the Via's port.
          const raw = readFileSync(join(FIXTURES, sip), 'latin1').replaceAll('35099', String(sock.port));
          sock.send(proxy, raw);
          assert.equal((await sock.final(cid, 10_000)).status, 404);
          const ours = envLines(readFileSync(join(dir, `env-${method}`), 'utf8'));
          const kamailio = envLines(readFileSync(join(FIXTURES, env), 'utf8'));
          assert.equal(readFileSync(join(dir, `stdin-${method}`), 'latin1'), raw);
          // The only inputs that differ from Kamailio's run: the sender's port in the Via
          // (so SIP_HF_VIA and SIP_TID, which hashes the top Via's port), checked separately below.
          assert.equal(ours.SIP_HF_VIA, kamailio.SIP_HF_VIA?.replaceAll('35099', String(sock.port)));
          assert.match(ours.SIP_TID ?? '', /^[0-9a-f]{32}$/);
          const { SIP_HF_VIA: _v1, SIP_TID: _t1, SIP_ORURI, ...rest } = ours;
          const { SIP_HF_VIA: _v2, SIP_TID: _t2, ...theirs } = kamailio;
          assert.deepEqual(rest, theirs);
          assert.equal(SIP_ORURI, kamailio.SIP_ORUI);
        }
      } finally {
        sock.close();
      }
    }),
  );

  it(
    'exec_dset forks a call to two SIPp callees: one 486, the other 200',
    { timeout: 90_000 },
    withJunction(async (t) => {
      const calls = 5;
      const a = {
        scenario: writeFile(tempDir(), 'a.xml', uasReject(486, 'Busy Here')),
        port: await freePort(),
        calls,
        timeoutS: 30,
      };
      const b = { scenario: UAS(), port: await freePort(), calls, timeoutS: 30 };
      const dir = tempDir();
      // The program gets the R-URI as $1 and prints the destination set.
      const dset = writeFile(
        dir,
        'dset.sh',
        `echo "$1" >> ${dir}/args\necho "sip:a@127.0.0.1:${a.port}"\necho "sip:b@127.0.0.1:${b.port}"\n`,
      );
      await t.junction({
        script: proxyScript(`  if (KSR.is_INVITE() && (await KSR.exec.exec_dset('sh ${dset}')) < 0) {
    KSR.sl.sl_send_reply(500, 'exec_dset failed');
    KSR.x.exit();
  }`),
      });
      // The caller's Request-URI names nobody: only exec_dset's set can reach the callees.
      const nobody = await freePort();
      const [rc, ra, rb] = await runCalls(t.s, [a, b], {
        scenario: UAC_RR(),
        calls,
        timeoutS: 30,
        callee: nobody,
        proxy: t.proxy,
        rate: 5,
      });
      assertAllPassed('caller', rc, calls);
      assertAllPassed('uas 486', ra, calls);
      assertAllPassed('uas 200', rb, calls);
      assert.deepEqual(counts(ra), ['recv INVITE 5', 'send 486 5', 'recv ACK 5', 'pause 1000ms 5']);
      const args = readFileSync(join(dir, 'args'), 'utf8').trim().split('\n');
      assert.equal(args.length, calls);
      for (const arg of args) assert.equal(arg, `sip:service@127.0.0.1:${nobody}`);
    }),
  );

  it(
    'exec_avp values route the call ($du from the program’s output)',
    { timeout: 90_000 },
    withJunction(async (t) => {
      const uasPort = await freePort();
      await t.junction({
        script: proxyScript(`  if (KSR.is_INVITE()) {
    if ((await KSR.exec.exec_avp("echo sip:127.0.0.1:${uasPort}; echo '$rU'", '$avp(nd),$avp(user)')) < 0) {
      KSR.sl.sl_send_reply(500, 'exec_avp failed');
      KSR.x.exit();
    }
    if (KSR.pv.get('$avp(user)') !== 'service') {
      KSR.sl.sl_send_reply(500, 'wrong user');
      KSR.x.exit();
    }
    KSR.pv.sets('$du', String(KSR.pv.get('$avp(nd)')));
  }`),
      });
      // The Request-URI names a port nobody listens on; only $du reaches the callee.
      const calls = 10;
      const uas = { scenario: UAS(), port: uasPort, calls, timeoutS: 30 };
      const [rc, ru] = await runCalls(t.s, [uas], {
        scenario: UAC_RR(),
        calls,
        timeoutS: 30,
        callee: await freePort(),
        proxy: t.proxy,
        rate: 10,
      });
      assertAllPassed('caller', rc, calls);
      assertAllPassed('callee', ru, calls);
    }),
  );

  it(
    'a script that never exits is killed at time_to_kill (±0.2 s) while 200 calls/s pass with no failure',
    { timeout: 120_000 },
    withJunction(async ({ s, junction, proxy }) => {
      const pids = tempDir();
      const server = await junction({
        script: proxyScript(hangRoute(pids)),
        extraYaml: 'modules:\n  exec: { time_to_kill: 1 }',
      });
      const sock = await sipSocket();
      try {
        const calls = 1000;
        const load = await startBenchCalls(s, { proxy, calls, timeoutS: 60, rate: 200 });
        await sleep(500);
        const hung: Array<Promise<number>> = [];
        for (let i = 0; i < 4; i++) {
          const cid = `hang-${i}`;
          const sent = performance.now();
          sock.send(proxy, message(sock.port, proxy, 'hang', cid));
          hung.push(sock.final(cid, 10_000).then((f) => (f.status === 500 ? f.at - sent : -f.status)));
          await sleep(700);
        }
        const waited = await Promise.all(hung);
        for (const ms of waited) assert.ok(ms >= 1000 && ms <= 1200, `killed after ${waited.join(', ')} ms`);
        const [rc, ru] = await Promise.all([load.caller.done, load.callee.done]);
        assertAllPassed('caller (200 calls/s)', rc, calls);
        assertAllPassed('callee', ru, calls);
        // The scripts (and their process groups) are gone, and reaped: no zombie under Junction.
        for (let i = 0; i < 4; i++) {
          const pid = Number(readFileSync(join(pids, `hang-${i}.pid`), 'utf8'));
          assert.equal(alive(pid), false, `script ${pid} survived`);
        }
        assert.deepEqual(zombiesUnder(server.pid), []);
      } finally {
        sock.close();
      }
    }),
  );

  it(
    '100 concurrent hung scripts do not stop the proxy; all are killed at time_to_kill',
    { timeout: 120_000 },
    withJunction(async ({ s, junction, proxy }) => {
      const pids = tempDir();
      await junction({
        script: proxyScript(hangRoute(pids)),
        extraYaml: 'modules:\n  exec: { time_to_kill: 6 }',
      });
      const sock = await sipSocket();
      try {
        const sent = performance.now();
        for (let i = 0; i < 100; i++) sock.send(proxy, message(sock.port, proxy, 'hang', `many-${i}`));
        // While the 100 scripts hang, calls go through (the caller is done long before the kill).
        const load = await startBenchCalls(s, { proxy, calls: 50, timeoutS: 30, rate: 50 });
        const rc = await load.caller.done;
        const callerMs = performance.now() - sent;
        assertAllPassed('caller', rc, 50);
        assert.ok(callerMs < 6000, `the calls took ${callerMs} ms: not done before the scripts were killed`);
        assertAllPassed('callee', await load.callee.done, 50);
        const finals = await Promise.all(
          Array.from({ length: 100 }, (_, i) => sock.final(`many-${i}`, 15_000)),
        );
        for (const f of finals) {
          assert.equal(f.status, 500);
          assert.ok(f.at - sent >= 6000 && f.at - sent < 7000, `answered after ${f.at - sent} ms`);
        }
      } finally {
        sock.close();
      }
    }),
  );

  it(
    'a From display name with $(touch …) and backticks never executes, in any documented usage',
    { timeout: 60_000 },
    withJunction(async ({ junction, proxy }) => {
      const dir = tempDir();
      const m = (n: number) => join(dir, `pwned-${n}`);
      const out = join(dir, 'out');
      // The seed's usages: $var unquoted, inside '…' (the seed's advice), inside "…", the R-URI
      // user, $SIP_HF_FROM from the environment, exec_cmd, exec_avp, exec_dset's R-URI argument.
      const script = writeScript(`
export async function ksr_request_route(KSR: Ksr): Promise<void> {
  const rcs = [
    await KSR.exec.exec_msg('echo request received from $fn $fu >> ${out}'),
    await KSR.exec.exec_msg("echo '$hdr(From)' >> ${out}"),
    await KSR.exec.exec_msg('echo "from: $fn" >> ${out}'),
    await KSR.exec.exec_msg('echo ruri user $rU >> ${out}'),
    await KSR.exec.exec_msg('echo request received from $SIP_HF_FROM >> ${out}'),
    await KSR.exec.exec_cmd('echo $(fn) >> ${out}'),
    await KSR.exec.exec_avp('echo $fn', '$avp(x)'),
    await KSR.exec.exec_dset('echo sip:bob@127.0.0.1; echo'),
  ];
  KSR.sl.sl_send_reply(rcs.every((rc) => rc === 1) ? 404 : 500, rcs.join(' '));
}
`);
      await junction({ script });
      const sock = await sipSocket();
      try {
        const display = `"$(touch ${m(1)}) \`touch ${m(2)}\` ;touch ${m(3)}; '|touch ${m(4)}"`;
        // A Request-URI user may hold $ ( ) / too (RFC 3261 user-unreserved and marks).
        const user = `$(touch$IFS${m(5)})`;
        sock.send(proxy, message(sock.port, proxy, user, 'inject-1', `${display} <sip:eve@127.0.0.1>`));
        assert.equal((await sock.final('inject-1', 10_000)).status, 404);
        for (let n = 1; n <= 5; n++) assert.equal(existsSync(m(n)), false, `${m(n)} was created`);
        const lines = readFileSync(out, 'utf8');
        assert.ok(lines.includes(`$(touch ${m(1)})`), lines);
        assert.ok(lines.includes(`\`touch ${m(2)}\``), lines);
        assert.ok(lines.includes(`ruri user ${user}`), lines);
      } finally {
        sock.close();
      }
    }),
  );
});
