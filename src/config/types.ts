/**
 * The validated, frozen configuration other layers program against. What each key means is
 * documented once, in the schema (schema.ts, modules_builtin.ts), from which README.md is
 * generated; these types only say what shape a value has after validation. schema.ts checks at
 * compile time that the schema produces exactly these types.
 */
import type { NumberRules } from '../routing_points/rules.ts';

export type Protocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** pino's level names; Kamailio's names and numbers are mapped onto them when the config is read. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface HostPort {
  /** IPv4, IPv6 without brackets, or a host name. */
  readonly host: string;
  readonly port: number;
}

/** One `listen` entry. */
export interface ListenSpec {
  /** Normalized `proto:host:port` (IPv6 in brackets), for logs and messages. */
  readonly spec: string;
  readonly protocol: Protocol;
  /** IPv4, IPv6 without brackets, or a host name (resolved by the transport). */
  readonly address: string;
  /** Family of an IP literal; null for a host name. */
  readonly family: 4 | 6 | null;
  readonly port: number;
  /** What Via / Record-Route carry instead of the bound address (NAT, wildcard binds). */
  readonly advertise?: HostPort;
}

export type StorageConfig =
  | { readonly kind: 'memory'; readonly spec: string }
  /** `path` is absolute. */
  | { readonly kind: 'sqlite'; readonly spec: string; readonly path: string }
  | {
      readonly kind: 'redis';
      readonly spec: string;
      readonly url: string;
      readonly host: string;
      readonly port: number;
    };

export interface MiConfig {
  /** null = HTTP management interface disabled. */
  readonly http: HostPort | null;
  /** Absolute FIFO path; null = disabled. */
  readonly fifo: string | null;
  /** Absolute unix socket path; null = disabled (the default). */
  readonly socket: string | null;
  /** Absolute folder of reply FIFOs (default /tmp). */
  readonly fifo_reply_dir: string;
  /** Bearer token for the HTTP interface; absent = none. */
  readonly token?: string;
}

export interface TlsConfig {
  /** Absolute paths. */
  readonly certificate: string;
  readonly private_key: string;
  readonly ca_list?: string;
  /** Require a client certificate on tls:/wss: listeners. */
  readonly verify_client: boolean;
  /** Verify the chain of TLS servers we connect to. */
  readonly verify_server: boolean;
}

export interface Cidr {
  /** Normalized `address/prefix`. */
  readonly spec: string;
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

export interface ConnectionPointMatch {
  readonly ip?: Cidr;
  readonly port?: number;
  readonly transport?: Protocol;
  readonly username?: string;
}

/** An M4 external script: an HTTP(S) URL or a local program (absolute path). */
export type ExternalScript =
  | { readonly kind: 'http'; readonly url: string }
  | { readonly kind: 'exec'; readonly path: string };

/** M4 number rules as written and as parsed (src/routing_points/rules.ts). */
export interface NumberRulesConfig {
  readonly text: string;
  readonly rules: NumberRules;
}

export interface NumberRuleSet {
  readonly src: NumberRulesConfig;
  readonly dst: NumberRulesConfig;
}

/** A termination point a connection point routes to, optionally only for some destinations. */
export interface TpChoice {
  readonly id: number;
  readonly prefix?: string;
  readonly regexp?: RegExp;
}

export interface ConnectionPoint {
  readonly id: number;
  readonly user_id: number;
  readonly match: ConnectionPointMatch;
  readonly external_script?: ExternalScript;
  readonly external_script_mode: 'spawn' | 'persistent';
  /** Applied to src and dst before the hook. */
  readonly localization: NumberRuleSet;
  /** Tried in order; each id exists in `termination_points`. */
  readonly termination_points: readonly TpChoice[];
}

export interface TerminationPoint {
  readonly id: number;
  readonly uri: string;
  readonly active: boolean;
  /** Applied to src and dst after the hook. */
  readonly transformation: NumberRuleSet;
  /** Max concurrent calls; 0 = unlimited. */
  readonly capacity: number;
  /** 0 = no OPTIONS checks. */
  readonly options_interval_ms: number;
  /** 0 = the tm default. */
  readonly no_answer_timeout_ms: number;
}

export interface ProxyConfig {
  readonly stateless: boolean;
  readonly record_route: boolean;
  readonly max_branches: number;
  readonly dns_cache_ttl_s: number;
  readonly user_agent: string;
}

export interface TransportConfig {
  readonly tcp_idle_timeout_ms: number;
  readonly max_connections: number;
  readonly max_buffered_bytes: number;
  readonly keepalive_interval_ms: number;
}

/** `dns`: the RFC 3263 resolver's client settings. */
export interface DnsConfig {
  /** `ip` or `ip:port` (`[ipv6]:port`); empty = the system's resolvers. */
  readonly servers: readonly string[];
  readonly timeout_ms: number;
  readonly tries: number;
}

/** `modules.tm` (Kamailio tm parameter names; all milliseconds). */
export type TmParams = {
  readonly fr_timer: number;
  readonly fr_inv_timer: number;
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  readonly wt_timer: number;
  readonly max_transactions: number;
};

/** A registered module's validated parameters (every registered module is present, defaults filled). */
export type ModuleParams = Readonly<Record<string, unknown>>;

/**
 * Parameters per module. The built-in ones are typed here; a module folder that registers its own
 * schema reads `config.modules.<name>` through the type its schema infers (see modules.ts).
 */
export type ModulesConfig = {
  readonly tm: TmParams;
  readonly [name: string]: ModuleParams | undefined;
};

export interface Config {
  readonly listen: readonly ListenSpec[];
  /** Absolute path of the routing script. */
  readonly script: string;
  readonly script_watch: boolean;
  readonly log_level: LogLevel;
  /** 'stdout', 'stderr' or an absolute file path. */
  readonly log_destination: string;
  readonly storage: StorageConfig;
  readonly mi: MiConfig;
  readonly modules: ModulesConfig;
  readonly external_script_timeout_ms: number;
  readonly external_script_reject_on_timeout: 0 | 1;
  readonly external_script_reject_on_failure: 0 | 1;
  readonly external_script_update_to: boolean;
  /** M4 hangup cause → SIP status (absent causes: 503). */
  readonly hangup_causes: Readonly<Record<number, number>>;
  readonly connection_points: readonly ConnectionPoint[];
  readonly termination_points: readonly TerminationPoint[];
  readonly tls?: TlsConfig;
  readonly aliases: readonly string[];

  readonly proxy: ProxyConfig;
  readonly transport: TransportConfig;
  readonly dns: DnsConfig;
  /** The file this config came from (absolute); null for the embedded defaults. */
  readonly source: string | null;
}
