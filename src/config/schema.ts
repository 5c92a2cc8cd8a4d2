/**
 * The config schema: one entry per key, with its type, default, validation and documentation.
 * README.md's key table is generated from this file (`npm run docs:config`), and a test keeps
 * the two in sync. Defaults are written as an operator would write them in YAML.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCEPTED_LEVEL_NAMES, toThreshold } from '../log/levels.ts';
import { parseRules } from '../routing_points/rules.ts';
import { isParseError } from '../sip/errors.ts';
import { isSipUri, parseUri } from '../sip/uri.ts';
import {
  array,
  boolean,
  custom,
  describe,
  flag,
  type Infer,
  integer,
  isPlainObject,
  millis,
  object,
  oneOf,
  optional,
  type ParseContext,
  type Path,
  type Spec,
  string,
} from './spec.ts';
import { suggest } from './suggest.ts';
import type {
  Config,
  ExternalScript,
  HostPort,
  ListenSpec,
  LogLevel,
  ModulesConfig,
  NumberRulesConfig,
  StorageConfig,
  TpChoice,
} from './types.ts';
import {
  formatHostPort,
  parseCidr,
  parseHostPort,
  parseListenSpec,
  parsePort,
  parseStorage,
} from './values.ts';

/** The repository root: the embedded default script lives in it, whatever the cwd. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_SCRIPT = resolve(REPO_ROOT, 'routes/default.ts');

const SCRIPT_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.lua'];

function resolvePath(p: string, ctx: ParseContext): string {
  return isAbsolute(p) ? p : resolve(ctx.baseDir, p);
}

/** Report a missing (or unreadable) file when files are checked; `exec` also wants the x bit. */
function checkFile(path: string, at: Path, ctx: ParseContext, exec = false): boolean {
  if (!ctx.checkFiles) return true;
  try {
    if (!statSync(path).isFile()) {
      ctx.report(at, `${path} is not a regular file`);
      return false;
    }
    accessSync(path, exec ? constants.X_OK : constants.R_OK);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : exec && code === 'EACCES'
          ? 'is not executable'
          : `cannot be read (${code})`;
    ctx.report(at, `${path} ${why}`);
    return false;
  }
}

/** A file path, resolved against the config's folder; checked to exist when `mustExist`. */
function filePath(opts: {
  doc: string;
  default?: string;
  defaultDoc?: string;
  mustExist?: boolean;
}): Spec<string> {
  return custom('path', opts, (value, at, ctx) => {
    if (typeof value !== 'string' || value.trim() === '') {
      ctx.report(at, `expected a file path, got ${describe(value)}`);
      return undefined;
    }
    const path = resolvePath(value, ctx);
    if (opts.mustExist === true && !checkFile(path, at, ctx)) return undefined;
    return path;
  });
}

// ---------------------------------------------------------------------------------------------
// listen

const LISTEN_FIELDS = {
  url: string({ doc: 'The listener, `proto:host:port`.', nonEmpty: true }),
  advertise: optional(
    string({
      doc: "Host (and port) written in Via / Record-Route instead of the bound address, for NAT or 0.0.0.0 binds: `pub.example.com:5060`; the port defaults to the listener's.",
    }),
  ),
} as const;
const listenObject = object(LISTEN_FIELDS, { doc: 'A listener with options.' });

function toListen(
  url: string,
  advertise: string | undefined,
  urlAt: Path,
  advAt: Path,
  ctx: ParseContext,
): ListenSpec | undefined {
  const parsed = parseListenSpec(url);
  if (!parsed.ok) {
    ctx.report(urlAt, `bad listen spec: ${parsed.error}`);
    return undefined;
  }
  const { protocol, address, family, port } = parsed.value;
  const spec = `${protocol}:${formatHostPort(address, port)}`;
  // The inline Kamailio form and the `advertise` key are two ways to say one thing.
  if (parsed.value.advertise !== undefined && advertise !== undefined) {
    ctx.report(advAt, 'advertise given twice (inline in the url and as a key)');
    return undefined;
  }
  const adv = advertise ?? parsed.value.advertise;
  if (adv === undefined) return { spec, protocol, address, family, port };
  const hp = parseHostPort(adv, port);
  if (!hp.ok) {
    ctx.report(advertise === undefined ? urlAt : advAt, `bad advertise address: ${hp.error}`);
    return undefined;
  }
  return { spec, protocol, address, family, port, advertise: { host: hp.value.host, port: hp.value.port } };
}

const listenEntry = custom<ListenSpec>(
  'proto:host:port | {url, advertise}',
  {
    doc: "One listener: `udp:127.0.0.1:5060`, `tcp:[::1]:5060`, `tls:sip.example.com:5061`; proto udp, tcp, tls, ws or wss; port 1-65535. Kamailio's inline `udp:10.0.0.1:5060 advertise 1.2.3.4:5060` is accepted.",
    fields: LISTEN_FIELDS,
  },
  (value, at, ctx) => {
    if (typeof value === 'string') return toListen(value, undefined, at, at, ctx);
    if (isPlainObject(value)) {
      const o = listenObject.parse(value, at, ctx);
      return o === undefined
        ? undefined
        : toListen(o.url, o.advertise, [...at, 'url'], [...at, 'advertise'], ctx);
    }
    ctx.report(at, `expected a listen spec (proto:host:port) or a mapping with url, got ${describe(value)}`);
    return undefined;
  },
);

const listen = array(listenEntry, {
  doc: 'Addresses to receive SIP on.',
  default: ['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060'],
  minItems: 1,
  refine(list, at, ctx) {
    const seen = new Map<string, number>();
    list.forEach((l, i) => {
      const first = seen.get(l.spec);
      if (first === undefined) seen.set(l.spec, i);
      else ctx.report([...at, i], `duplicate listener ${l.spec} (already listen[${first}])`);
    });
  },
});

// ---------------------------------------------------------------------------------------------
// script, logs, storage, mi

const script = custom<string>(
  'path',
  {
    doc: 'The routing script: `.ts`, `.js` or `.lua`.',
    default: DEFAULT_SCRIPT,
    defaultDoc: '<repo>/routes/default.ts',
  },
  (value, at, ctx) => {
    if (typeof value !== 'string' || value.trim() === '') {
      ctx.report(at, `expected the routing script's path, got ${describe(value)}`);
      return undefined;
    }
    const path = resolvePath(value, ctx);
    if (!SCRIPT_EXTENSIONS.includes(extname(path))) {
      ctx.report(at, `${value}: a routing script is a .ts, .js or .lua file`);
      return undefined;
    }
    return checkFile(path, at, ctx) ? path : undefined;
  },
);

const logLevel = custom<LogLevel>(
  'level',
  {
    doc: "Minimum level logged: trace, debug, info, warn, error, fatal or silent; Kamailio's names (dbg, notice, err, crit, alert) and numeric `debug=` levels (3 … -3) are accepted.",
    default: 'info',
  },
  (value, at, ctx) => {
    const level = typeof value === 'string' || typeof value === 'number' ? toThreshold(value) : undefined;
    if (level !== undefined) return level;
    const near = typeof value === 'string' ? suggest(value, ACCEPTED_LEVEL_NAMES) : undefined;
    ctx.report(
      at,
      `unknown log level ${describe(value)}${near === undefined ? ` (expected one of ${ACCEPTED_LEVEL_NAMES.join(', ')})` : ` (did you mean '${near}'?)`}`,
    );
    return undefined;
  },
);

const logDestination = custom<string>(
  'stdout | stderr | path',
  {
    doc: 'Where log lines (JSON, one per line) go: stdout, stderr, or a file (appended to).',
    default: 'stdout',
  },
  (value, at, ctx) => {
    if (typeof value !== 'string' || value.trim() === '') {
      ctx.report(at, `expected stdout, stderr or a file path, got ${describe(value)}`);
      return undefined;
    }
    return value === 'stdout' || value === 'stderr' ? value : resolvePath(value, ctx);
  },
);

const storage = custom<StorageConfig>(
  'memory | sqlite:PATH | redis://HOST:PORT',
  {
    doc: "Where registrations, subscribers and CDRs are kept. A relative sqlite path is relative to the config file's folder (the cwd without a config file).",
    default: 'sqlite:./data/junction.db',
  },
  (value, at, ctx) => {
    if (typeof value !== 'string') {
      ctx.report(at, `expected memory, sqlite:PATH or redis://HOST:PORT, got ${describe(value)}`);
      return undefined;
    }
    const parsed = parseStorage(value, (p) => resolvePath(p, ctx));
    if (parsed.ok) return parsed.value;
    ctx.report(at, parsed.error);
    return undefined;
  },
);

const miHttp = custom<HostPort | null>(
  'host:port | port | false',
  {
    doc: 'HTTP management interface (POST /mi JSON-RPC 2.0, GET /metrics): `host:port`, a bare port (loopback), or false to disable.',
    default: '127.0.0.1:8888',
  },
  (value, at, ctx) => {
    if (value === false) return null;
    if (typeof value === 'number') {
      const p = parsePort(String(value));
      if (p.ok) return { host: '127.0.0.1', port: p.value };
      ctx.report(at, p.error);
      return undefined;
    }
    if (typeof value !== 'string') {
      ctx.report(at, `expected host:port or false, got ${describe(value)}`);
      return undefined;
    }
    const hp = parseHostPort(value);
    if (hp.ok) return { host: hp.value.host, port: hp.value.port };
    ctx.report(at, hp.error);
    return undefined;
  },
);

const miFifo = custom<string | null>(
  'path | false',
  {
    doc: 'FIFO management interface (JSON-RPC and the SER text protocol): a path, or false to disable.',
    default: '/tmp/junction_fifo',
  },
  (value, at, ctx) => {
    if (value === false) return null;
    if (typeof value !== 'string' || value.trim() === '') {
      ctx.report(at, `expected a FIFO path or false, got ${describe(value)}`);
      return undefined;
    }
    return resolvePath(value, ctx);
  },
);

const miSocket = custom<string | null>(
  'path | false',
  {
    doc: 'Unix stream socket management interface (newline-delimited JSON-RPC 2.0), mode 0660: a path, or false (default) to disable.',
    default: false,
    defaultDoc: 'false',
  },
  (value, at, ctx) => {
    if (value === false) return null;
    if (typeof value !== 'string' || value.trim() === '') {
      ctx.report(at, `expected a socket path or false, got ${describe(value)}`);
      return undefined;
    }
    return resolvePath(value, ctx);
  },
);

const miFifoReplyDir = custom<string>(
  'path',
  {
    doc: "Folder of the FIFO clients' reply FIFOs (reply names may not contain ., / or \\).",
    default: '/tmp',
  },
  (value, at, ctx) => {
    if (typeof value !== 'string' || value.trim() === '') {
      ctx.report(at, `expected a folder path, got ${describe(value)}`);
      return undefined;
    }
    return resolvePath(value, ctx);
  },
);

const mi = object(
  {
    http: miHttp,
    fifo: miFifo,
    socket: miSocket,
    fifo_reply_dir: miFifoReplyDir,
    token: optional(
      string({
        doc: 'Bearer token the HTTP interface (/mi and /metrics) requires (`Authorization: Bearer <token>`); none by default.',
        nonEmpty: true,
      }),
    ),
  },
  { doc: 'Management interfaces; both bind locally by default.' },
);

// ---------------------------------------------------------------------------------------------
// modules

const modules: Spec<ModulesConfig> = {
  type: 'mapping',
  doc: "Per-module parameters, Kamailio's names where they exist. Only registered modules are accepted; every registered module gets its defaults.",
  default: {},
  moduleMap: true,
  parse(value, at, ctx) {
    if (value === null) value = {};
    if (!isPlainObject(value)) {
      ctx.report(at, `expected a mapping of module name to parameters, got ${describe(value)}`);
      return undefined;
    }
    const names = ctx.modules.names();
    for (const name of Object.keys(value)) {
      if (ctx.modules.get(name) !== undefined) continue;
      const near = suggest(name, names);
      const hint = near === undefined ? '' : ` (did you mean '${near}'?)`;
      ctx.report(
        [...at, name],
        `unknown module '${name}'${hint}; modules with parameters: ${names.sort().join(', ')}`,
      );
    }
    const out: Record<string, unknown> = {};
    let ok = true;
    for (const name of names) {
      const parsed = ctx.modules
        .get(name)!
        .parse(Object.hasOwn(value, name) ? value[name] : {}, [...at, name], ctx);
      if (parsed === undefined) ok = false;
      else out[name] = parsed;
    }
    return ok ? (out as ModulesConfig) : undefined;
  },
};

// ---------------------------------------------------------------------------------------------
// M4 connection and termination points

const cidr = custom(
  'IP | CIDR',
  { doc: "Caller's source address: `127.0.0.1/32`, `10.0.0.0/8`, `::1`." },
  (value, at, ctx) => {
    const parsed = typeof value === 'string' ? parseCidr(value) : undefined;
    if (parsed?.ok === true) return parsed.value;
    ctx.report(
      at,
      parsed?.ok === false ? parsed.error : `expected an IP address or CIDR block, got ${describe(value)}`,
    );
    return undefined;
  },
);

const match = object(
  {
    ip: optional(cidr),
    port: optional(integer({ doc: "Caller's source port.", min: 1, max: 65535 })),
    transport: optional(oneOf(['udp', 'tcp', 'tls', 'ws', 'wss'], { doc: 'Transport the call arrives on.' })),
    username: optional(
      string({ doc: 'Authenticated user name (or From user) of the caller.', nonEmpty: true }),
    ),
  },
  {
    doc: 'Which calls come in through this connection point; every key given must match.',
    refine(m, at, ctx) {
      if (m.ip === undefined && m.port === undefined && m.username === undefined) {
        ctx.report(at, 'needs at least one of ip, port, username (transport only narrows them)');
      }
    },
  },
);

const externalScript = custom<ExternalScript>(
  'URL | path',
  {
    doc: 'M4 external call-routing hook: an http:// or https:// URL (JSON POST), or a local program (JSON on stdin).',
  },
  (value, at, ctx) => {
    if (typeof value !== 'string' || value.trim() === '') {
      ctx.report(at, `expected an http(s):// URL or a program path, got ${describe(value)}`);
      return undefined;
    }
    if (/^https?:\/\//i.test(value)) {
      try {
        return { kind: 'http', url: new URL(value).href };
      } catch {
        ctx.report(at, `${JSON.stringify(value)} is not a valid URL`);
        return undefined;
      }
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      ctx.report(at, `${JSON.stringify(value)}: only http:// and https:// URLs, or a program path`);
      return undefined;
    }
    const path = resolvePath(value, ctx);
    return checkFile(path, at, ctx, true) ? { kind: 'exec', path } : undefined;
  },
);

const numberRules = custom<NumberRulesConfig>(
  'rules',
  {
    doc: 'M4 rules: `X` adds prefix X, `-X` cuts prefix X, `-X+Y` replaces it; `|` separates rules, the first that applies wins. Example: `-00|-0+370`.',
    default: '',
  },
  (value, at, ctx) => {
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string') {
      ctx.report(at, `expected M4 rules such as "-00|-0+370", got ${describe(value)}`);
      return undefined;
    }
    const rules = parseRules(text);
    if (typeof rules === 'string') {
      ctx.report(at, rules);
      return undefined;
    }
    return { text, rules };
  },
);

const numberRuleSet = object(
  { src: numberRules, dst: numberRules },
  { doc: 'Rules for the source (From user) and destination (Request-URI user) numbers.' },
);

const TP_CHOICE_FIELDS = {
  id: integer({ doc: 'A termination point id.', min: 1 }),
  prefix: optional(
    string({ doc: 'Only destinations (after the hook) starting with this prefix.', nonEmpty: true }),
  ),
  regexp: optional(
    custom<RegExp>(
      'regexp',
      { doc: 'Only destinations (after the hook) matching this regular expression.' },
      (value, at, ctx) => {
        if (typeof value !== 'string' || value === '') {
          ctx.report(at, `expected a regular expression, got ${describe(value)}`);
          return undefined;
        }
        try {
          return new RegExp(value);
        } catch (e) {
          ctx.report(at, `bad regular expression: ${(e as Error).message}`);
          return undefined;
        }
      },
    ),
  ),
} as const;
const tpChoiceObject = object(TP_CHOICE_FIELDS, { doc: 'A termination point with a destination match.' });

const tpChoice = custom<TpChoice>(
  'id | {id, prefix, regexp}',
  {
    doc: 'A termination point id, or `{id, prefix, regexp}` to use it only for matching destinations.',
    fields: TP_CHOICE_FIELDS,
  },
  (value, at, ctx) => {
    if (typeof value === 'number')
      return integer({ doc: '', min: 1 }).parse(value, at, ctx) === undefined ? undefined : { id: value };
    if (isPlainObject(value)) return tpChoiceObject.parse(value, at, ctx);
    ctx.report(at, `expected a termination point id or {id, prefix, regexp}, got ${describe(value)}`);
    return undefined;
  },
);

function uniqueIds(list: readonly { id: number }[], at: Path, ctx: ParseContext): void {
  const seen = new Map<number, number>();
  list.forEach((item, i) => {
    const first = seen.get(item.id);
    if (first === undefined) seen.set(item.id, i);
    else ctx.report([...at, i, 'id'], `duplicate id ${item.id} (already ${at.join('.')}[${first}])`);
  });
}

const connectionPoint = object(
  {
    id: integer({ doc: 'Connection point id (`cp_id` sent to the hook).', min: 1 }),
    user_id: integer({ doc: "Owner's user id (`user_id` sent to the hook).", min: 0, default: 0 }),
    match,
    external_script: optional(externalScript),
    external_script_mode: oneOf(['spawn', 'persistent'], {
      doc: 'Local script: `spawn` one process per call (M4), or `persistent`: one long-running process speaking JSON lines with request ids.',
      default: 'spawn',
    }),
    localization: numberRuleSet,
    termination_points: array(tpChoice, {
      doc: 'Termination points, tried in order (failover on timeout, 408, 5xx, capacity).',
      default: [],
    }),
  },
  { doc: 'A source of calls (M4 connection point).' },
);

const terminationPoint = object(
  {
    id: integer({ doc: 'Termination point id.', min: 1 }),
    uri: custom<string>(
      'SIP URI',
      { doc: 'Where calls are sent: `sip:127.0.0.1:5090`.' },
      (value, at, ctx) => {
        if (typeof value !== 'string') {
          ctx.report(at, `expected a SIP URI, got ${describe(value)}`);
          return undefined;
        }
        const uri = parseUri(value.trim());
        if (isParseError(uri)) ctx.report(at, `bad SIP URI ${JSON.stringify(value)}: ${uri.detail}`);
        else if (!isSipUri(uri)) ctx.report(at, `${JSON.stringify(value)}: expected a sip: or sips: URI`);
        else return value.trim();
        return undefined;
      },
    ),
    active: boolean({ doc: 'An inactive termination point is never used.', default: true }),
    transformation: numberRuleSet,
    capacity: integer({ doc: 'Most concurrent calls; 0 = unlimited.', default: 0, min: 0 }),
    options_interval_ms: millis({
      doc: 'Send OPTIONS this often; a termination point that does not answer is skipped until it does. 0 = no checks.',
      default: 0,
    }),
    no_answer_timeout_ms: millis({
      doc: 'Give up on this termination point (and fail over) without a final answer after this long; 0 = modules.tm.fr_inv_timer.',
      default: 0,
    }),
  },
  { doc: 'A destination for calls (M4 termination point).' },
);

// ---------------------------------------------------------------------------------------------
// the root

const rootFields = {
  listen,
  script,
  script_watch: boolean({ doc: 'Reload the routing script when its file changes.', default: false }),
  log_level: logLevel,
  log_destination: logDestination,
  storage,
  mi,
  modules,
  external_script_timeout_ms: millis({
    doc: 'Timeout of an external script call, HTTP or local (the program is killed); M4 name.',
    default: 900,
    min: 1,
  }),
  external_script_reject_on_timeout: flag({
    doc: '1 = reject the call when the external script times out; 0 = carry on unchanged (M4 name).',
    default: 0,
  }),
  external_script_reject_on_failure: flag({
    doc: '1 = reject the call (HGC 386) when the external script fails (connection error, bad status or reply, exit code); 0 = carry on unchanged.',
    default: 0,
  }),
  external_script_update_to: boolean({
    doc: 'A new destination from the hook also becomes the To user (not only the Request-URI user).',
    default: true,
  }),
  hangup_causes: custom<Readonly<Record<number, number>>>(
    'HGC: SIP status',
    {
      doc: 'M4 hangup cause → SIP status of the rejection (every cause defaults to 503): `{384: 403}`.',
      default: {},
    },
    (value, at, ctx) => {
      if (value === null) return {};
      if (!isPlainObject(value)) {
        ctx.report(at, `expected a mapping of hangup cause to SIP status, got ${describe(value)}`);
        return undefined;
      }
      const out: Record<number, number> = {};
      let ok = true;
      for (const [k, v] of Object.entries(value)) {
        if (!/^[0-9]{1,5}$/.test(k)) {
          ctx.report([...at, k], 'a hangup cause is an integer');
          ok = false;
        } else if (typeof v !== 'number' || !Number.isInteger(v) || v < 400 || v > 699) {
          ctx.report([...at, k], `expected a SIP status 400-699, got ${describe(v)}`);
          ok = false;
        } else out[Number(k)] = v;
      }
      return ok ? out : undefined;
    },
  ),
  connection_points: array(connectionPoint, {
    doc: 'Call sources for the M4 hook.',
    default: [],
    refine: (list, at, ctx) => uniqueIds(list, at, ctx),
  }),
  termination_points: array(terminationPoint, {
    doc: 'Call destinations for the M4 hook.',
    default: [],
    refine: (list, at, ctx) => uniqueIds(list, at, ctx),
  }),
  tls: optional(
    object(
      {
        certificate: filePath({ doc: 'PEM certificate (chain).', mustExist: true }),
        private_key: filePath({ doc: 'PEM private key.', mustExist: true }),
        ca_list: optional(filePath({ doc: 'PEM CA bundle to verify peers with.', mustExist: true })),
        verify_client: boolean({
          doc: 'Require a client certificate signed by ca_list on tls:/wss: listeners (Kamailio require_certificate).',
          default: false,
        }),
        verify_server: boolean({
          doc: 'Verify the certificate chain of TLS servers Junction connects to against ca_list (Kamailio verify_certificate).',
          default: false,
        }),
      },
      { doc: 'TLS settings for `tls:` and `wss:` listeners (required when there is one).' },
    ),
  ),
  aliases: array(
    custom<string>('host[:port]', { doc: 'A host[:port].' }, (value, at, ctx) => {
      const hp = typeof value === 'string' ? parseHostPort(value, 0) : undefined;
      if (hp?.ok === true) return value as string;
      ctx.report(at, hp?.ok === false ? hp.error : `expected host or host:port, got ${describe(value)}`);
      return undefined;
    }),
    { doc: 'Other names of this server (Kamailio `alias`), for is_myself checks.', default: [] },
  ),
  proxy: object(
    {
      stateless: boolean({ doc: 'Forward every request statelessly (no transactions).', default: false }),
      record_route: boolean({
        doc: 'Record-Route dialog-creating requests so in-dialog requests come back through this server.',
        default: true,
      }),
      max_branches: integer({
        doc: 'Most branches one request may fork to (Kamailio max_branches).',
        default: 12,
        min: 1,
        max: 64,
      }),
      dns_cache_ttl_s: integer({
        doc: 'Upper bound on how long DNS answers are cached.',
        default: 300,
        min: 0,
        unit: 's',
      }),
      user_agent: string({
        doc: 'User-Agent / Server header of locally generated messages; empty = none.',
        default: 'Junction',
      }),
    },
    { doc: 'Proxy behaviour.' },
  ),
  transport: object(
    {
      tcp_idle_timeout_ms: millis({
        doc: 'Close a TCP/TLS connection idle this long; 0 = never.',
        default: 60000,
      }),
      max_connections: integer({
        doc: 'Open stream connections at most; more inbound ones are refused.',
        default: 4096,
        min: 1,
      }),
      keepalive_interval_ms: millis({
        doc: 'RFC 5626 §4.4.1 keep-alive on connections Junction opened, after this long without traffic: CRLF ping on TCP/TLS, WebSocket ping on WS/WSS (no pong within 10 s closes the connection); 0 = off.',
        default: 0,
      }),
      max_buffered_bytes: integer({
        doc: 'Unframed input and queued output per connection; the connection is closed beyond it.',
        default: 262144,
        min: 1024,
        unit: 'bytes',
      }),
    },
    { doc: 'Transport resource caps.' },
  ),
  dns: object(
    {
      servers: array(
        custom<string>('ip[:port]', { doc: 'A DNS server address.' }, (value, at, ctx) => {
          const hp = typeof value === 'string' ? parseHostPort(value, 53) : undefined;
          if (hp?.ok === true && hp.value.family !== null) return value as string;
          ctx.report(at, `expected a DNS server ip or ip:port, got ${describe(value)}`);
          return undefined;
        }),
        {
          doc: 'DNS servers for RFC 3263 lookups (NAPTR, SRV, A/AAAA); empty = the system resolvers.',
          default: [],
        },
      ),
      timeout_ms: millis({ doc: 'Timeout of one DNS query attempt.', default: 2000, min: 1 }),
      tries: integer({ doc: 'Attempts per DNS query and server.', default: 2, min: 1, max: 10 }),
    },
    {
      doc: 'RFC 3263 resolution of outbound targets (NAPTR → SRV → A/AAAA, cached up to proxy.dns_cache_ttl_s).',
    },
  ),
} as const;

/** Checks that span sections: TLS files for TLS listeners, hook ids that exist. */
function refineRoot(c: SchemaConfig, at: Path, ctx: ParseContext): void {
  const needsTls = c.listen.findIndex((l) => l.protocol === 'tls' || l.protocol === 'wss');
  if (needsTls !== -1 && c.tls === undefined) {
    ctx.report(
      [...at, 'tls'],
      `missing: listen[${needsTls}] (${c.listen[needsTls]!.spec}) needs tls.certificate and tls.private_key`,
    );
  }
  const tpIds = new Set(c.termination_points.map((t) => t.id));
  c.connection_points.forEach((cp, i) => {
    cp.termination_points.forEach(({ id }, j) => {
      if (!tpIds.has(id))
        ctx.report(
          [...at, 'connection_points', i, 'termination_points', j],
          `no termination point with id ${id}`,
        );
    });
  });
}

/** The whole schema (what validation runs and what the docs are generated from). */
export const configSchema = object(rootFields, { doc: 'Junction configuration.', refine: refineRoot });

/** Config minus what does not come from the file. */
export type SchemaConfig = Omit<Config, 'source'>;

// Compile-time check that the schema produces exactly the documented Config type: editing one
// without the other fails typecheck here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type SchemaMatchesConfig = Assert<Same<Infer<typeof configSchema>, SchemaConfig>>;
