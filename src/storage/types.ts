/**
 * Storage contracts: the location table (registrar/usrloc) and the subscriber table (auth_db).
 * Every backend (memory, SQLite, Redis) implements both; the conformance suite
 * (conformance.ts) runs the same cases against each. All methods are async so a backend may do
 * I/O; the memory backend resolves at once.
 */

/** One registered contact of an address-of-record (Kamailio usrloc's ucontact). */
export interface Binding {
  /** Address-of-record key: `alice`, or `alice@example.com` with use_domain. */
  readonly aor: string;
  /** Contact URI as registered (without header params). */
  readonly contact: string;
  /** Absolute expiry time, epoch milliseconds. */
  readonly expires: number;
  /** 0..1 (q = -1 in Kamailio means "unset"; stored here as the 1.0 default). */
  readonly q: number;
  readonly callId: string;
  readonly cseq: number;
  /** Path header values (RFC 3327), top first, as `<sip:...;lr>`. */
  readonly path: readonly string[];
  /** Source the REGISTER came from: `sip:IP:PORT;transport=udp` (NAT traversal). */
  readonly received?: string | undefined;
  /** Local listener it arrived on: `udp:127.0.0.1:5060`. */
  readonly socket?: string | undefined;
  readonly userAgent?: string | undefined;
  /** RFC 5626 +sip.instance value (as written, usually `"<urn:uuid:...>"`). */
  readonly instance?: string | undefined;
  readonly regId?: number | undefined;
  /**
   * Methods the contact accepts (upper case), from its `methods` parameter (RFC 3840) or the
   * REGISTER's Allow header (Kamailio usrloc's `methods`); undefined = every method.
   */
  readonly methods?: readonly string[] | undefined;
  /** Branch flags saved with the contact. */
  readonly flags: number;
  /** When the binding was last written, epoch ms. */
  readonly lastModified: number;
}

/** Changes to one AOR applied together (one REGISTER). */
export interface AorUpdate {
  /** Bindings to insert or replace, matched on (aor, contact). */
  readonly put: readonly Binding[];
  /** Contact URIs to remove. */
  readonly remove: readonly string[];
  /**
   * Kamailio save() flag 0x01: keep this change in the backend's memory cache only. SQLite (a
   * memory mirror over the database) skips the database write, so it does not survive a restart;
   * memory has nothing else; Redis has no local cache (it is the shared table) and writes it.
   */
  readonly memoryOnly?: boolean;
}

export interface LocationStore {
  /** Unexpired bindings of an AOR (any order). */
  get(aor: string, now?: number): Promise<Binding[]>;
  /** Apply one REGISTER's changes atomically for the AOR. */
  update(aor: string, change: AorUpdate): Promise<void>;
  /** Remove every binding of an AOR; returns how many were removed. */
  removeAor(aor: string): Promise<number>;
  /** Every unexpired binding (ul_dump). */
  list(now?: number): Promise<Binding[]>;
  /** Delete bindings expired at `now` and return them (the expiry timer). */
  expire(now: number): Promise<Binding[]>;
  /** Remove everything; returns how many bindings were removed. */
  flush(): Promise<number>;
}

/** A subscriber (Kamailio's subscriber table). The plain password is never stored. */
export interface Subscriber {
  readonly username: string;
  readonly domain: string;
  /** MD5(username:domain:password), hex. */
  readonly ha1: string;
  /** MD5(username@domain:domain:password), hex (Kamailio's ha1b). */
  readonly ha1b: string;
  /** SHA-256(username:domain:password), hex (RFC 7616). '' when unknown. */
  readonly ha1Sha256: string;
}

export interface SubscriberStore {
  get(username: string, domain: string): Promise<Subscriber | undefined>;
  /** Insert or replace. */
  put(s: Subscriber): Promise<void>;
  remove(username: string, domain: string): Promise<boolean>;
  list(): Promise<Subscriber[]>;
  count(): Promise<number>;
}

export interface Storage {
  /** `memory`, `sqlite` or `redis`. */
  readonly kind: string;
  readonly location: LocationStore;
  readonly subscribers: SubscriberStore;
  close(): Promise<void>;
}

/** A storage operation failed (backend down, disk full …): the registrar answers 500. */
export class StorageError extends Error {
  override readonly cause: unknown;
  constructor(message: string, cause?: unknown) {
    super(message);
    this.cause = cause;
  }
}
