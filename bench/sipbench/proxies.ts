/**
 * The proxies under test, each started on udp:127.0.0.1:5060 (or `port`) and stopped by PID.
 *
 * - Junction: `bin/junction start -c cfg.yaml` (udp only, log_level warn, storage memory, no MI,
 *   routes/default.ts or the spec's script). bin/junction execs node, so the tracked PID is the
 *   node process.
 * - Kamailio: ../shared/bench/kamailio/stateful.cfg (or the spec's cfg) with kam.sh's command line
 *   (`-DD -E -m SHM -M 32 [-x MEMMGR] -A KCHILDREN=2`), syntax-checked with `-c` first; the main
 *   PID and every process it forks are the proxy.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { descendants, startTracked, type Tracked } from './procs.ts';

export interface ProxySpec {
  /** Short id: junction | kamailio-tuned | kamailio-shipped. */
  id: string;
  label: string;
  kind: 'junction' | 'kamailio';
  /** Kamailio only. */
  shmMb?: number;
  memmgr?: string;
  /**
   * Track every call as a dialog: Junction `modules.dialog.track_all: 1`; Kamailio stateful.cfg
   * with dialog.so loaded and dlg_manage() on each initial INVITE (written into the run folder).
   */
  dialog?: boolean;
  /** Junction: routing script, relative to the repository or absolute (default routes/default.ts), and more top-level YAML (connection points, hook settings). */
  script?: string;
  yaml?: string;
  /** Kamailio: config file in ../shared/bench/kamailio (default stateful.cfg) and more `-A NAME=value` defines. */
  cfg?: string;
  defines?: string[];
}

/** The Kamailio config file of a spec (an absolute `cfg` is taken as is). */
export function kamailioCfg(shared: string, spec: ProxySpec): string {
  return resolve(shared, 'kamailio', spec.cfg ?? 'stateful.cfg');
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
  /**
   * Also listen over TLS on 127.0.0.1:5061 or WebSocket on 127.0.0.1:5062 (transport benchmark).
   * Kamailio gets stateful.cfg with tls.so, or xhttp.so + websocket.so, added.
   */
  transport?: { protocol: 'tls' | 'ws'; certPath: string; keyPath: string };
  /** UDP port (default 5060); TLS listens on port + 1, WS on port + 2. */
  port?: number;
}

export const tlsPort = (udpPort: number): number => udpPort + 1;
export const wsPort = (udpPort: number): number => udpPort + 2;

/** stateful.cfg on another port and/or with a TLS or WebSocket listener (tls / websocket modules). */
function derivedKamailioCfg(base: string, dir: string, port: number, t: StartOptions['transport']): string {
  let cfg = readFileSync(base, 'utf8').replace('listen=udp:127.0.0.1:5060', `listen=udp:127.0.0.1:${port}`);
  const TLS_PORT = tlsPort(port);
  const WS_PORT = wsPort(port);
  const mods: string[] = [];
  if (t === undefined) {
    // port only
  } else if (t.protocol === 'tls') {
    const tlsCfg = join(dir, 'kamailio-tls.cfg');
    writeFileSync(
      tlsCfg,
      [
        '[server:default]',
        'method = TLSv1.2+',
        'verify_certificate = no',
        'require_certificate = no',
        `private_key = ${t.keyPath}`,
        `certificate = ${t.certPath}`,
        '',
        '[client:default]',
        'verify_certificate = no',
        'require_certificate = no',
        '',
      ].join('\n'),
    );
    cfg = cfg.replace('disable_tcp=yes', `disable_tcp=no\nenable_tls=yes\nlisten=tls:127.0.0.1:${TLS_PORT}`);
    mods.push('loadmodule "tls.so"', `modparam("tls", "config", "${tlsCfg}")`);
  } else {
    cfg = cfg.replace(
      'disable_tcp=yes',
      `disable_tcp=no\ntcp_accept_no_cl=yes\nlisten=tcp:127.0.0.1:${WS_PORT}`,
    );
    mods.push('loadmodule "xhttp.so"', 'loadmodule "websocket.so"');
    cfg += [
      '',
      'event_route[xhttp:request] {',
      '\tif ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {',
      '\t\tif (ws_handle_handshake()) exit;',
      '\t}',
      '\txhttp_reply("404", "Not Found", "", "");',
      '}',
      '',
    ].join('\n');
  }
  if (mods.length > 0) cfg = cfg.replace('loadmodule "ctl.so"', `loadmodule "ctl.so"\n${mods.join('\n')}`);
  const out = join(dir, `kamailio-${t?.protocol ?? 'udp'}-${port}.cfg`);
  writeFileSync(out, cfg);
  return out;
}

export function startProxy(spec: ProxySpec, o: StartOptions): RunningProxy {
  const port = o.port ?? 5060;
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
          `  - udp:127.0.0.1:${port}`,
          ...(o.transport === undefined
            ? []
            : [
                o.transport.protocol === 'tls'
                  ? `  - tls:127.0.0.1:${tlsPort(port)}`
                  : `  - ws:127.0.0.1:${wsPort(port)}`,
                `tls: { certificate: ${JSON.stringify(o.transport.certPath)}, private_key: ${JSON.stringify(o.transport.keyPath)} }`,
              ]),
          `script: ${JSON.stringify(resolve(o.repo, spec.script ?? 'routes/default.ts'))}`,
          'log_level: warn',
          'storage: memory',
          'mi: { http: false, fifo: false }',
          ...(spec.dialog === true ? ['modules: { dialog: { track_all: 1 } }'] : []),
          spec.yaml ?? '',
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
      const base = spec.dialog === true ? dialogCfg(o.shared, o.dir) : kamailioCfg(o.shared, spec);
      const cfg =
        o.transport === undefined && port === 5060
          ? base
          : derivedKamailioCfg(base, o.dir, port, o.transport);
      const defs = [
        // Path defines some configs use (as kam.sh passes them).
        '-A',
        `LUAFILE="${join(o.shared, 'kamailio/stateful-kemi.lua')}"`,
        '-A',
        `KCHILDREN=${o.children ?? 2}`,
        '-A',
        `CTLSOCK="unix:${join(o.dir, 'kamailio_ctl')}"`,
        ...(spec.defines ?? []).flatMap((d) => ['-A', d]),
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
